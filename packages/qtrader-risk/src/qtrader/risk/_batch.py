"""What the orders approved so far in one ``decide()`` call have already used."""

from __future__ import annotations

from decimal import Decimal

from qtrader.models import OrderRequest, PortfolioView, Side
from qtrader.risk._arith import ZERO


class Batch:
    """Positions and cash as they will be if every order approved so far fills.

    Without this, two buys in one batch could each be approved against the
    same cash, and two sells against the same long.
    """

    __slots__ = ("_account", "_portfolio", "_strategy", "cash", "committed_cash", "equity")

    def __init__(self, portfolio: PortfolioView) -> None:
        self._portfolio = portfolio
        # Read once: the portfolio does not change while risk decides.
        self.cash = portfolio.cash
        self.equity = portfolio.equity
        self.committed_cash = ZERO
        self._strategy: dict[tuple[str, str], Decimal] = {}
        self._account: dict[str, Decimal] = {}

    def strategy_position(self, strategy_id: str, symbol: str) -> Decimal:
        key = (strategy_id, symbol)
        position = self._strategy.get(key)
        if position is None:
            position = self._strategy[key] = self._portfolio.position(symbol, strategy_id)
        return position

    def account_position(self, symbol: str) -> Decimal:
        position = self._account.get(symbol)
        if position is None:
            position = self._account[symbol] = self._portfolio.position(symbol)
        return position

    def commit(self, order: OrderRequest, reference_price: Decimal) -> None:
        """Count an approved order against what later orders of the batch may use."""
        signed = order.signed_quantity
        key = (order.strategy_id, order.symbol)
        self._strategy[key] = self.strategy_position(*key) + signed
        self._account[order.symbol] = self.account_position(order.symbol) + signed
        if order.side is Side.BUY:
            self.committed_cash += order.quantity * reference_price
