"""Pre-trade limits. Each looks at one order and says whether it fits, and how much would.

A limit never decides between rejecting and resizing; the service does that
from ``RiskConfig.on_breach``. Every limit here has the property that a
smaller order of the same side is never *more* in breach, so the service can
run them one after the other, each on the order the previous one resized.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from qtrader.models import OrderRequest, Side
from qtrader.risk._arith import ZERO, fmt, lots_within
from qtrader.risk.config import RiskConfig


@dataclass(frozen=True, slots=True)
class OrderCheck:
    """One order as a limit sees it, with the orders approved earlier in the same batch."""

    order: OrderRequest
    price: Decimal
    """Latest close of the symbol: what positions are valued at."""
    reference_price: Decimal
    """What one share of a buy is assumed to cost (see ``reference_price``)."""
    strategy_position: Decimal
    """Signed position of the order's strategy, including earlier approvals of the batch."""
    account_position: Decimal
    """Signed position of the whole portfolio, including earlier approvals of the batch."""
    cash: Decimal
    committed_cash: Decimal
    """Estimated cost of the buys approved earlier in the same batch."""
    equity: Decimal


@dataclass(frozen=True, slots=True)
class LimitVerdict:
    """Whether an order breaks a limit and the largest quantity that would not."""

    breached: bool
    fit: Decimal
    """Largest quantity of the same side that respects the limit (0 if none does)."""
    reason: str = ""
    figures: Mapping[str, Decimal] = field(default_factory=dict)


class Limit(Protocol):
    """A pre-trade check of one order."""

    @property
    def name(self) -> str: ...

    def check(self, c: OrderCheck) -> LimitVerdict: ...


def reference_price(order: OrderRequest, price: Decimal) -> Decimal:
    """The price a buy's cost is estimated at: the worst the order itself allows.

    A limit (or stop-limit) order never pays more than its limit. A stop buy
    triggers at or above its stop, so it costs at least the stop even when
    the last close is lower. Anything else is valued at the last close.
    """
    if order.limit_price is not None:
        return order.limit_price
    if order.stop_price is not None and order.side is Side.BUY:
        return max(order.stop_price, price)
    return price


def _describe(order: OrderRequest) -> str:
    return f"{order.side.value} {fmt(order.quantity)} {order.symbol}"


class ShortSaleLimit:
    """No strategy may sell below flat in a symbol (used when ``allow_short`` is false).

    Judged per strategy: one strategy's long does not cover another's short.
    """

    name = "allow_short"

    def check(self, c: OrderCheck) -> LimitVerdict:
        order = c.order
        if order.side is Side.BUY:
            return LimitVerdict(breached=False, fit=order.quantity)
        after = c.strategy_position - order.quantity
        if after >= ZERO:
            return LimitVerdict(breached=False, fit=order.quantity)
        return LimitVerdict(
            breached=True,
            # Closing the long exactly is the most that stays within the limit.
            fit=max(c.strategy_position, ZERO),
            reason=(
                f"allow_short is false: {_describe(order)} would take strategy "
                f"{order.strategy_id!r} from {fmt(c.strategy_position)} to {fmt(after)}"
            ),
        )


class MaxPositionLimit:
    """The absolute value of the portfolio's position in one symbol stays within
    ``fraction`` x equity.

    Judged on the whole portfolio's position (all strategies), valued at the
    last close, because concentration is a property of the account. An order
    that only shrinks a position (towards flat, without crossing it) always
    passes, even when the position is above the limit after a price rise:
    refusing to reduce risk would be perverse.
    """

    name = "max_position_pct"

    def __init__(self, fraction: Decimal) -> None:
        self._fraction = fraction

    def check(self, c: OrderCheck) -> LimitVerdict:
        order = c.order
        before = c.account_position
        after = before + order.signed_quantity
        # A portfolio with no equity may hold no position at all.
        limit_value = self._fraction * max(c.equity, ZERO)
        value_after = abs(after) * c.price
        figures = {
            "account_position_before": before,
            "position_value_after": value_after,
            "position_limit": limit_value,
        }
        shrinks = (before > ZERO and ZERO <= after <= before) or (
            before < ZERO and before <= after <= ZERO
        )
        if shrinks or value_after <= limit_value:
            return LimitVerdict(breached=False, fit=order.quantity, figures=figures)
        sign = order.side.sign
        # |before + sign*q| x price <= limit_value  <=>  q x price <= room, on the side the
        # order moves to (a breaching order cannot end on the other side within the limit).
        room = limit_value - sign * before * c.price
        fit = min(lots_within(room, c.price), order.quantity)
        return LimitVerdict(
            breached=True,
            fit=fit,
            reason=(
                f"max_position_pct: {_describe(order)} takes the position from "
                f"{fmt(before)} to {fmt(after)}, worth {fmt(value_after)} at {fmt(c.price)}, "
                f"above {fmt(self._fraction)} x equity {fmt(c.equity)} = {fmt(limit_value)}"
            ),
            figures=figures,
        )


class CashLimit:
    """Buys spend no more than the cash there is (used when ``allow_margin`` is false).

    budget = cash - cost of buys approved earlier in the batch - buffer x equity.
    Sells count for nothing: their proceeds arrive only when they fill, and
    short-sale proceeds are not money to spend.
    """

    name = "allow_margin"

    def __init__(self, buffer: Decimal) -> None:
        self._buffer = buffer

    def check(self, c: OrderCheck) -> LimitVerdict:
        order = c.order
        if order.side is Side.SELL:
            return LimitVerdict(breached=False, fit=order.quantity)
        cost = order.quantity * c.reference_price
        buffer = self._buffer * max(c.equity, ZERO)
        budget = c.cash - c.committed_cash - buffer
        figures = {
            "cash": c.cash,
            "committed_cash": c.committed_cash,
            "buffer_amount": buffer,
            "budget": budget,
            "cost": cost,
        }
        if cost <= budget:
            return LimitVerdict(breached=False, fit=order.quantity, figures=figures)
        fit = min(lots_within(budget, c.reference_price), order.quantity)
        return LimitVerdict(
            breached=True,
            fit=fit,
            reason=(
                f"allow_margin is false: {_describe(order)} at {fmt(c.reference_price)} "
                f"costs {fmt(cost)}, above the budget {fmt(budget)} (cash {fmt(c.cash)} - "
                f"committed {fmt(c.committed_cash)} - buffer {fmt(buffer)})"
            ),
            figures=figures,
        )


def limits_for(config: RiskConfig) -> tuple[Limit, ...]:
    """The limits a policy switches on, in the order they are checked.

    Direction first (shorting), then size (concentration), then money (cash):
    each later limit sees the order the earlier ones may have cut down.
    """
    limits: list[Limit] = []
    if not config.allow_short:
        limits.append(ShortSaleLimit())
    if config.max_position_pct is not None:
        limits.append(MaxPositionLimit(config.max_position_pct))
    if not config.allow_margin:
        limits.append(CashLimit(config.cash_buffer))
    return tuple(limits)
