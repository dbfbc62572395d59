"""``PreTradeRiskService``: sizes signals and checks every order against the policy's limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from qtrader.models import (
    Intent,
    Order,
    OrderRequest,
    PortfolioView,
    RiskDecision,
    Side,
    Signal,
)
from qtrader.risk._arith import ZERO, fmt, usable_price
from qtrader.risk._batch import Batch
from qtrader.risk.config import RiskConfig
from qtrader.risk.errors import RiskError
from qtrader.risk.limits import Limit, OrderCheck, limits_for, reference_price
from qtrader.risk.sizing import FixedQuantitySizer, SignalSizer

NO_SIZING = "no sizing configured for signals"
ALREADY_AT_TARGET = "already at target"


class PreTradeRiskService:
    """Implements ``qtrader.models.RiskService``.

    Each intent of a batch is decided in order: a ``Signal`` is sized into an
    order for the difference between its target and the strategy's position;
    the order (sized or explicit) then goes through every limit the policy
    switches on, and is passed, resized or rejected. Orders approved earlier
    in the batch count against later ones (cash and positions). Nothing is
    remembered between calls.
    """

    def __init__(self, config: RiskConfig) -> None:
        self._config = config
        self._sizer: SignalSizer = FixedQuantitySizer(config.signal_quantity)
        self._limits = limits_for(config)

    @property
    def config(self) -> RiskConfig:
        return self._config

    @property
    def limits(self) -> tuple[Limit, ...]:
        """The limits checked, in order (those the policy switches on)."""
        return self._limits

    def decide(
        self,
        intents: Sequence[Intent],
        portfolio: PortfolioView,
        prices: Mapping[str, Decimal],
        at: datetime,
        open_orders: Sequence[Order] = (),
    ) -> list[RiskDecision]:
        if at.tzinfo is None or at.utcoffset() is None:
            raise RiskError(f"decide() needs a timezone-aware timestamp, got {at.isoformat()}")
        batch = Batch(portfolio)
        for working in open_orders:
            # Still working at the venue: its cash and shares are spoken for. A resting
            # buy is valued like a new one (its limit, or the last close).
            price = prices.get(working.symbol)
            if price is not None and usable_price(price):
                batch.commit(working, reference_price(working, price))
            else:
                batch.commit(working, _no_price(working))
        decisions = []
        for index, intent in enumerate(intents):
            if not isinstance(intent, (OrderRequest, Signal)):
                raise RiskError(
                    f"intent #{index} is a {type(intent).__name__}, "
                    "expected an OrderRequest or a Signal"
                )
            decisions.append(self._decide(intent, batch, prices, at))
        return decisions

    def _decide(
        self,
        intent: Intent,
        batch: Batch,
        prices: Mapping[str, Decimal],
        at: datetime,
    ) -> RiskDecision:
        figures: dict[str, Decimal] = {}
        position = batch.strategy_position(intent.strategy_id, intent.symbol)
        figures["position_before"] = position
        if isinstance(intent, Signal):
            target = self._sizer.target(intent)
            if target is None:
                return _rejection(at, intent, NO_SIZING, figures)
            figures["target"] = target
            delta = target - position
            if delta == ZERO:
                return _decision(at, intent, None, ALREADY_AT_TARGET, figures, approved=True)
            # From a validated signal and a non-zero delta: valid by construction.
            order = OrderRequest.trusted(
                {
                    "strategy_id": intent.strategy_id,
                    "symbol": intent.symbol,
                    "side": Side.BUY if delta > ZERO else Side.SELL,
                    "quantity": abs(delta),
                    "tag": intent.tag,
                }
            )
        else:
            order = intent

        price = prices.get(order.symbol)
        if price is None or not usable_price(price):
            # Never guess a price: an order that cannot be valued cannot be checked.
            shown = "none" if price is None else str(price)
            return _rejection(
                at,
                intent,
                f"no usable price for {order.symbol} (got {shown}); cannot value the order",
                figures,
            )
        ref = reference_price(order, price)
        figures["price"] = price
        if ref != price:
            figures["reference_price"] = ref
        equity = batch.equity
        figures["equity"] = equity
        figures["quantity_requested"] = order.quantity

        resizes = []
        if self._limits:
            # What the limits see does not change while they run (the batch changes only
            # at ``commit``), except the order when one of them resizes it.
            check = OrderCheck(
                order=order,
                price=price,
                reference_price=ref,
                strategy_position=position,
                account_position=batch.account_position(order.symbol),
                cash=batch.cash,
                committed_cash=batch.committed_cash,
                equity=equity,
            )
            for limit in self._limits:
                verdict = limit.check(check)
                figures.update(verdict.figures)
                if not verdict.breached:
                    continue
                if self._config.on_breach == "reject":
                    return _rejection(at, intent, verdict.reason, figures)
                if verdict.fit <= ZERO:
                    return _rejection(at, intent, f"{verdict.reason}; no quantity fits", figures)
                resizes.append(
                    f"{verdict.reason}; resized {fmt(order.quantity)} to {fmt(verdict.fit)}"
                )
                order = order.model_copy(update={"quantity": verdict.fit})
                check = replace(check, order=order)

        batch.commit(order, ref)
        figures["quantity_approved"] = order.quantity
        figures["position_after"] = position + order.signed_quantity
        return _decision(at, intent, order, "; ".join(resizes), figures, approved=True)


def _rejection(
    at: datetime, intent: Intent, reason: str, figures: dict[str, Decimal]
) -> RiskDecision:
    """A rejection: an order that was sized and checked is approved for zero shares."""
    if "quantity_requested" in figures:
        figures["quantity_approved"] = ZERO
    return _decision(at, intent, None, reason, figures, approved=False)


def _decision(
    at: datetime,
    intent: Intent,
    order: OrderRequest | None,
    reason: str,
    figures: dict[str, Decimal],
    *,
    approved: bool,
) -> RiskDecision:
    """A decision on a validated intent, made of values valid by construction: ``at`` is
    aware (``decide`` checks it), an approved order is the intent or a positive resize
    of it, and a rejection carries no order. So it is not validated again."""
    return RiskDecision.trusted(
        {
            "timestamp": at,
            "intent": intent,
            "order": order,
            "approved": approved,
            "reason": reason,
            "figures": figures,
        }
    )


def _no_price(order: Order) -> Decimal:
    """A working order's value when its symbol has no usable close: its own limit or
    stop price; a market order without any price cannot be valued, which is an error."""
    for candidate in (order.limit_price, order.stop_price):
        if candidate is not None:
            return candidate
    raise RiskError(
        f"working order {order.id} ({order.symbol}) has no usable price to value it; "
        "pass the last close of every symbol with working orders"
    )
