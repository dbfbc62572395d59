"""The book of working orders: each order with the state the venue keeps about it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from qtrader.models import Order

ZERO = Decimal(0)


@dataclass(slots=True)
class WorkingOrder:
    """An accepted order that has not finished, and what has happened to it so far.

    ``active_session`` is the session date of the first bar of the order's
    symbol processed after its decision time (``None`` until then): DAY
    orders live for that session. ``filled_quantity``, ``filled_notional``
    and ``commission_charged`` accumulate over fills, so that a per-order
    commission minimum or cap is charged once per order.
    """

    order: Order
    active_session: date | None = None
    triggered: bool = False
    filled_quantity: Decimal = ZERO
    filled_notional: Decimal = ZERO
    commission_charged: Decimal = ZERO

    @property
    def remaining(self) -> Decimal:
        return self.order.quantity - self.filled_quantity


class OrderBook:
    """Working orders in submission order (dicts keep insertion order)."""

    def __init__(self) -> None:
        self._orders: dict[str, WorkingOrder] = {}

    def add(self, order: Order) -> WorkingOrder:
        if order.id in self._orders:
            raise ValueError(f"order id {order.id!r} is already working")
        working = WorkingOrder(order)
        self._orders[order.id] = working
        return working

    def remove(self, order_id: str) -> WorkingOrder | None:
        return self._orders.pop(order_id, None)

    def __iter__(self) -> Iterator[WorkingOrder]:
        # A snapshot, so callers may remove orders while iterating.
        return iter(tuple(self._orders.values()))

    def __len__(self) -> int:
        return len(self._orders)

    def of_symbol(self, symbol: str) -> list[WorkingOrder]:
        return [w for w in self._orders.values() if w.order.symbol == symbol]
