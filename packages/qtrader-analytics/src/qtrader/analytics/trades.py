"""Round trips, from the portfolio's closed lots.

A round trip is a position of one strategy in one symbol from flat back to flat. It is
read off the ledger, not rebuilt from fills: the lots a fill, a split's cash in lieu or any
later booking closed carry their own cost basis and exit price, so a trip is right across
splits (buy 100 at 500, a 4-for-1 split, sell 400 at 129: one long trip of 400 shares
entered at 125, +1,600) and the trips' P&L adds up to the portfolio's realized P&L.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from qtrader.models import LedgerEntry, LedgerEntryType, split_fraction

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """A position in one symbol by one strategy, from flat back to flat.

    ``quantity`` is the shares closed, in the shares of the trip's end (100 bought before
    a 4-for-1 split are 400, whether sold before or after it), the fraction a split paid as
    cash in lieu included. ``entry_price`` is the closed cost basis per share (split-adjusted),
    ``exit_price`` the quantity-weighted exit price. ``commission`` is the share of the
    opening and closing fills' commissions that belongs to the closed shares, and
    ``pnl`` is net of it: ``pnl + commission`` summed over trips is the portfolio's
    realized P&L. Dividends and financing are not trade P&L.
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
    commission: Decimal = ZERO

    @property
    def holding_period(self) -> str:
        return str(self.exit_time - self.entry_time)


@dataclass(slots=True)
class _OpenTrip:
    entry_time: datetime
    quantity: Decimal = ZERO  # shares closed so far (absolute)
    cost: Decimal = ZERO  # their cost basis (absolute)
    proceeds: Decimal = ZERO  # exit price x shares closed (absolute)
    gross: Decimal = ZERO
    commission: Decimal = ZERO
    long: bool = True


def round_trips(ledger: Iterable[LedgerEntry]) -> tuple[RoundTrip, ...]:
    """Round trips per (strategy, symbol), in the order they close (a trip closes with
    the entry that leaves the position flat). A fill that flips the position closes one
    trip and opens the next. Trips still open at the end are not round trips."""
    return tuple(RoundTripBuilder().add(ledger))


SPLIT = LedgerEntryType.SPLIT


class RoundTripBuilder:
    """``round_trips`` a part of the ledger at a time: ``add`` the entries in order, get
    the trips they closed (a ledger in parts gives the trips of the whole, in order)."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str], _OpenTrip] = {}

    def add(self, entries: Iterable[LedgerEntry]) -> list[RoundTrip]:
        """The trips the next ``entries`` of the ledger closed."""
        open_trips = self._open
        closed: list[RoundTrip] = []
        for entry in entries:
            after = entry.position_after
            if entry.strategy_id is None or entry.symbol is None or after is None:
                continue  # margin interest: the account's, no position
            key = (entry.strategy_id, entry.symbol)
            trip = open_trips.get(key)
            if trip is not None and entry.type is SPLIT and entry.ratio is not None:
                # Shares closed before the split, counted in post-split shares like those
                # closed after it (cost and proceeds are money: the split leaves them).
                new, old = split_fraction(entry.ratio)
                trip.quantity = trip.quantity * new / old
            for lot in entry.lots_closed:
                if trip is None:  # pragma: no cover - a lot is closed only while one is open
                    raise ValueError(f"ledger entry {entry.sequence} closes a lot of no position")
                size = abs(lot.quantity)
                trip.quantity += size
                trip.cost += abs(lot.cost_basis)
                trip.proceeds += lot.exit_price * size
                trip.gross += lot.realized_pnl
                trip.commission += lot.opening_commission + lot.closing_commission
            if trip is not None and (after == ZERO or (after > ZERO) != trip.long):
                del open_trips[key]
                closed.append(_closed(key, entry, trip))
                trip = None
            if trip is None and after != ZERO:
                open_trips[key] = _OpenTrip(entry_time=entry.timestamp, long=after > ZERO)
        return closed


def _closed(key: tuple[str, str], entry: LedgerEntry, trip: _OpenTrip) -> RoundTrip:
    return RoundTrip(
        strategy_id=key[0],
        symbol=key[1],
        direction="long" if trip.long else "short",
        quantity=trip.quantity,
        entry_time=trip.entry_time,
        entry_price=trip.cost / trip.quantity,
        exit_time=entry.timestamp,
        exit_price=trip.proceeds / trip.quantity,
        pnl=trip.gross - trip.commission,
        commission=trip.commission,
    )
