"""Rebuild a portfolio from its ledger, re-executing and checking every entry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from qtrader.portfolio.config import PortfolioConfig
from qtrader.portfolio.errors import PortfolioError
from qtrader.portfolio.ledger import LedgerEntry, LedgerEntryType
from qtrader.portfolio.service import LotPortfolioService


def replay(
    config: PortfolioConfig,
    entries: Iterable[LedgerEntry],
    *,
    last_prices: Mapping[str, Decimal] | None = None,
    marked_at: datetime | None = None,
) -> LotPortfolioService:
    """A new portfolio in the state the ledger ``entries`` describe.

    Each entry is re-executed with the same arithmetic as when it was first
    booked, and the result must equal the recorded entry (lots closed, cash
    flow, position after): a ledger replayed under another lot matching, or an
    edited ledger, is refused with a ``PortfolioError`` naming the entry. Marks
    are not ledger entries (they change neither cash nor positions): pass the
    original's ``last_prices()`` and ``marked_at`` to value the result alike.
    """
    portfolio = LotPortfolioService(config)
    for expected, entry in enumerate(entries, start=1):
        where = f"ledger entry #{entry.sequence} ({entry.type.value} {entry.reference!r})"
        if entry.sequence != expected:
            raise PortfolioError(f"{where}: expected sequence number {expected}")
        try:
            replayed = _replay_entry(portfolio, entry)
        except PortfolioError as error:
            raise PortfolioError(f"{where} cannot be replayed: {error}") from error
        if replayed != entry:
            raise PortfolioError(
                f"{where} replays differently under {config!r}: recorded {entry!r}, "
                f"replayed {replayed!r}"
            )
    portfolio._restore_marks(last_prices or {}, marked_at)
    return portfolio


def _replay_entry(portfolio: LotPortfolioService, entry: LedgerEntry) -> LedgerEntry:
    at, sid, symbol = entry.timestamp, entry.strategy_id, entry.symbol
    if entry.type is LedgerEntryType.FILL:
        if entry.price is None:
            raise PortfolioError("a fill entry needs a price")
        return portfolio._post_fill(
            at, sid, symbol, entry.quantity, entry.price, entry.commission, entry.reference
        )
    if entry.type is LedgerEntryType.SPLIT:
        if entry.ratio is None:
            raise PortfolioError("a split entry needs a ratio")
        return portfolio._post_split(at, sid, symbol, entry.ratio, entry.reference)
    if entry.price is None:
        raise PortfolioError(f"a {entry.type.value} entry needs a price")
    if entry.type is LedgerEntryType.CASH_IN_LIEU:
        return portfolio._post_cash_in_lieu(
            at, sid, symbol, entry.quantity, entry.price, entry.reference
        )
    return portfolio._post_dividend(at, sid, symbol, entry.price, entry.reference)
