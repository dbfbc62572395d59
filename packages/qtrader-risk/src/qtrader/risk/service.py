"""``PreTradeRiskService``: sizes signals and checks every order against the policy's limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from qtrader.models import (
    BarSlice,
    Intent,
    Order,
    OrderRequest,
    OrderType,
    PortfolioView,
    RiskDecision,
    Side,
    Signal,
    SignalDirection,
)
from qtrader.risk._arith import ONE, ZERO, floor_lots, fmt, usable_price
from qtrader.risk._batch import Batch, BookBatch
from qtrader.risk._watch import EquityWatch, MarketWatch
from qtrader.risk.checks import Limit, OrderCheck, describe, reference_price
from qtrader.risk.config import DEFAULT_ADV_WINDOW, RiskConfig
from qtrader.risk.errors import RiskError
from qtrader.risk.limits import limits_for
from qtrader.risk.sections import VolatilityTargetSizing
from qtrader.risk.sizing import (
    EqualWeightSizer,
    FixedQuantitySizer,
    SignalSizer,
    describe_small,
    sizer_for,
)

NO_SIZING = "no sizing configured for signals"
ALREADY_AT_TARGET = "already at target"


class PreTradeRiskService:
    """Implements ``qtrader.models.RiskService`` (and ``BarObserver``).

    Each intent of a batch is decided in order: a ``Signal`` is sized into an
    order for the difference between its target and the strategy's position;
    the order (sized or explicit) then goes through every limit the policy
    switches on, and is passed, resized or rejected. Orders approved earlier
    in the batch count against later ones (cash and positions).

    Between calls the service remembers only what its policy needs: the recent closes
    and volumes it was shown (volatility targeting, volume participation), the equity
    path (breakers) and each strategy's current signals (equal weight). ``lot_sizes``:
    the lot of each symbol (``Instrument.lot_size``); others trade in whole shares.
    """

    def __init__(self, config: RiskConfig, lot_sizes: Mapping[str, Decimal] | None = None) -> None:
        self._config = config
        self._lots = _checked_lots(lot_sizes or {})
        policy = config.sizing_policy()
        close_window = policy.window if isinstance(policy, VolatilityTargetSizing) else None
        adv_window = None
        if config.max_adv_participation is not None:
            adv_window = config.adv_window or DEFAULT_ADV_WINDOW
        self._market = None
        if close_window is not None or adv_window is not None:
            self._market = MarketWatch(close_window, adv_window)
        self._equity = None
        if config.drawdown_breaker is not None or config.daily_loss_limit is not None:
            self._equity = EquityWatch(config.drawdown_breaker, config.daily_loss_limit)
        self._sizer: SignalSizer | None = sizer_for(policy, self._market)
        self._see = self._sizer.see if isinstance(self._sizer, EqualWeightSizer) else None
        self._scale_by_strength = policy is not None and policy.scale_by_strength
        # A fixed quantity is validated whole shares: with a lot of one it needs no rounding.
        self._whole = isinstance(self._sizer, FixedQuantitySizer) and not self._scale_by_strength
        self._limits = limits_for(config, self._market, self._equity)
        self._exposures = bool(
            config.max_gross_leverage is not None
            or config.max_net_leverage is not None
            or config.max_open_positions is not None
            or config.strategy_budgets
        )
        self._book = self._exposures or config.max_adv_participation is not None
        self._minimums = config.min_quantity > ZERO or config.min_ticket_value > ZERO

    @property
    def config(self) -> RiskConfig:
        return self._config

    @property
    def limits(self) -> tuple[Limit, ...]:
        """The limits checked, in order (those the policy switches on)."""
        return self._limits

    @property
    def observes_bars(self) -> bool:
        """Whether ``observe`` keeps anything (the policy reads recent closes, volumes or
        the equity path); ``observe`` is a no-op otherwise."""
        return self._market is not None or self._equity is not None

    def observe(self, bars: BarSlice, portfolio: PortfolioView) -> None:
        """See one bar slice (warmup included), after the portfolio is marked at its
        closes: the closes and volumes fill the rolling windows, the equity moves the
        peak and the session's start. Without it, only the equity of ``decide`` calls is
        seen and windows stay empty (the signals and orders that need them are rejected).
        """
        if self._market is not None:
            self._market.observe(bars)
        if self._equity is not None:
            self._equity.update(bars.timestamp, portfolio.equity)

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
        batch = BookBatch(portfolio, prices, self._exposures) if self._book else Batch(portfolio)
        if self._equity is not None:
            self._equity.update(at, batch.equity)
        if self._market is not None:
            self._market.begin(at)
        for working in _one_leg_per_pair(open_orders):
            # Still working at the venue: its cash and shares are spoken for. A resting
            # buy is valued like a new one (its limit, or the last close).
            price = prices.get(working.symbol)
            if price is not None and usable_price(price):
                batch.commit_working(working, reference_price(working, price))
            else:
                batch.commit_working(working, _no_price(working))
        if self._see is not None:
            self._see(intents)
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
        symbol = intent.symbol
        position = batch.strategy_position(intent.strategy_id, symbol)
        figures["position_before"] = position
        lot = self._lots.get(symbol, ONE) if self._lots else ONE
        if isinstance(intent, Signal):
            flat = intent.direction is SignalDirection.FLAT
            start = batch.sizing_position(intent.strategy_id, symbol, flat)
            if start != position:
                figures["position_sized_from"] = start
            sized = self._size(intent, start, lot, batch, prices, at, figures)
            if isinstance(sized, RiskDecision):
                return sized
            order = sized
        else:
            order = intent

        price = prices.get(symbol)
        if price is None or not usable_price(price):
            return _no_usable_price(at, intent, price, figures)
        ref = reference_price(order, price)
        figures["price"] = price
        if ref != price:
            figures["reference_price"] = ref
        equity = batch.equity
        figures["equity"] = equity
        figures["quantity_requested"] = order.quantity
        if self._minimums and order is not intent and figures["target"] != ZERO:
            # A sized order too small to be worth sending: close enough to the target.
            small = self._below_minimum(order, ref)
            if small is not None:
                figures["quantity_approved"] = ZERO
                reason = f"{small}; nothing ordered"
                return _decision(at, intent, None, reason, figures, approved=True)

        resizes = []
        if self._limits:
            # What the limits see does not change while they run (the batch changes only
            # at ``commit``), except the order when one of them resizes it.
            check = OrderCheck(
                order=order,
                price=price,
                reference_price=ref,
                strategy_position=position,
                strategy_floor=batch.short_floor(intent.strategy_id, symbol),
                strategy_ceiling=batch.long_ceiling(intent.strategy_id, symbol),
                account_position=batch.account_position(symbol),
                cash=batch.cash,
                committed_cash=batch.committed_cash,
                equity=equity,
                lot=lot,
                book=batch if isinstance(batch, BookBatch) else None,
            )
            on_breach = self._config.on_breach
            for limit in self._limits:
                verdict = limit.check(check)
                figures.update(verdict.figures)
                if not verdict.breached:
                    continue
                if on_breach == "reject" and not verdict.exits_pass:
                    return _rejection(at, intent, verdict.reason, figures)
                if verdict.fit <= ZERO:
                    # (an order with no exit part blocked by a breaker has nothing to cut to)
                    why = (
                        verdict.reason
                        if verdict.exits_pass
                        else f"{verdict.reason}; no quantity fits"
                    )
                    return _rejection(at, intent, why, figures)
                resizes.append(
                    f"{verdict.reason}; resized {fmt(order.quantity)} to {fmt(verdict.fit)}"
                )
                order = order.model_copy(update={"quantity": verdict.fit})
                check = replace(check, order=order)
            if resizes and self._minimums and position + order.signed_quantity != ZERO:
                small = self._below_minimum(order, ref)
                if small is not None:
                    return _rejection(at, intent, "; ".join([*resizes, small]), figures)

        batch.commit(order, ref)
        figures["quantity_approved"] = order.quantity
        figures["position_after"] = position + order.signed_quantity
        return _decision(at, intent, order, "; ".join(resizes), figures, approved=True)

    def _size(
        self,
        signal: Signal,
        position: Decimal,
        lot: Decimal,
        batch: Batch,
        prices: Mapping[str, Decimal],
        at: datetime,
        figures: dict[str, Decimal],
    ) -> OrderRequest | RiskDecision:
        """The order that takes the strategy from ``position`` to the signal's target, or
        the decision when there is none to send."""
        sizing_price = None
        if signal.direction is SignalDirection.FLAT:
            target = ZERO
        else:
            sizer = self._sizer
            if sizer is None:
                return _rejection(at, signal, NO_SIZING, figures)
            if sizer.needs_price:
                sizing_price = prices.get(signal.symbol)
                if sizing_price is None or not usable_price(sizing_price):
                    return _no_usable_price(at, signal, sizing_price, figures)
            size = sizer.size(signal, sizing_price, batch.equity, figures)
            if isinstance(size, str):
                return _rejection(at, signal, size, figures)
            if self._scale_by_strength:
                size *= Decimal(repr(signal.strength))
            quantity = size if self._whole and lot is ONE else floor_lots(size, lot)
            if quantity == ZERO:
                reason = describe_small(sizer.name, size, signal.symbol, lot)
                return _rejection(at, signal, reason, figures)
            target = quantity if signal.direction is SignalDirection.LONG else -quantity
        figures["target"] = target
        delta = target - position
        if target != ZERO and delta % lot != ZERO:
            # Whole lots, never past the target (getting flat closes every share).
            change = floor_lots(abs(delta), lot)
            delta = change if delta > ZERO else -change
        if delta == ZERO:
            return _decision(at, signal, None, ALREADY_AT_TARGET, figures, approved=True)
        values: dict[str, Any] = {
            "strategy_id": signal.strategy_id,
            "symbol": signal.symbol,
            "side": Side.BUY if delta > ZERO else Side.SELL,
            "quantity": abs(delta),
            "tag": signal.tag,
        }
        if sizing_price is not None:
            values["sizing_price"] = sizing_price  # for the venue's fill-price guard
        # From a validated signal and a non-zero delta: valid by construction.
        return OrderRequest.trusted(values)

    def _below_minimum(self, order: OrderRequest, ref: Decimal) -> str | None:
        config = self._config
        if order.quantity < config.min_quantity:
            return (
                f"min_quantity: {describe(order)} is below the minimum quantity "
                f"{fmt(config.min_quantity)}"
            )
        value = order.quantity * ref
        if value < config.min_ticket_value:
            return (
                f"min_ticket_value: {describe(order)} at {fmt(ref)} is worth {fmt(value)}, "
                f"below the minimum ticket {fmt(config.min_ticket_value)}"
            )
        return None


def _checked_lots(lots: Mapping[str, Decimal]) -> dict[str, Decimal]:
    for symbol, lot in lots.items():
        if not isinstance(lot, Decimal) or not lot.is_finite() or lot <= ZERO:
            raise RiskError(f"the lot size of {symbol} must be a Decimal above 0, got {lot!r}")
    return {symbol: lot for symbol, lot in lots.items() if lot != ONE}


def _no_usable_price(
    at: datetime, intent: Intent, price: Decimal | None, figures: dict[str, Decimal]
) -> RiskDecision:
    # Never guess a price: an order that cannot be valued cannot be checked.
    shown = "none" if price is None else str(price)
    return _rejection(
        at,
        intent,
        f"no usable price for {intent.symbol} (got {shown}); cannot value the order",
        figures,
    )


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


def _one_leg_per_pair(open_orders: Sequence[Order]) -> Sequence[Order]:
    """The working orders that can all fill: of the two exits of one bracket (one cancels
    the other, so only one of them trades), the take-profit is left out when its
    stop-loss is working too; counting both would sell (or buy back) the position twice."""
    stops = {
        o.parent_id
        for o in open_orders
        if o.parent_id is not None and o.type is not OrderType.LIMIT
    }
    if not stops:
        return open_orders
    return [o for o in open_orders if not (o.parent_id in stops and o.type is OrderType.LIMIT)]
