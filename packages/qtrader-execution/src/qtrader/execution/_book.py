"""The book of working orders: each order with the state the venue keeps about it."""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from operator import attrgetter

from qtrader.models import Order, OrderType, TimeInForce

ZERO = Decimal(0)
ONE = Decimal(1)


class Role(StrEnum):
    """What a bracket exit is for."""

    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"


@dataclass(slots=True, eq=False)
class WorkingOrder:
    """An accepted order that has not finished, and what has happened to it so far.

    ``active_session`` is the session date of the first bar on which the order could
    trade (the first bar of its symbol processed after its decision time, or for
    market-on-open and -close orders the bar that opens or closes their session;
    ``None`` until then): DAY orders live for that session, IOC and FOK orders for that
    bar. ``filled_quantity``, ``filled_notional``, ``commission_cost`` (the sum of the
    fills' costs before the order's bounds) and ``commission_charged`` accumulate over
    fills, so that a per-order commission minimum or cap is charged once per order.
    ``sequence`` is the order's place in submission order within its book.

    ``plain``: a GTC market, limit, stop or stop-limit order outside a bracket pair,
    which needs none of the checks below (the fast path). ``moo_from`` is the first
    session date a market-on-open order may trade. A trailing stop keeps the best price
    since it became active (``trail_extreme``) and the stop order it currently amounts
    to (``trail_view``). A bracket entry keeps its current ``exits``; an exit knows its
    ``role`` and the ``sibling`` that one fill of it cancels (or reduces).
    """

    order: Order
    active_session: date | None = None
    triggered: bool = False
    filled_quantity: Decimal = ZERO
    filled_notional: Decimal = ZERO
    commission_cost: Decimal = ZERO
    commission_charged: Decimal = ZERO
    fills: int = 0
    sequence: int = 0
    plain: bool = True
    lot: Decimal = ONE
    moo_from: date | None = None
    trail_extreme: Decimal | None = None
    trail_view: Order | None = None
    exits: tuple[WorkingOrder, ...] = ()
    role: Role | None = None
    sibling: WorkingOrder | None = None

    @property
    def remaining(self) -> Decimal:
        return self.order.quantity - self.filled_quantity

    def still_working(self) -> Order:
        """The order as it works now: its quantity what is left to fill (the order itself
        until a part of it fills), so risk and strategies never count a filled part twice."""
        if not self.filled_quantity:
            return self.order
        return Order.trusted({**self.order.__dict__, "quantity": self.remaining})

    def classify(self) -> None:
        """Set ``plain`` from the order and its links."""
        order = self.order
        self.plain = (
            order.time_in_force is TimeInForce.GTC
            and order.type in _PLAIN_TYPES
            and self.sibling is None
            and not order.is_bracket
        )


_PLAIN_TYPES = frozenset((OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT))
_by_sequence = attrgetter("sequence")


class OrderBook:
    """Working orders in submission order (dicts keep insertion order), indexed by
    symbol and by strategy so that a bar or a strategy visits only its own orders."""

    def __init__(self) -> None:
        self._orders: dict[str, WorkingOrder] = {}
        self._by_symbol: dict[str, dict[str, WorkingOrder]] = {}
        self._by_strategy: dict[str, dict[str, WorkingOrder]] = {}
        self._added = 0
        self._snapshot: tuple[Order, ...] | None = None

    def add(self, order: Order, lot: Decimal = ONE) -> WorkingOrder:
        if order.id in self._orders:
            raise ValueError(f"order id {order.id!r} is already working")
        self._added += 1
        working = WorkingOrder(order, sequence=self._added, lot=lot)
        if order.time_in_force is not TimeInForce.GTC or order.type not in _PLAIN_TYPES:
            working.plain = False
        elif order.stop_loss_price is not None or order.take_profit_price is not None:
            working.plain = False  # a bracket's entry (what ``classify`` says, inlined)
        self._orders[order.id] = working
        self._by_symbol.setdefault(order.symbol, {})[order.id] = working
        self._by_strategy.setdefault(order.strategy_id, {})[order.id] = working
        self._snapshot = None
        return working

    def remove(self, order_id: str) -> WorkingOrder | None:
        working = self._orders.pop(order_id, None)
        if working is not None:
            order = working.order
            _discard(self._by_symbol, order.symbol, order_id)
            _discard(self._by_strategy, order.strategy_id, order_id)
            self._snapshot = None
        return working

    def replace(self, working: WorkingOrder, order: Order) -> None:
        """Put ``order`` (same id, symbol and strategy: split-adjusted, replaced, or an exit
        resized) in ``working``."""
        old = working.order
        if (order.id, order.symbol, order.strategy_id) != (old.id, old.symbol, old.strategy_id):
            raise ValueError(f"order {old.id!r} can only be replaced by the same order")
        working.order = order
        working.classify()
        self._snapshot = None

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._orders

    def get(self, order_id: str) -> WorkingOrder | None:
        return self._orders.get(order_id)

    def orders(self) -> tuple[Order, ...]:
        """Every working order as it works now (``still_working``), in submission order
        (kept until the book changes or an order fills in part: ``changed``)."""
        if self._snapshot is None:
            self._snapshot = tuple(w.still_working() for w in self._orders.values())
        return self._snapshot

    def changed(self) -> None:
        """An order filled in part: ``orders`` is made again when next asked."""
        self._snapshot = None

    def of_symbol(self, symbol: str) -> list[WorkingOrder]:
        return list(self._by_symbol.get(symbol, {}).values())

    def of_strategy(self, strategy_id: str) -> list[WorkingOrder]:
        return list(self._by_strategy.get(strategy_id, {}).values())

    def of_symbols(
        self, present: Container[str], listed: Sequence[str] | None = None
    ) -> list[WorkingOrder]:
        """The working orders of the symbols in ``present``, in submission order (a snapshot).

        ``listed``, the same symbols as a sequence, lets the book walk whichever is shorter:
        the symbols present or the symbols with orders. So orders of symbols without a bar
        cost nothing, however many symbols they are on.
        """
        by_symbol = self._by_symbol
        if listed is not None and len(listed) < len(by_symbol):
            groups = [group for symbol in listed if (group := by_symbol.get(symbol))]
        else:
            groups = [group for symbol, group in by_symbol.items() if symbol in present]
        if len(groups) == len(self._by_symbol):
            return list(self._orders.values())
        if len(groups) == 1:
            return list(groups[0].values())
        found = [working for group in groups for working in group.values()]
        found.sort(key=_by_sequence)
        return found


def _discard(index: dict[str, dict[str, WorkingOrder]], key: str, order_id: str) -> None:
    group = index[key]
    del group[order_id]
    if not group:
        del index[key]
