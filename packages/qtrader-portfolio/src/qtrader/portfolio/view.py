"""The read-only facade handed to strategies and risk."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from qtrader.models import Lot, PortfolioState
from qtrader.portfolio.ledger import LedgerEntry
from qtrader.portfolio.summary import PnlSummary

if TYPE_CHECKING:
    from qtrader.portfolio.service import LotPortfolioService


class PortfolioReadView:
    """Everything a reader needs from a ``LotPortfolioService``, and no mutator.

    It guards against mistakes, not malice: Python cannot truly hide the service.
    """

    __slots__ = ("_portfolio",)

    def __init__(self, portfolio: LotPortfolioService) -> None:
        self._portfolio = portfolio

    @property
    def cash(self) -> Decimal:
        return self._portfolio.cash

    @property
    def equity(self) -> Decimal:
        return self._portfolio.equity

    def position(self, symbol: str, strategy_id: str | None = None) -> Decimal:
        return self._portfolio.position(symbol, strategy_id)

    def last_price(self, symbol: str) -> Decimal | None:
        return self._portfolio.last_price(symbol)

    def last_prices(self) -> dict[str, Decimal]:
        return self._portfolio.last_prices()

    @property
    def marked_at(self) -> datetime | None:
        return self._portfolio.marked_at

    @property
    def financed_on(self) -> date | None:
        return self._portfolio.financed_on

    def snapshot(self) -> PortfolioState:
        return self._portfolio.snapshot()

    def pnl_summary(self, strategy_id: str | None = None) -> PnlSummary:
        return self._portfolio.pnl_summary(strategy_id)

    def strategy_ids(self) -> tuple[str, ...]:
        return self._portfolio.strategy_ids()

    def ledger(self) -> tuple[LedgerEntry, ...]:
        return self._portfolio.ledger()

    def lots(self, symbol: str, strategy_id: str | None = None) -> tuple[Lot, ...]:
        return self._portfolio.lots(symbol, strategy_id)
