"""Open lots, and the rules that pick which lots a trade closes (the records of closed lots
are ``qtrader.models.ClosedLot``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from qtrader.portfolio._arith import QUOTIENT_QUANTUM
from qtrader.portfolio.config import LotMatching


@dataclass(slots=True)
class OpenLot:
    """A mutable open lot inside the book (snapshots expose frozen ``Lot`` copies).

    ``cost`` is the signed cost basis (``quantity x entry price``; negative for
    a short). We keep the cost rather than the price so that a split never
    touches it and partial closes conserve it exactly: each closed piece takes
    its pro-rata share and the last piece takes whatever is left.
    ``commission`` is the part of the opening fill's commission not yet
    allocated to a closed piece (for trade-level reporting only; see README).
    ``sequence`` is the ledger sequence of the opening fill: the FIFO order.
    """

    strategy_id: str
    symbol: str
    quantity: Decimal
    cost: Decimal
    commission: Decimal
    opened_at: datetime
    fill_id: str
    sequence: int

    @property
    def price(self) -> Decimal:
        """Entry price per share (after splits: the split-adjusted entry price)."""
        return self.cost / self.quantity


class LotMatcher(Protocol):
    """Orders a position's open lots (all on one side) in the order they are closed."""

    name: str

    def closing_order(self, lots: Sequence[OpenLot]) -> list[OpenLot]: ...


class FifoLotMatcher:
    """First in, first out: the oldest lot is closed first."""

    name = "fifo"

    def closing_order(self, lots: Sequence[OpenLot]) -> list[OpenLot]:
        return sorted(lots, key=lambda lot: lot.sequence)


class LifoLotMatcher:
    """Last in, first out: the newest lot is closed first."""

    name = "lifo"

    def closing_order(self, lots: Sequence[OpenLot]) -> list[OpenLot]:
        return sorted(lots, key=lambda lot: lot.sequence, reverse=True)


class HighestCostLotMatcher:
    """Closes first the lot whose closing realizes the least gain (ties: oldest first).

    For a long that is the highest entry price, the usual tax-lot meaning of
    "highest cost". For a short the same intent means the *lowest* entry price
    (a short sold cheaply gains least when bought back).
    """

    name = "highest_cost"

    def closing_order(self, lots: Sequence[OpenLot]) -> list[OpenLot]:
        if not lots:
            return []
        # All lots of one book are on the same side (a trade closes before it opens). Prices
        # compare at the step quotients are rounded to: two lots bought at one price and
        # split alike may differ in the last digit of cost / quantity, and the oldest first
        # must still decide between them.
        long_side = lots[0].quantity > 0
        sign = -1 if long_side else 1
        return sorted(
            lots, key=lambda lot: (sign * lot.price.quantize(QUOTIENT_QUANTUM), lot.sequence)
        )


class SpecificLotMatcher:
    """Closes the lots named by their ids first, in the order named; then the rest in the
    order of ``fallback`` (the configured rule), if the named lots are not enough.

    A lot's id is the id of the fill that opened it (``Lot.fill_id``; one fill opens at
    most one lot of a strategy and symbol). A named lot that is no longer open (an
    earlier fill of the same order, or another order, closed it) is passed over.
    """

    name = "specific"

    def __init__(self, lot_ids: Sequence[str], fallback: LotMatcher) -> None:
        self.lot_ids = tuple(lot_ids)
        self.fallback = fallback

    def closing_order(self, lots: Sequence[OpenLot]) -> list[OpenLot]:
        by_id = {lot.fill_id: lot for lot in lots}
        named = [by_id[lot_id] for lot_id in self.lot_ids if lot_id in by_id]
        chosen = {id(lot) for lot in named}
        rest = [lot for lot in self.fallback.closing_order(lots) if id(lot) not in chosen]
        return named + rest


def lot_matcher(name: LotMatching) -> LotMatcher:
    """The matcher for a config's ``lot_matching`` value."""
    matchers: dict[str, LotMatcher] = {
        "fifo": FifoLotMatcher(),
        "lifo": LifoLotMatcher(),
        "highest_cost": HighestCostLotMatcher(),
    }
    return matchers[name]
