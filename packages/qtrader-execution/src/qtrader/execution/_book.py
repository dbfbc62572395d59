"""The book of working orders: each order with the state the venue keeps about it."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import attrgetter

from qtrader.models import Order

ZERO = Decimal(0)


@dataclass(slots=True)
class WorkingOrder:
    """An accepted order that has not finished, and what has happened to it so far.

    ``active_session`` is the session date of the first bar of the order's
    symbol processed after its decision time (``None`` until then): DAY
    orders live for that session. ``filled_quantity``, ``filled_notional``
    and ``commission_charged`` accumulate over fills, so that a per-order
    commission minimum or cap is charged once per order. ``sequence`` is the
    order's place in submission order within its book.
    """

    order: Order
    active_session: date | None = None
    triggered: bool = False
    filled_quantity: Decimal = ZERO
    filled_notional: Decimal = ZERO
    commission_charged: Decimal = ZERO
    sequence: int = 0

    @property
    def remaining(self) -> Decimal:
        return self.order.quantity - self.filled_quantity


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

    def add(self, order: Order) -> WorkingOrder:
        if order.id in self._orders:
            raise ValueError(f"order id {order.id!r} is already working")
        self._added += 1
        working = WorkingOrder(order, sequence=self._added)
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
        """Put ``order`` (same id, symbol and strategy, e.g. split-adjusted) in ``working``."""
        old = working.order
        if (order.id, order.symbol, order.strategy_id) != (old.id, old.symbol, old.strategy_id):
            raise ValueError(f"order {old.id!r} can only be replaced by the same order")
        working.order = order
        self._snapshot = None

    def __len__(self) -> int:
        return len(self._orders)

    def orders(self) -> tuple[Order, ...]:
        """Every working order, in submission order (kept until the book changes)."""
        if self._snapshot is None:
            self._snapshot = tuple(w.order for w in self._orders.values())
        return self._snapshot

    def of_symbol(self, symbol: str) -> list[WorkingOrder]:
        return list(self._by_symbol.get(symbol, {}).values())

    def of_strategy(self, strategy_id: str) -> list[WorkingOrder]:
        return list(self._by_strategy.get(strategy_id, {}).values())

    def of_symbols(self, present: Container[str]) -> list[WorkingOrder]:
        """The working orders of the symbols in ``present``, in submission order (a snapshot)."""
        groups = [group for symbol, group in self._by_symbol.items() if symbol in present]
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
