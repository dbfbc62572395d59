"""A strategy context without an engine, to unit-test a strategy bar by hand."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

import numpy as np

from qtrader.models._base import to_decimal
from qtrader.models.market import PRICE_FIELDS, Bar, BarSlice, FloatArray
from qtrader.models.orders import Order, OrderRequest, OrderType, Side, TimeInForce
from qtrader.models.signals import Signal, SignalDirection

ZERO = Decimal(0)


class FakeStrategyContext:
    """Feed it slices with ``push``; it records what the strategy asks for.

    Positions and cash are whatever the test sets (``positions[symbol] = ...``);
    nothing fills. ``orders``, ``signals``, ``cancels`` and ``logs`` collect the
    strategy's requests; ``clear()`` forgets them between bars.
    """

    def __init__(
        self,
        symbols: tuple[str, ...],
        *,
        strategy_id: str = "test",
        cash: Decimal = Decimal(100_000),
    ) -> None:
        self._symbols = symbols
        self._strategy_id = strategy_id
        self._history: dict[str, dict[str, list[float]]] = {
            s: {f: [] for f in PRICE_FIELDS} for s in symbols
        }
        self._bars: BarSlice | None = None
        self.cash_balance = cash
        self.positions: dict[str, Decimal] = {}
        self.working: list[Order] = []
        self.orders: list[OrderRequest] = []
        self.signals: list[Signal] = []
        self.cancels: list[str] = []
        self.logs: list[str] = []

    # -- driving it ------------------------------------------------------------
    def push(self, bars: BarSlice) -> None:
        """Make ``bars`` the current timestamp and append them to the history."""
        for i, symbol in enumerate(bars.symbols):
            if symbol not in self._history:
                raise KeyError(f"{symbol!r} is not in the universe {list(self._symbols)}")
            for name in PRICE_FIELDS:
                self._history[symbol][name].append(float(getattr(bars, name)[i]))
        self._bars = bars

    def clear(self) -> None:
        self.orders.clear()
        self.signals.clear()
        self.cancels.clear()
        self.logs.clear()

    # -- StrategyContext -------------------------------------------------------
    @property
    def strategy_id(self) -> str:
        return self._strategy_id

    @property
    def timestamp(self) -> datetime:
        if self._bars is None:
            raise RuntimeError("push() a slice first")
        return self._bars.timestamp

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._symbols

    def has_bar(self, symbol: str) -> bool:
        return self._bars is not None and symbol in self._bars

    def bar(self, symbol: str) -> Bar | None:
        return self._bars.bar(symbol) if self.has_bar(symbol) and self._bars else None

    def history(self, symbol: str, field: str, n: int) -> FloatArray:
        values = self._history[symbol][field]
        view = np.array(values[max(0, len(values) - n) :], dtype=np.float64)
        view.flags.writeable = False
        return view

    def position(self, symbol: str) -> Decimal:
        return self.positions.get(symbol, ZERO)

    @property
    def cash(self) -> Decimal:
        return self.cash_balance

    @property
    def equity(self) -> Decimal:
        value = ZERO
        for symbol, quantity in self.positions.items():
            closes = self._history.get(symbol, {}).get("close", [])
            if closes:
                value += quantity * to_decimal(closes[-1])
        return self.cash_balance + value

    def open_orders(self) -> tuple[Order, ...]:
        return tuple(self.working)

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
        committed = self.position(symbol) + sum(
            (o.signed_quantity for o in (*self.working, *self.orders) if o.symbol == symbol),
            start=ZERO,
        )
        delta = Decimal(target) - committed
        if delta > 0:
            self.buy(symbol, delta)
        elif delta < 0:
            self.sell(symbol, -delta)

    def order_target_percent(self, symbol: str, fraction: float) -> None:
        closes = self._history[symbol]["close"]
        if not closes or not math.isfinite(fraction):
            raise ValueError(f"cannot size {fraction!r} of equity in {symbol!r}")
        target = self.equity * to_decimal(fraction) / to_decimal(closes[-1])
        self.order_target_quantity(symbol, target.to_integral_value(ROUND_FLOOR))

    def signal(self, symbol: str, direction: SignalDirection, strength: float = 1.0) -> None:
        self.signals.append(
            Signal(
                strategy_id=self._strategy_id, symbol=symbol, direction=direction, strength=strength
            )
        )

    def cancel(self, order_id: str) -> None:
        self.cancels.append(order_id)

    def log(self, message: str) -> None:
        self.logs.append(message)

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
        self.orders.append(
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
