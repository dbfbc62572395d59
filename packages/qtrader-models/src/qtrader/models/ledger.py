"""The ledger's records: one frozen entry per change of cash or position, and the closed
lots a trade realized. The portfolio writes them; analytics reads them (round trips from
closed lots, ``ledger.csv``)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, Field

from qtrader.models._base import FrozenModel

ZERO = Decimal(0)


class ClosedLot(FrozenModel):
    """The part of one open lot that a trade (or cash in lieu) closed.

    ``quantity`` has the sign of the lot: +50 is 50 long shares sold, -50 is 50
    short shares bought back. ``realized_pnl = exit_price x quantity - cost_basis``,
    i.e. ``(exit - entry) x shares`` for a long and the reverse for a short,
    gross of commissions. ``opening_commission`` and ``closing_commission`` are
    the pro-rata shares of the opening and closing fills' commissions, so a
    round trip's net P&L is ``net_pnl``.
    """

    fill_id: str = Field(min_length=1)
    opened_at: AwareDatetime
    quantity: Decimal
    cost_basis: Decimal
    exit_price: Decimal
    realized_pnl: Decimal
    opening_commission: Decimal
    closing_commission: Decimal

    @property
    def entry_price(self) -> Decimal:
        return self.cost_basis / self.quantity

    @property
    def net_pnl(self) -> Decimal:
        """Realized P&L of this piece net of its share of both fills' commissions."""
        return self.realized_pnl - self.opening_commission - self.closing_commission


class LedgerEntryType(StrEnum):
    FILL = "fill"
    """A fill: ``quantity`` is the signed fill quantity, ``price`` the fill price."""
    SPLIT = "split"
    """A split of one strategy's position: ``quantity`` is the change, ``ratio`` the ratio."""
    CASH_IN_LIEU = "cash_in_lieu"
    """The fractional share left by a split, paid out: ``quantity`` is minus that fraction."""
    DIVIDEND = "dividend"
    """A cash dividend: ``quantity`` is the position entitled, ``price`` the amount per share."""
    SEC_FEE = "sec_fee"
    """The SEC (section 31) fee of a sale: ``quantity`` and ``price`` are the fill's,
    ``rate`` the fee per dollar of proceeds; ``reference`` the fill id."""
    FINRA_TAF = "finra_taf"
    """FINRA's trading activity fee of a sale: ``quantity`` is the fill's, ``rate`` the fee
    per share (the cap per trade is the config's); ``reference`` the fill id."""
    BORROW_FEE = "borrow_fee"
    """Borrow fee on a short held overnight: ``quantity`` is the short position, ``price``
    the close it is valued at, ``rate`` the annual rate, ``days`` the calendar days."""
    MARGIN_INTEREST = "margin_interest"
    """Interest on negative cash held overnight, the account's (no strategy, no symbol):
    ``quantity`` is the cash balance (< 0), ``rate`` the annual rate, ``days`` the days."""


class LedgerEntry(FrozenModel):
    """One change of cash or position, attributed to one strategy and symbol (margin
    interest, the account's, has neither).

    ``cash_flow`` is the signed change of cash (a buy is negative), so
    ``cash == initial_cash + sum(entry.cash_flow)`` exactly. ``position_after``
    is the strategy's position in ``symbol`` after the entry, for audit and
    for checking a replay (``None`` for margin interest). ``reference`` is the fill id, or
    ``"<kind>:<symbol>:<ex_date>"`` for a corporate action.
    """

    sequence: int = Field(ge=1)
    timestamp: AwareDatetime
    type: LedgerEntryType
    strategy_id: str | None = Field(min_length=1)
    symbol: str | None = Field(min_length=1)
    quantity: Decimal
    price: Decimal | None
    cash_flow: Decimal
    commission: Decimal = ZERO
    ratio: Decimal | None = None
    position_after: Decimal | None
    reference: str = Field(min_length=1)
    lots_closed: tuple[ClosedLot, ...] = ()
    """The lots (or parts of lots) this entry closed, in the order they were matched."""
    lots_named: tuple[str, ...] = ()
    """The lots a fill was told to close first (their ids), as given; see ``SpecificLotMatcher``."""
    rate: Decimal | None = None
    """The rate a fee or financing entry was charged at (see its type)."""
    days: int | None = Field(default=None, ge=1)
    """The calendar days a financing entry covers."""
