"""Rebuild a portfolio from its ledger, re-executing and checking every entry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
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
    financed_on: date | None = None,
) -> LotPortfolioService:
    """A new portfolio in the state the ledger ``entries`` describe.

    Each entry is re-executed with the same arithmetic as when it was first
    booked, and the result must equal the recorded entry (lots closed, cash
    flow, position after): a ledger replayed under another lot matching, or an
    edited ledger, is refused with a ``PortfolioError`` naming the entry. Marks
    are not ledger entries (they change neither cash nor positions): pass the
    original's ``last_prices()`` and ``marked_at`` to value the result alike.

    Financing entries replay from what they record (the short, the close it was valued
    at, the rate and days; the cash balance), re-accruing the same exact sums. With
    financing on, the rebuilt portfolio accrues next from ``financed_on`` (pass the
    original's ``financed_on``); by default from the latest date of ``marked_at`` and the
    entries, which is the original's unless its last call was an action that booked
    nothing.
    """
    portfolio = LotPortfolioService(config)
    last_day: date | None = None
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
        last_day = entry.timestamp.date()
    portfolio._restore_marks(last_prices or {}, marked_at)
    if financed_on is None:
        days = [d for d in (last_day, None if marked_at is None else marked_at.date()) if d]
        financed_on = max(days, default=None)
    portfolio._restore_financed_on(financed_on)
    return portfolio


def _replay_entry(portfolio: LotPortfolioService, entry: LedgerEntry) -> LedgerEntry:
    at, kind = entry.timestamp, entry.type
    financing = portfolio.config.financing
    if kind is LedgerEntryType.MARGIN_INTEREST:
        rate, days = _financing_terms(entry, financing.margin_rate)
        return portfolio._post_margin_interest(at, entry.quantity, rate, days)
    sid, symbol = entry.strategy_id, entry.symbol
    if sid is None or symbol is None:
        raise PortfolioError(f"a {kind.value} entry needs a strategy and a symbol")
    if kind is LedgerEntryType.BORROW_FEE:
        rate, days = _financing_terms(entry, financing.borrow_rate_of(symbol))
        return portfolio._post_borrow_fee(at, sid, symbol, entry.price, rate, days)
    if kind is LedgerEntryType.FINRA_TAF:
        return _fee(portfolio._post_finra_taf(at, sid, symbol, entry.quantity, entry.reference))
    if kind is LedgerEntryType.SPLIT:
        if entry.ratio is None:
            raise PortfolioError("a split entry needs a ratio")
        return portfolio._post_split(at, sid, symbol, entry.ratio, entry.reference)
    if entry.price is None:
        raise PortfolioError(f"a {kind.value} entry needs a price")
    if kind is LedgerEntryType.FILL:
        return portfolio._post_fill(
            at,
            sid,
            symbol,
            entry.quantity,
            entry.price,
            entry.commission,
            entry.reference,
            entry.lots_named,
        )
    if kind is LedgerEntryType.SEC_FEE:
        return _fee(
            portfolio._post_sec_fee(at, sid, symbol, entry.quantity, entry.price, entry.reference)
        )
    if kind is LedgerEntryType.CASH_IN_LIEU:
        return portfolio._post_cash_in_lieu(
            at, sid, symbol, entry.quantity, entry.price, entry.reference
        )
    return portfolio._post_dividend(at, sid, symbol, entry.price, entry.reference)


def _financing_terms(entry: LedgerEntry, configured: Decimal) -> tuple[Decimal, int]:
    if entry.rate is None or entry.days is None:
        raise PortfolioError(f"a {entry.type.value} entry needs a rate and days")
    if entry.rate != configured or configured == 0:
        raise PortfolioError(f"charged at the rate {entry.rate}, but the config's is {configured}")
    return entry.rate, entry.days


def _fee(entry: LedgerEntry | None) -> LedgerEntry:
    """A recorded fee that replays as none (0, or fees off in ``config``) is refused."""
    if entry is None:
        raise PortfolioError("the fee comes to 0 (or regulatory fees are off)")
    return entry
