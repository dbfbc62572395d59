"""What a limit sees (``OrderCheck``), what it answers (``LimitVerdict``), and helpers
shared by the limits.

Every limit has the property that a smaller order of the same side is never
*more* in breach, so the service can run them one after the other, each on the
order the previous one resized.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from qtrader.models import OrderRequest, Side
from qtrader.risk._arith import ONE, ZERO, fmt, lots_within


class PortfolioBook(Protocol):
    """Portfolio-wide figures as they will be if every order approved so far in the call
    fills (orders still working included), valued at the prices of the call."""

    @property
    def gross_exposure(self) -> Decimal:
        """Sum of |position| x price over every symbol."""
        ...

    @property
    def net_exposure(self) -> Decimal:
        """Sum of position x price over every symbol."""
        ...

    @property
    def open_positions(self) -> int:
        """Symbols held, or that an order working or approved may open (only one approved
        at market frees a place by closing a position: a resting one may never fill)."""
        ...

    def counts_open(self, symbol: str) -> bool:
        """Whether ``symbol`` is one of ``open_positions``."""
        ...

    def strategy_gross(self, strategy_id: str) -> Decimal:
        """Sum of |the strategy's position| x price over every symbol."""
        ...

    def traded(self, symbol: str) -> Decimal:
        """Quantity of ``symbol`` already working or approved in this call, either side."""
        ...


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
    lot: Decimal = ONE
    """The symbol's lot size: resized quantities are whole lots."""
    book: PortfolioBook | None = None
    """Portfolio-wide figures, given when a limit of the policy needs them."""
    strategy_floor: Decimal | None = None
    """``strategy_position`` less the strategy's buys that may never fill (still working,
    or approved in the call at a limit or stop): what a sale may not take below zero, and
    the long a sale may exit. ``None``: ``strategy_position``."""
    strategy_ceiling: Decimal | None = None
    """``strategy_position`` plus the strategy's sells that may never fill: the short a
    buy may exit. ``None``: ``strategy_position``."""


@dataclass(frozen=True, slots=True)
class LimitVerdict:
    """Whether an order breaks a limit and the largest quantity that would not."""

    breached: bool
    fit: Decimal
    """Largest quantity of the same side that respects the limit (0 if none does)."""
    reason: str = ""
    figures: Mapping[str, Decimal] = field(default_factory=dict)
    exits_pass: bool = False
    """``fit`` is the part of the order that only reduces a position, and is approved
    even when the policy rejects breaches (a breaker never blocks a way out)."""


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


def describe(order: OrderRequest) -> str:
    return f"{order.side.value} {fmt(order.quantity)} {order.symbol}"


def shrinks(before: Decimal, after: Decimal) -> bool:
    """Whether a position goes from ``before`` to ``after`` towards flat without crossing."""
    return (before > ZERO and ZERO <= after <= before) or (
        before < ZERO and before <= after <= ZERO
    )


def exit_part(c: OrderCheck) -> Decimal:
    """How much of the order only reduces its strategy's position towards flat: the
    position it will hold whatever the orders that may never fill do (a resting buy is
    no long for a sale to exit, a resting sell no short for a buy to cover)."""
    order = c.order
    if order.side is Side.SELL:
        held = c.strategy_position if c.strategy_floor is None else c.strategy_floor
        return min(order.quantity, held) if held > ZERO else ZERO
    held = c.strategy_position if c.strategy_ceiling is None else c.strategy_ceiling
    return min(order.quantity, -held) if held < ZERO else ZERO


def fit_value(limit_value: Decimal, other: Decimal, c: OrderCheck, before: Decimal) -> Decimal:
    """The largest quantity of ``c.order`` (whole lots, at most as asked) such that
    ``other + |before + signed quantity| x price <= limit_value``, or that only takes
    ``before`` towards flat (which always passes, however far above the limit).

    On the side the order moves to (a breaching order cannot end on the other side
    within the limit): |before + sign x q| = sign x before + q, so
    q x price <= limit_value - other - sign x before x price. When the other symbols
    alone leave no room, that bound falls short of flat: flat is then the most.
    """
    order = c.order
    room = limit_value - other - order.side.sign * before * c.price
    to_flat = min(order.quantity, abs(before)) if order.side.sign * before < 0 else ZERO
    return max(min(lots_within(room, c.price, c.lot), order.quantity), to_flat)
