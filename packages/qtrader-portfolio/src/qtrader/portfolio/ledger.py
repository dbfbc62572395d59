"""The ledger: one frozen entry per change of cash or position."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, Field

from qtrader.models import FrozenModel
from qtrader.portfolio.lots import ClosedLot

ZERO = Decimal(0)


class LedgerEntryType(StrEnum):
    FILL = "fill"
    """A fill: ``quantity`` is the signed fill quantity, ``price`` the fill price."""
    SPLIT = "split"
    """A split of one strategy's position: ``quantity`` is the change, ``ratio`` the ratio."""
    CASH_IN_LIEU = "cash_in_lieu"
    """The fractional share left by a split, paid out: ``quantity`` is minus that fraction."""
    DIVIDEND = "dividend"
    """A cash dividend: ``quantity`` is the position entitled, ``price`` the amount per share."""


class LedgerEntry(FrozenModel):
    """One change of cash or position, attributed to one strategy and symbol.

    ``cash_flow`` is the signed change of cash (a buy is negative), so
    ``cash == initial_cash + sum(entry.cash_flow)`` exactly. ``position_after``
    is the strategy's position in ``symbol`` after the entry, for audit and
    for checking a replay. ``reference`` is the fill id, or
    ``"<kind>:<symbol>:<ex_date>"`` for a corporate action.
    """

    sequence: int = Field(ge=1)
    timestamp: AwareDatetime
    type: LedgerEntryType
    strategy_id: str = Field(min_length=1)
    symbol: str = Field(min_length=1)
    quantity: Decimal
    price: Decimal | None
    cash_flow: Decimal
    commission: Decimal = ZERO
    ratio: Decimal | None = None
    position_after: Decimal
    reference: str = Field(min_length=1)
    lots_closed: tuple[ClosedLot, ...] = ()
    """The lots (or parts of lots) this entry closed, in the order they were matched."""
