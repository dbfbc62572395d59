"""What the orders approved so far in one ``decide()`` call have already used."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from qtrader.models import Order, OrderRequest, OrderType, PortfolioView, Side
from qtrader.risk._arith import ZERO, usable_price

# Orders approved in a call that fill at the next open or close whatever the price: the
# others wait for a price they may never see.
_CERTAIN = frozenset({OrderType.MARKET, OrderType.MARKET_ON_OPEN, OrderType.MARKET_ON_CLOSE})


class Batch:
    """Positions and cash as they will be if every order approved so far fills.

    Without this, two buys in one batch could each be approved against the
    same cash, and two sells against the same long.
    """

    __slots__ = (
        "_account",
        "_exits",
        "_portfolio",
        "_strategy",
        "_uncertain",
        "_working",
        "cash",
        "committed_cash",
        "equity",
    )

    def __init__(self, portfolio: PortfolioView) -> None:
        self._portfolio = portfolio
        # Read once: the portfolio does not change while risk decides.
        self.cash = portfolio.cash
        self.equity = portfolio.equity
        self.committed_cash = ZERO
        self._strategy: dict[tuple[str, str], Decimal] = {}
        self._account: dict[str, Decimal] = {}
        # Of ``_strategy``, what orders still working at the venue add (signed): the exits
        # of brackets, the other working orders, and the working buys' quantities.
        self._exits: dict[tuple[str, str], Decimal] = {}
        self._working: dict[tuple[str, str], Decimal] = {}
        # Of ``_strategy``, what orders that may never fill add, by side: every order still
        # working, and the orders approved in this call that wait for a price (limit, stop).
        # (buys, sells), both >= 0.
        self._uncertain: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}

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

    def commit_working(self, order: Order, reference_price: Decimal) -> None:
        """Count an order still working at the venue (``commit``), noting what kind it is."""
        self._commit(order, reference_price, certain=False)
        key = (order.strategy_id, order.symbol)
        kept = self._exits if order.parent_id is not None else self._working
        kept[key] = kept.get(key, ZERO) + order.signed_quantity

    def sizing_position(self, strategy_id: str, symbol: str, flat: bool) -> Decimal:
        """The position a signal's target is measured from: held, approved in this call and
        working, but not the exits of a bracket (a stop-loss protects a position, it does
        not close it yet); to go flat, only what is held and approved (a resting entry that
        has not filled is nothing to sell)."""
        key = (strategy_id, symbol)
        position = self.strategy_position(strategy_id, symbol) - self._exits.get(key, ZERO)
        return position - self._working.get(key, ZERO) if flat else position

    def short_floor(self, strategy_id: str, symbol: str) -> Decimal:
        """The least the strategy may hold once its orders fill: its position less the buys
        that may never fill (still working, or approved in this call at a limit or stop):
        a sell against them could go short."""
        buys, _ = self._uncertain.get((strategy_id, symbol), (ZERO, ZERO))
        return self.strategy_position(strategy_id, symbol) - buys

    def long_ceiling(self, strategy_id: str, symbol: str) -> Decimal:
        """The most the strategy may hold once its orders fill: its position plus the sells
        that may never fill (a buy against them is no covering of a short)."""
        _, sells = self._uncertain.get((strategy_id, symbol), (ZERO, ZERO))
        return self.strategy_position(strategy_id, symbol) + sells

    def commit(self, order: OrderRequest, reference_price: Decimal) -> None:
        """Count an approved order against what later orders of the batch may use."""
        self._commit(order, reference_price, certain=order.type in _CERTAIN)

    def _commit(self, order: OrderRequest, reference_price: Decimal, certain: bool) -> None:
        signed = order.signed_quantity
        key = (order.strategy_id, order.symbol)
        self._strategy[key] = self.strategy_position(*key) + signed
        self._account[order.symbol] = self.account_position(order.symbol) + signed
        if order.side is Side.BUY:
            self.committed_cash += order.quantity * reference_price
        if not certain:
            buys, sells = self._uncertain.get(key, (ZERO, ZERO))
            if order.side is Side.BUY:
                self._uncertain[key] = (buys + order.quantity, sells)
            else:
                self._uncertain[key] = (buys, sells + order.quantity)


class BookBatch(Batch):
    """A batch that also keeps the portfolio-wide figures of ``checks.PortfolioBook``.

    Used only when a policy has a portfolio limit (its snapshot of the portfolio is
    taken once per call). Every symbol is valued at one price for the whole call: its
    price in the call when usable, else its last mark, else what the first order of
    it committed was valued at.
    """

    __slots__ = (
        "_by_strategy",
        "_gross",
        "_net",
        "_open",
        "_prices",
        "_traded",
        "_value",
    )

    def __init__(
        self, portfolio: PortfolioView, prices: Mapping[str, Decimal], exposures: bool
    ) -> None:
        super().__init__(portfolio)
        self._prices = prices
        self._value: dict[str, Decimal] = {}
        self._traded: dict[str, Decimal] = {}
        self._by_strategy: dict[str, Decimal] = {}
        self._gross = self._net = ZERO
        # Symbols held, or that an order working or approved may open. Only an order that
        # fills whatever the price (approved at market in this call) frees a place by
        # closing one: a resting one may never fill.
        self._open: set[str] = set()
        if exposures:
            self._read_exposures()

    def _read_exposures(self) -> None:
        for position in self._portfolio.snapshot().positions:
            # A symbol whose strategies net to zero in the account is still valued: the
            # strategies' positions count for their budgets.
            value = self._value_price(position.symbol, position.market_price)
            quantity = self._account[position.symbol] = position.quantity
            if quantity != ZERO:
                self._gross += abs(quantity) * value
                self._net += quantity * value
                self._open.add(position.symbol)

    def _value_price(self, symbol: str, fallback: Decimal) -> Decimal:
        value = self._value.get(symbol)
        if value is None:
            price = self._prices.get(symbol)
            value = price if price is not None and usable_price(price) else fallback
            self._value[symbol] = value
        return value

    def _commit(self, order: OrderRequest, reference_price: Decimal, certain: bool) -> None:
        symbol, strategy_id = order.symbol, order.strategy_id
        account_before = self.account_position(symbol)
        strategy_before = self.strategy_position(strategy_id, symbol)
        super()._commit(order, reference_price, certain)
        signed = order.signed_quantity
        value = self._value_price(symbol, reference_price)
        account_after = account_before + signed
        self._gross += (abs(account_after) - abs(account_before)) * value
        self._net += signed * value
        if account_after != ZERO:
            self._open.add(symbol)
        elif certain:  # closed by an order that fills whatever the price
            self._open.discard(symbol)
        gross = self._by_strategy.get(strategy_id)
        if gross is not None:
            change = abs(strategy_before + signed) - abs(strategy_before)
            self._by_strategy[strategy_id] = gross + change * value
        self._traded[symbol] = self._traded.get(symbol, ZERO) + order.quantity

    # -- checks.PortfolioBook

    @property
    def gross_exposure(self) -> Decimal:
        return self._gross

    @property
    def net_exposure(self) -> Decimal:
        return self._net

    @property
    def open_positions(self) -> int:
        return len(self._open)

    def counts_open(self, symbol: str) -> bool:
        return symbol in self._open

    def strategy_gross(self, strategy_id: str) -> Decimal:
        gross = self._by_strategy.get(strategy_id)
        if gross is None:
            # Every symbol the strategy can hold is one the account holds, held before
            # the strategies netted out, or one an order of this call touched.
            gross = sum(
                (
                    abs(self.strategy_position(strategy_id, symbol)) * value
                    for symbol, value in self._value.items()
                ),
                start=ZERO,
            )
            self._by_strategy[strategy_id] = gross
        return gross

    def traded(self, symbol: str) -> Decimal:
        return self._traded.get(symbol, ZERO)
