"""The strategy context: what one strategy sees and may do at time T.

It reads bars only up to T (the history holds nothing later) and the
portfolio only through its read-only view. Orders and signals it collects
are handed to risk by the engine after ``on_bar`` returns.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from qtrader.engine.history import BarHistory
from qtrader.models import (
    Bar,
    BarSlice,
    ExecutionService,
    FloatArray,
    Intent,
    Order,
    OrderRequest,
    OrderType,
    PortfolioView,
    Side,
    Signal,
    SignalDirection,
    TimeInForce,
    to_decimal,
)

ZERO = Decimal(0)


class EngineStrategyContext:
    def __init__(
        self,
        strategy_id: str,
        symbols: tuple[str, ...],
        history: BarHistory,
        portfolio: PortfolioView,
        execution: ExecutionService,
        logger: logging.Logger,
    ) -> None:
        self._strategy_id = strategy_id
        self._symbols = symbols
        self._universe = frozenset(symbols)
        self._history = history
        self._portfolio = portfolio
        self._execution = execution
        self._logger = logger
        self._bars: BarSlice | None = None
        self._intents: list[Intent] = []
        self._cancels: list[str] = []

    # -- engine side ---------------------------------------------------------
    def set_bars(self, bars: BarSlice) -> None:
        self._bars = bars

    def drain(self) -> tuple[list[Intent], list[str]]:
        """Hand over (and forget) what the strategy asked for since the last drain."""
        intents, cancels = self._intents, self._cancels
        self._intents, self._cancels = [], []
        return intents, cancels

    # -- what the strategy reads ---------------------------------------------
    @property
    def strategy_id(self) -> str:
        return self._strategy_id

    @property
    def timestamp(self) -> datetime:
        if self._bars is None:
            raise RuntimeError("no bar has been processed yet")
        return self._bars.timestamp

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._symbols

    def has_bar(self, symbol: str) -> bool:
        return self._bars is not None and symbol in self._bars

    def bar(self, symbol: str) -> Bar | None:
        if self._bars is None or symbol not in self._bars:
            return None
        return self._bars.bar(symbol)

    def history(self, symbol: str, field: str, n: int) -> FloatArray:
        return self._history.last(symbol, field, n)

    def position(self, symbol: str) -> Decimal:
        return self._portfolio.position(symbol, self._strategy_id)

    @property
    def cash(self) -> Decimal:
        return self._portfolio.cash

    @property
    def equity(self) -> Decimal:
        return self._portfolio.equity

    def open_orders(self) -> tuple[Order, ...]:
        return self._execution.open_orders(self._strategy_id)

    def log(self, message: str) -> None:
        stamp = self._bars.timestamp.isoformat() if self._bars is not None else "-"
        self._logger.info("%s [%s] %s", stamp, self._strategy_id, message)

    # -- what the strategy asks for ------------------------------------------
    def buy(
        self,
        symbol: str,
        quantity: Decimal | int,
        *,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str | None = None,
    ) -> None:
        self._order(Side.BUY, symbol, quantity, limit_price, stop_price, time_in_force, tag)

    def sell(
        self,
        symbol: str,
        quantity: Decimal | int,
        *,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str | None = None,
    ) -> None:
        self._order(Side.SELL, symbol, quantity, limit_price, stop_price, time_in_force, tag)

    def order_target_quantity(self, symbol: str, target: Decimal | int) -> None:
        delta = Decimal(target) - self._committed(symbol)
        if delta > 0:
            self.buy(symbol, delta)
        elif delta < 0:
            self.sell(symbol, -delta)

    def order_target_percent(self, symbol: str, fraction: float) -> None:
        if not math.isfinite(fraction):
            raise ValueError(f"order_target_percent needs a finite fraction, got {fraction!r}")
        price = self._portfolio.last_price(symbol)
        if price is None:
            raise KeyError(f"no price for {symbol!r} yet: cannot size a target percent")
        value = self._portfolio.equity * to_decimal(fraction)
        self.order_target_quantity(symbol, (value / price).to_integral_value(ROUND_FLOOR))

    def signal(self, symbol: str, direction: SignalDirection, strength: float = 1.0) -> None:
        self._check_symbol(symbol)
        self._intents.append(
            Signal(
                strategy_id=self._strategy_id,
                symbol=symbol,
                direction=direction,
                strength=strength,
            )
        )

    def cancel(self, order_id: str) -> None:
        self._cancels.append(order_id)

    # -- helpers --------------------------------------------------------------
    def _committed(self, symbol: str) -> Decimal:
        """Position plus working orders plus orders asked for in this bar."""
        working = sum(
            (o.signed_quantity for o in self.open_orders() if o.symbol == symbol), start=ZERO
        )
        pending = sum(
            (
                i.signed_quantity
                for i in self._intents
                if isinstance(i, OrderRequest) and i.symbol == symbol
            ),
            start=ZERO,
        )
        return self.position(symbol) + working + pending

    def _check_symbol(self, symbol: str) -> None:
        if symbol not in self._universe:
            raise KeyError(f"{symbol!r} is not in the universe {list(self._symbols)}")

    def _order(
        self,
        side: Side,
        symbol: str,
        quantity: Decimal | int,
        limit_price: Decimal | None,
        stop_price: Decimal | None,
        time_in_force: TimeInForce,
        tag: str | None,
    ) -> None:
        self._check_symbol(symbol)
        self._intents.append(
            OrderRequest(
                strategy_id=self._strategy_id,
                symbol=symbol,
                side=side,
                quantity=Decimal(quantity),
                type=OrderType.for_prices(limit_price, stop_price),
                limit_price=limit_price,
                stop_price=stop_price,
                time_in_force=time_in_force,
                tag=tag,
            )
        )
