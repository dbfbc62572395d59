"""Every refusal of a run (by a strategy's context, by risk or by the venue), in time order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from qtrader.models import (
    BacktestResult,
    Order,
    OrderRejection,
    OrderStatus,
    OrderUpdate,
    RiskDecision,
)


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
_DONE = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED})
"""An order's last update, but for a refusal."""


def refusals(result: BacktestResult) -> tuple[Refusal, ...]:
    """Every refusal of a run, in time order (at one timestamp: the contexts', then
    risk's, then the venue's). A context's refusal gives its problem alone (the other
    fields say where); risk's and the venue's give their reasons."""
    collector = RefusalCollector()
    collector.add(result.rejections, result.order_updates, result.orders, result.decisions)
    return collector.refusals()


class RefusalCollector:
    """``refusals`` of a run's records a part at a time (a run that streams its records
    keeps only its refusals). A part holds every record of its timestamps, so the
    refusals of all parts, sorted, are those of the whole run."""

    def __init__(self, remember_orders: bool = False) -> None:
        """``remember_orders``: keep the strategy and symbol of each order seen until it is
        filled, cancelled, expired or rejected, so a venue's refusal of an earlier part's
        order is placed without ``place`` (for a run whose orders are not written
        anywhere); memory grows with the orders working, not with the run."""
        self._found: list[Refusal] = []
        # venue refusals of an order of an earlier part: index in ``_found`` by order id
        self._unplaced: dict[str, list[int]] = {}
        self._orders: dict[str, tuple[str, str]] | None = {} if remember_orders else None

    def add(
        self,
        rejections: Iterable[OrderRejection],
        updates: Iterable[OrderUpdate],
        orders: Iterable[Order],
        decisions: Iterable[RiskDecision],
    ) -> None:
        """The refusals among the next records (each kind in the order it was recorded)."""
        ours = {r.id: r for r in rejections}
        by_id: dict[str, Order] | None = None
        found = self._found
        remembered = self._orders
        if remembered is not None:
            orders = tuple(orders)
            remembered.update((o.id, (o.strategy_id, o.symbol)) for o in orders)
        for update in updates:
            if update.status is not OrderStatus.REJECTED:
                if remembered is not None and update.status in _DONE:
                    remembered.pop(update.order_id, None)
                continue
            mine = ours.get(update.order_id)
            if mine is not None:
                found.append(
                    Refusal(
                        update.timestamp, mine.strategy_id, mine.symbol, "context", mine.problem
                    )
                )
                continue
            if by_id is None:
                by_id = {o.id: o for o in orders}
            order = by_id.get(update.order_id)
            known = None if remembered is None else remembered.pop(update.order_id, None)
            if order is not None:
                strategy, symbol = order.strategy_id, order.symbol
            elif known is not None:
                strategy, symbol = known
            else:
                self._unplaced.setdefault(update.order_id, []).append(len(found))
                strategy, symbol = "", ""
            found.append(Refusal(update.timestamp, strategy, symbol, "venue", update.reason))
        found.extend(
            Refusal(
                d.timestamp,
                d.intent.strategy_id,
                d.intent.symbol,
                "risk",
                d.reason if d.replaces is None else f"replace of {d.replaces}: {d.reason}",
            )
            for d in decisions
            if not d.approved
        )

    @property
    def unplaced(self) -> frozenset[str]:
        """The ids of the orders refused by the venue that were not among the records
        given with their refusal (an order of an earlier part, for ``place``)."""
        return frozenset(self._unplaced)

    def place(self, order_id: str, strategy_id: str, symbol: str) -> None:
        """Name the strategy and symbol of an ``unplaced`` order's refusals."""
        for index in self._unplaced.pop(order_id, ()):
            refusal = self._found[index]
            self._found[index] = Refusal(
                refusal.timestamp, strategy_id, symbol, refusal.by, refusal.reason
            )

    def refusals(self) -> tuple[Refusal, ...]:
        return tuple(
            sorted(
                self._found, key=lambda refusal: (refusal.timestamp, _REFUSERS.index(refusal.by))
            )
        )
