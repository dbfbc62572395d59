"""What a run produced, recorded as the engine goes, and round trips derived from fills."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from qtrader.models import (
    Fill,
    Order,
    OrderRejection,
    OrderStatus,
    OrderUpdate,
    PortfolioState,
    RiskDecision,
)

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class EquityRow:
    timestamp: datetime
    cash: Decimal
    equity: Decimal


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """A position in one symbol by one strategy, from flat back to flat.

    Prices are quantity-weighted averages of the entry and exit fills; ``pnl``
    is net of every commission paid on those fills.
    """

    strategy_id: str
    symbol: str
    direction: str
    quantity: Decimal
    entry_time: datetime
    entry_price: Decimal
    exit_time: datetime
    exit_price: Decimal
    pnl: Decimal

    @property
    def holding_period(self) -> str:
        return str(self.exit_time - self.entry_time)


@dataclass(frozen=True)
class BacktestResult:
    """What a run produced. ``rejections`` are the requests the strategies' contexts
    refused (each also a ``rejected`` update in ``order_updates``); ``orders`` are the
    orders the venue accepted or placed."""

    fills: tuple[Fill, ...]
    orders: tuple[Order, ...]
    order_updates: tuple[OrderUpdate, ...]
    decisions: tuple[RiskDecision, ...]
    equity: tuple[EquityRow, ...]
    final_state: PortfolioState
    open_orders: tuple[Order, ...]
    trades: tuple[RoundTrip, ...] = field(default=())
    rejections: tuple[OrderRejection, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Refusal:
    """One order, target or signal of a run that was refused: by the strategy's context
    (``"context"``: a bad request), by ``"risk"`` or by the ``"venue"``."""

    timestamp: datetime
    strategy_id: str
    symbol: str
    by: str
    reason: str


_REFUSERS = ("context", "risk", "venue")  # in the order they see a request


def refusals(result: BacktestResult) -> tuple[Refusal, ...]:
    """Every refusal of a run, in time order (at one timestamp: the contexts', then
    risk's, then the venue's). A context's refusal gives its problem alone (the other
    fields say where); risk's and the venue's give their reasons."""
    ours = {r.id: r for r in result.rejections}
    orders: dict[str, Order] | None = None
    found = []
    for update in result.order_updates:
        if update.status is not OrderStatus.REJECTED:
            continue
        mine = ours.get(update.order_id)
        if mine is not None:
            found.append(
                Refusal(update.timestamp, mine.strategy_id, mine.symbol, "context", mine.problem)
            )
            continue
        if orders is None:
            orders = {o.id: o for o in result.orders}
        order = orders.get(update.order_id)
        strategy, symbol = ("", "") if order is None else (order.strategy_id, order.symbol)
        found.append(Refusal(update.timestamp, strategy, symbol, "venue", update.reason))
    found.extend(
        Refusal(d.timestamp, d.intent.strategy_id, d.intent.symbol, "risk", d.reason)
        for d in result.decisions
        if not d.approved
    )
    found.sort(key=lambda refusal: (refusal.timestamp, _REFUSERS.index(refusal.by)))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class SplitEvent:
    """A split as the engine applied it, in order with the fills (for round trips)."""

    symbol: str
    ratio: Decimal


class ResultRecorder:
    def __init__(self) -> None:
        self._fills: list[Fill] = []
        # Fills and splits in the order the engine applied them: a split at T comes before
        # T's fills although those are stamped at T's open, earlier than T.
        self._events: list[Fill | SplitEvent] = []
        self._orders: list[Order] = []
        self._updates: list[OrderUpdate] = []
        self._decisions: list[RiskDecision] = []
        self._equity: list[EquityRow] = []
        self._rejections: list[OrderRejection] = []

    def fill(self, fill: Fill) -> None:
        self._fills.append(fill)
        self._events.append(fill)

    def split(self, symbol: str, ratio: Decimal) -> None:
        self._events.append(SplitEvent(symbol, ratio))

    def order(self, order: Order) -> None:
        self._orders.append(order)

    def updates(self, updates: Iterable[OrderUpdate]) -> None:
        self._updates.extend(updates)

    def rejection(self, rejection: OrderRejection, at: datetime) -> None:
        """A request the strategy's context refused at ``at``: kept, and recorded as a
        ``rejected`` update of its id."""
        self._rejections.append(rejection)
        self._updates.append(
            OrderUpdate(
                order_id=rejection.id,
                status=OrderStatus.REJECTED,
                timestamp=at,
                reason=rejection.reason,
            )
        )

    def decision(self, decision: RiskDecision) -> None:
        self._decisions.append(decision)

    def equity(self, row: EquityRow) -> None:
        self._equity.append(row)

    def result(self, final_state: PortfolioState, open_orders: Sequence[Order]) -> BacktestResult:
        return BacktestResult(
            fills=tuple(self._fills),
            orders=tuple(self._orders),
            order_updates=tuple(self._updates),
            decisions=tuple(self._decisions),
            equity=tuple(self._equity),
            final_state=final_state,
            open_orders=tuple(open_orders),
            trades=round_trips(self._events),
            rejections=tuple(self._rejections),
        )


@dataclass(slots=True)
class _OpenTrip:
    direction: int
    entry_time: datetime
    position: Decimal = ZERO
    entry_qty: Decimal = ZERO
    entry_value: Decimal = ZERO
    exit_qty: Decimal = ZERO
    exit_value: Decimal = ZERO
    cash: Decimal = ZERO


def round_trips(events: Iterable[Fill | SplitEvent]) -> tuple[RoundTrip, ...]:
    """Round trips per (strategy, symbol), in the order they close.

    A fill that flips the position closes the trip with the part that reaches
    flat and opens a new one with the rest; its commission is split pro rata.
    A split multiplies the open trips of its symbol by its ratio (shares, not money:
    the entry price per new share is divided by it), so buying 100 at 500, a 4-for-1
    split and selling 400 at 129 is one trip of +1,600. A fraction of a share a split
    leaves (paid as cash in lieu by the portfolio) is dropped from the trip. Dividends
    are not trade P&L. Trips still open at the end are not round trips and are left out.
    """
    open_trips: dict[tuple[str, str], _OpenTrip] = {}
    closed: list[RoundTrip] = []
    for fill in events:
        if isinstance(fill, SplitEvent):
            _apply_split(open_trips, fill)
            continue
        key = (fill.strategy_id, fill.symbol)
        quantity, price, commission = fill.quantity, fill.price, fill.commission
        sign = fill.side.sign
        remaining = quantity
        while remaining > ZERO:
            trip = open_trips.get(key)
            if trip is None:
                trip = open_trips[key] = _OpenTrip(direction=sign, entry_time=fill.timestamp)
            if sign == trip.direction:
                qty = remaining
                trip.entry_qty += qty
                trip.entry_value += qty * price
            else:
                qty = min(remaining, abs(trip.position))
                trip.exit_qty += qty
                trip.exit_value += qty * price
            trip.position += sign * qty
            trip.cash += -sign * qty * price - commission * qty / quantity
            remaining -= qty
            if trip.position == ZERO:
                del open_trips[key]
                closed.append(
                    RoundTrip(
                        strategy_id=fill.strategy_id,
                        symbol=fill.symbol,
                        direction="long" if trip.direction > 0 else "short",
                        quantity=trip.entry_qty,
                        entry_time=trip.entry_time,
                        entry_price=trip.entry_value / trip.entry_qty,
                        exit_time=fill.timestamp,
                        exit_price=trip.exit_value / trip.exit_qty,
                        pnl=trip.cash,
                    )
                )
    return tuple(closed)


def _apply_split(open_trips: dict[tuple[str, str], _OpenTrip], split: SplitEvent) -> None:
    for (_, symbol), trip in list(open_trips.items()):
        if symbol != split.symbol:
            continue
        ratio = split.ratio
        trip.entry_qty *= ratio
        trip.exit_qty *= ratio
        position = trip.position * ratio
        whole = position.to_integral_value(rounding=ROUND_DOWN)
        trip.position = whole  # the fraction is paid in cash by the portfolio, not traded
