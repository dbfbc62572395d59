"""The strategy context: what one strategy sees and may do at time T.

It reads bars only up to T (the history holds nothing later) and the
portfolio only through its read-only view. Orders and signals it collects
are handed to risk by the engine after ``on_bar`` returns; requests it refused
(``OrderRejection``) are handed over for the record.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from qtrader.engine.history import BarHistory
from qtrader.models import (
    Bar,
    BarSlice,
    ExecutionService,
    FloatArray,
    HistoryMatrix,
    Intent,
    Lot,
    Order,
    OrderHelpers,
    OrderRejection,
    OrderRequest,
    PortfolioView,
    ReplaceRequest,
)
from qtrader.models.ports import BoolArray

ONE = Decimal(1)


class EngineStrategyContext(OrderHelpers):
    def __init__(
        self,
        strategy_id: str,
        symbols: tuple[str, ...],
        history: BarHistory,
        portfolio: PortfolioView,
        execution: ExecutionService,
        logger: logging.Logger,
        *,
        lot_sizes: Mapping[str, Decimal] | None = None,
        rejection_numbers: Iterator[int] | None = None,
        history_bars: int | None = None,
    ) -> None:
        """``lot_sizes``: symbols whose lot is not one share. ``rejection_numbers``: where
        refused requests take their numbers (the engine shares one among its contexts,
        so that ids are unique in a run). ``history_bars``: what the strategy declared it
        reads at most (its own limit, whatever the other strategies of the run declared)."""
        self._strategy_id = strategy_id
        self._history_bars = history_bars
        self._symbols = symbols
        self._universe = frozenset(symbols)  # for membership tests of every order
        self._history = history
        self._portfolio = portfolio
        self._execution = execution
        self._logger = logger
        self._bars: BarSlice | None = None
        # Rows of the history that are this context's symbols, in its order (None: the same
        # universe in the same order, the engine's case, where no reordering is needed).
        self._rows: npt.NDArray[np.int64] | None = None
        if history.symbols != symbols:
            rows = [history.symbols.index(s) for s in symbols if s in history.symbols]
            if len(rows) != len(symbols):
                raise KeyError(f"symbols {symbols} are not all in the history's universe")
            self._rows = np.array(rows, dtype=np.int64)
        self._mask: BoolArray | None = None  # has_bars() of the current slice, once computed
        self._lots = dict(lot_sizes or {})
        self._rejection_numbers = rejection_numbers or itertools.count(1)
        self._intents: list[Intent] = []
        self._cancels: list[str] = []
        self._replaces: list[ReplaceRequest] = []
        self._rejections: list[OrderRejection] = []
        # Per hand-over: the symbols asked for (a target withdraws only where there is
        # something to withdraw), the orders asked to be cancelled, and this strategy's
        # working orders by symbol (built at the first target; the venue's book does not
        # change until the engine takes the hand-over).
        self._asked_symbols: set[str] = set()
        self._cancelled: set[str] = set()
        self._working: dict[str, list[Order]] | None = None

    # -- engine side ---------------------------------------------------------
    def set_bars(self, bars: BarSlice) -> None:
        self._bars = bars
        self._mask = None
        self._working = None

    def drain(self) -> tuple[list[Intent], list[str]]:
        """Hand over (and forget) what the strategy asked for since the last drain."""
        intents, cancels = self._intents, self._cancels
        self._intents, self._cancels = [], []
        if self._asked_symbols:
            self._asked_symbols = set()
        if self._cancelled:
            self._cancelled = set()
        self._working = None
        return intents, cancels

    def drain_rejections(self) -> list[OrderRejection]:
        """Hand over (and forget) the requests refused since the last call."""
        rejections = self._rejections
        if rejections:
            self._rejections = []
        return rejections

    def drain_replaces(self) -> list[ReplaceRequest]:
        """Hand over (and forget) the replaces asked for since the last call; the engine
        sends them to the venue after the cancels."""
        replaces, self._replaces = self._replaces, []
        return replaces

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

    def has_bars(self) -> BoolArray:
        if self._mask is None:
            if self._bars is None:
                mask = np.zeros(len(self._symbols), dtype=np.bool_)
            else:
                mask = self._history.present(self._bars.symbols)
                if self._rows is not None:
                    mask = mask[self._rows]
            mask.flags.writeable = False
            self._mask = mask
        return self._mask

    def history(self, symbol: str, field: str, n: int) -> FloatArray:
        if self._history_bars is not None and n > self._history_bars:
            self._over_declared(n)
        return self._history.last(symbol, field, n)

    def history_matrix(self, field: str, n: int) -> HistoryMatrix:
        if self._history_bars is not None and n > self._history_bars:
            self._over_declared(n)
        values, counts = self._history.last_all(field, n)
        if self._rows is not None:
            values, counts = values[self._rows], counts[self._rows]
        return HistoryMatrix(self._symbols, field, values, counts)

    def _over_declared(self, n: int) -> None:
        # Checked per strategy: the history kept is the most any strategy of the run
        # declared, so a strategy asking for more than its own would pass in company and
        # fail alone (in a sweep of it, say).
        raise ValueError(
            f"asked for {n} bars of history; strategy {self._strategy_id!r} declared at most "
            f"{self._history_bars} (history_bars)"
        )

    def position(self, symbol: str) -> Decimal:
        return self._portfolio.position(symbol, self._strategy_id)

    def lots(self, symbol: str) -> tuple[Lot, ...]:
        return self._portfolio.lots(symbol, self._strategy_id)

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

    def cancel(self, order_id: str) -> None:
        if order_id not in self._cancelled:
            self._cancelled.add(order_id)
            self._cancels.append(order_id)

    def _check_symbol(self, symbol: str) -> None:
        # What ``OrderHelpers`` checks, with a set instead of a scan of the universe.
        if symbol not in self._universe:
            super()._check_symbol(symbol)

    # -- the primitives OrderHelpers builds on ---------------------------------
    def _ask(self, intent: Intent) -> None:
        self._intents.append(intent)
        self._asked_symbols.add(intent.symbol)

    def _ask_replace(self, request: ReplaceRequest) -> None:
        self._replaces.append(request)

    def _withdraw(self, symbol: str) -> None:
        if symbol in self._asked_symbols:
            self._intents = [
                i for i in self._intents if i.symbol != symbol or not isinstance(i, OrderRequest)
            ]

    def _cancel_working(self, symbol: str) -> None:
        working = self._working
        if working is None:
            working = self._working = {}
            for order in self._execution.open_orders(self._strategy_id):
                working.setdefault(order.symbol, []).append(order)
        for order in working.pop(symbol, ()):
            self.cancel(order.id)

    def _lot(self, symbol: str) -> Decimal:
        return self._lots.get(symbol, ONE)

    def _decision_time(self) -> datetime | None:
        return None if self._bars is None else self._bars.timestamp

    def _reject(self, rejection: OrderRejection) -> None:
        self._rejections.append(rejection)

    def _rejection_id(self) -> str:
        return f"R-{next(self._rejection_numbers):06d}"

    def _last_close(self, symbol: str) -> Decimal | None:
        return self._portfolio.last_price(symbol)
