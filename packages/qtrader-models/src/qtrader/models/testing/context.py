"""A strategy context without an engine, to unit-test a strategy bar by hand."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

import numpy as np

from qtrader.models._base import to_decimal
from qtrader.models.context import OrderHelpers
from qtrader.models.market import PRICE_FIELDS, Bar, BarSlice, FloatArray, Split
from qtrader.models.order_input import ONE, OrderRejection
from qtrader.models.orders import Order, OrderRequest, ReplaceRequest
from qtrader.models.portfolio import Lot
from qtrader.models.ports import BoolArray, HistoryMatrix
from qtrader.models.signals import Intent, Signal

ZERO = Decimal(0)


class FakeStrategyContext(OrderHelpers):
    """Feed it slices with ``push``; it records what the strategy asks for.

    Positions and cash are whatever the test sets (``positions[symbol] = ...``), and
    so are the working orders (``working``); nothing fills. ``orders``, ``signals``,
    ``cancels``, ``replaces`` and ``logs`` collect the strategy's requests, and
    ``rejections`` the requests refused (``OrderRejection``, numbered ``R-000001`` on);
    ``clear()`` forgets them between bars. ``lot_sizes`` gives symbols a lot size other
    than one share.
    """

    def __init__(
        self,
        symbols: tuple[str, ...],
        *,
        strategy_id: str = "test",
        cash: Decimal = Decimal(100_000),
        lot_sizes: Mapping[str, Decimal] | None = None,
        history_bars: int | None = None,
    ) -> None:
        """``history_bars``: what the strategy declares it reads at most; asking for more
        is a ``ValueError``, as in the engine (give ``strategy.history_bars``)."""
        self._symbols = symbols
        self._history_bars = history_bars
        self._strategy_id = strategy_id
        self._lots = dict(lot_sizes or {})
        self._rejected = 0
        self._history: dict[str, dict[str, list[float]]] = {
            s: {f: [] for f in PRICE_FIELDS} for s in symbols
        }
        self._bars: BarSlice | None = None
        self.cash_balance = cash
        self.positions: dict[str, Decimal] = {}
        self.open_lots: dict[str, tuple[Lot, ...]] = {}
        self.working: list[Order] = []
        self.orders: list[OrderRequest] = []
        self.signals: list[Signal] = []
        self.cancels: list[str] = []
        self.replaces: list[ReplaceRequest] = []
        self.rejections: list[OrderRejection] = []
        self.logs: list[str] = []

    # -- driving it ------------------------------------------------------------
    def push(self, bars: BarSlice) -> None:
        """Make ``bars`` the current timestamp and append them to the history. A split in
        ``bars.actions`` first rescales the history of its symbol, as the engine does on
        unadjusted data (prices / ratio, volume x ratio): history is split-adjusted as of
        the current bar."""
        for action in bars.actions:
            if isinstance(action, Split) and action.symbol in self._history:
                ratio = float(action.ratio)
                for name, values in self._history[action.symbol].items():
                    values[:] = [v * ratio if name == "volume" else v / ratio for v in values]
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
        self.replaces.clear()
        self.rejections.clear()
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

    def has_bars(self) -> BoolArray:
        bars = self._bars
        mask = np.array([bars is not None and s in bars for s in self._symbols], dtype=np.bool_)
        mask.flags.writeable = False
        return mask

    def history(self, symbol: str, field: str, n: int) -> FloatArray:
        if symbol not in self._history:
            raise KeyError(f"unknown symbol {symbol!r}; the universe is {sorted(self._symbols)}")
        if field not in PRICE_FIELDS:
            raise KeyError(f"unknown field {field!r}; expected one of {list(PRICE_FIELDS)}")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        self._check_declared(n)
        values = self._history[symbol][field]
        view = np.array(values[max(0, len(values) - n) :], dtype=np.float64)
        view.flags.writeable = False
        return view

    def _check_declared(self, n: int) -> None:
        if self._history_bars is not None and n > self._history_bars:
            raise ValueError(
                f"asked for {n} bars of history; strategy {self._strategy_id!r} declared at "
                f"most {self._history_bars} (history_bars)"
            )

    def history_matrix(self, field: str, n: int) -> HistoryMatrix:
        """Built symbol by symbol from ``history`` (simple, not fast): same semantics as
        the engine's gather."""
        if field not in PRICE_FIELDS:
            raise KeyError(f"unknown field {field!r}; expected one of {list(PRICE_FIELDS)}")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        self._check_declared(n)
        values = np.full((len(self._symbols), n), np.nan)
        counts = np.zeros(len(self._symbols), dtype=np.int64)
        for i, symbol in enumerate(self._symbols):
            row = self.history(symbol, field, n)
            counts[i] = len(row)
            values[i, n - len(row) :] = row
        return HistoryMatrix(self._symbols, field, values, counts)

    def position(self, symbol: str) -> Decimal:
        return self.positions.get(symbol, ZERO)

    def lots(self, symbol: str) -> tuple[Lot, ...]:
        """Lots set by the test (``open_lots``), else none."""
        return self.open_lots.get(symbol, ())

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

    def cancel(self, order_id: str) -> None:
        if order_id not in self.cancels:
            self.cancels.append(order_id)

    def log(self, message: str) -> None:
        self.logs.append(message)

    # -- the primitives OrderHelpers builds on ---------------------------------
    def _ask(self, intent: Intent) -> None:
        if isinstance(intent, Signal):
            self.signals.append(intent)
        else:
            self.orders.append(intent)

    def _ask_replace(self, request: ReplaceRequest) -> None:
        self.replaces.append(request)

    def _withdraw(self, symbol: str) -> None:
        self.orders[:] = [order for order in self.orders if order.symbol != symbol]

    def _lot(self, symbol: str) -> Decimal:
        return self._lots.get(symbol, ONE)

    def _decision_time(self) -> datetime | None:
        return None if self._bars is None else self._bars.timestamp

    def _reject(self, rejection: OrderRejection) -> None:
        self.rejections.append(rejection)

    def _rejection_id(self) -> str:
        self._rejected += 1
        return f"R-{self._rejected:06d}"

    def _last_close(self, symbol: str) -> Decimal | None:
        closes = self._history[symbol]["close"]
        return to_decimal(closes[-1]) if closes else None
