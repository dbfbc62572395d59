"""The ports: Protocols through which the engine drives every service.

No service imports another; each implements one of these and receives what
it needs through its constructor. A live data feed or a broker replaces the
simulated services by implementing the same Protocols.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from qtrader.models.ledger import LedgerEntry
from qtrader.models.market import (
    Bar,
    BarSlice,
    CashDividend,
    FloatArray,
    Instrument,
    PriceAdjustment,
    Split,
    StreamRequest,
)
from qtrader.models.orders import (
    ExecutionReport,
    Fill,
    Order,
    OrderRequest,
    OrderType,
    OrderUpdate,
    ReplaceRequest,
    Side,
    TimeInForce,
)
from qtrader.models.portfolio import Lot, PortfolioState
from qtrader.models.results import RecordBatch
from qtrader.models.signals import Intent, RiskDecision, SignalDirection

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@runtime_checkable
class Clock(Protocol):
    """Where time comes from. In a backtest: the simulation clock, never the wall clock."""

    def now(self) -> datetime: ...


@runtime_checkable
class DataService(Protocol):
    """Market data: instruments and a time-aligned stream of bar slices."""

    @property
    def price_adjustment(self) -> PriceAdjustment:
        """Which adjustment the streamed prices carry (decides whether actions apply)."""
        ...

    def symbols(self) -> list[str]:
        """Symbols this source can stream."""
        ...

    def instruments(self, symbols: Sequence[str]) -> list[Instrument]:
        """Instrument details; raises ``KeyError`` naming an unknown symbol."""
        ...

    def stream(self, request: StreamRequest) -> Iterator[BarSlice]:
        """Slices in strictly increasing timestamp order: every bar stamped T before
        any bar of T+1. Warmup slices (before ``start``) come first, flagged."""
        ...


@runtime_checkable
class PortfolioView(Protocol):
    """Read-only view of the portfolio, handed to anything that must not mutate it."""

    @property
    def cash(self) -> Decimal: ...

    @property
    def equity(self) -> Decimal: ...

    def position(self, symbol: str, strategy_id: str | None = None) -> Decimal:
        """Signed quantity held (by one strategy, or in total)."""
        ...

    def last_price(self, symbol: str) -> Decimal | None:
        """The last mark of ``symbol``, or ``None`` if it was never marked."""
        ...

    def lots(self, symbol: str, strategy_id: str | None = None) -> tuple[Lot, ...]:
        """The open lots of ``symbol`` (of one strategy, or of all), oldest first: what an
        order may name in ``close_lots`` (``Lot.lot_id``). A book without lots gives ``()``."""
        ...

    def snapshot(self) -> PortfolioState: ...


@runtime_checkable
class PortfolioService(PortfolioView, Protocol):
    """The book of record. Only the engine calls the mutating methods."""

    def apply_fill(self, fill: Fill) -> None: ...

    def apply_action(self, action: Split | CashDividend, timestamp: datetime) -> None: ...

    def mark(self, bars: BarSlice) -> None:
        """Mark to market at the bars' close; symbols without a bar keep their last price."""
        ...

    def view(self) -> PortfolioView:
        """A read-only facade over this portfolio."""
        ...

    def ledger(self) -> tuple[LedgerEntry, ...]:
        """Every change of cash or position booked so far, in order (for the results)."""
        ...


@runtime_checkable
class ExecutionService(Protocol):
    """Where orders go: a simulated venue in a backtest, a broker when live."""

    def submit(self, request: OrderRequest, at: datetime) -> Order:
        """Accept an order decided at ``at``; it is active from the next bar on."""
        ...

    def cancel(self, order_id: str, at: datetime) -> OrderUpdate | None:
        """Cancel a working order; ``None`` when it is not working any more."""
        ...

    def replace(self, request: ReplaceRequest, at: datetime) -> OrderUpdate | None:
        """Modify a working order's quantity (what is left to fill) or prices, decided at
        ``at`` (it keeps its id and place; the change applies from the next bar on). An
        update with status ``REPLACED`` says what changed; a change the venue cannot make
        leaves the order as it was and is answered with its current status and the
        reason; ``None`` when the order is not working any more."""
        ...

    def process(self, bars: BarSlice) -> ExecutionReport:
        """Match working orders against the bars of one timestamp."""
        ...

    def apply_action(
        self, action: Split | CashDividend, timestamp: datetime
    ) -> tuple[OrderUpdate, ...]:
        """Adjust or cancel working orders of a symbol that splits, effective at ``timestamp``
        (the first bar of the ex-date, before it is matched)."""
        ...

    def open_orders(self, strategy_id: str | None = None) -> tuple[Order, ...]:
        """Orders still working, each with what is left to fill as its quantity (a broker
        adapter reports the same: its open quantity, not the original one)."""
        ...


@runtime_checkable
class RiskService(Protocol):
    """Sizes intents and approves, resizes or rejects them before they are sent."""

    def decide(
        self,
        intents: Sequence[Intent],
        portfolio: PortfolioView,
        prices: Mapping[str, Decimal],
        at: datetime,
        open_orders: Sequence[Order] = (),
    ) -> list[RiskDecision]:
        """One decision per intent, in order. ``prices`` are the latest closes of the
        symbols of the intents and of ``open_orders``. Orders still working at the
        venue count as committed: their cash and quantities are spoken for."""
        ...


@runtime_checkable
class BarObserver(Protocol):
    """Optional for a service the engine drives: it is shown every bar slice.

    The engine calls ``observe`` of a risk service that has it, so that risk can keep
    what it needs from every bar (rolling closes and volumes, the equity path) and not
    only from the bars where strategies asked for something.
    """

    def observe(self, bars: BarSlice, portfolio: PortfolioView) -> None:
        """Once per slice, warmup included, after its fills are booked and the portfolio
        is marked at its closes, before strategies see it."""
        ...


@runtime_checkable
class PendingUpdates(Protocol):
    """Optional for an execution service that reports some updates with the next bars
    (acceptances): at the end of a run, the engine takes what is still unreported, so
    that an order decided on the last bar is reported accepted like any other."""

    def drain_updates(self) -> tuple[OrderUpdate, ...]:
        """The updates not reported yet, in order; each is reported once."""
        ...


@runtime_checkable
class LedgerDrain(Protocol):
    """Optional for a portfolio service: hand over the ledger entries booked since the
    last call and forget them, so a long run that streams its records (``RecordSink``)
    does not keep every entry to the end. ``ledger()`` then returns only what was not
    drained; entries keep their sequence numbers."""

    def drain_ledger(self) -> tuple[LedgerEntry, ...]:
        """The entries booked since the previous call, in order; each is handed over once."""
        ...


class RecordSink(Protocol):
    """Where a run's records go as it runs (e.g. result files written in chunks), instead
    of being kept to the end: the engine hands it a ``RecordBatch`` every so often and
    the rest at the end, and returns a ``BacktestResult`` whose records are empty."""

    def write(self, batch: RecordBatch) -> None:
        """Take the next records (every record of the run reaches it once, in order)."""
        ...


@dataclass(frozen=True, slots=True, eq=False)
class HistoryMatrix:
    """The last ``n`` values of one field for every symbol of the universe, up to and
    including T: what ``StrategyContext.history_matrix(field, n)`` returns.

    ``values`` has shape ``(len(symbols), n)``; row ``i`` belongs to ``symbols[i]`` (the
    context's ``symbols`` order) and is **right-aligned**: column ``n - 1`` is the symbol's
    latest value (T's if it has a bar at T, else its last one before T), column ``n - 1 - k``
    the value k of *its own* bars earlier. A symbol that skipped a timestamp did not advance,
    exactly as in ``history(symbol, field, n)``. ``counts[i]`` says how many of the ``n``
    exist (``min(bars so far, n)``); the first ``n - counts[i]`` columns are NaN, so
    ``values[i, n - counts[i]:]`` equals ``history(symbols[i], field, n)`` bit for bit.

    Both arrays are read-only snapshots (copies): later bars and splits never change them.
    ``values`` is C-contiguous, so a row-wise ``values[:, -k:].sum(axis=1)`` runs the same
    reduction, bit for bit, as ``history(symbol, field, k).sum()`` does per symbol.
    """

    symbols: tuple[str, ...]
    field: str
    values: FloatArray
    counts: IntArray

    def __post_init__(self) -> None:
        rows = len(self.symbols)
        if self.values.ndim != 2 or self.values.shape[0] != rows:
            raise ValueError(
                f"HistoryMatrix values have shape {self.values.shape}, expected ({rows}, n)"
            )
        if self.counts.shape != (rows,):
            raise ValueError(
                f"HistoryMatrix counts have shape {self.counts.shape}, expected ({rows},)"
            )
        self.values.flags.writeable = False
        self.counts.flags.writeable = False

    @property
    def n(self) -> int:
        """The window length asked for (the number of columns)."""
        return int(self.values.shape[1])

    @property
    def complete(self) -> BoolArray:
        """Per symbol: whether all ``n`` values exist (``counts == n``)."""
        complete: BoolArray = self.counts == self.values.shape[1]
        return complete

    @property
    def valid(self) -> BoolArray:
        """``(len(symbols), n)`` mask of the cells that hold a value (not padding)."""
        n = self.values.shape[1]
        valid: BoolArray = np.arange(n) >= (n - self.counts)[:, None]
        return valid

    def row(self, symbol: str) -> FloatArray:
        """The existing values of one symbol, oldest first (what ``history`` returns)."""
        try:
            i = self.symbols.index(symbol)
        except ValueError:
            raise KeyError(
                f"unknown symbol {symbol!r}; the universe is {list(self.symbols)}"
            ) from None
        return self.values[i, self.values.shape[1] - int(self.counts[i]) :]


@runtime_checkable
class StrategyContext(Protocol):
    """What a strategy sees at time T: nothing after T, and no way to mutate services.

    An order, target or signal that cannot be taken (an unknown symbol, a quantity that
    is not positive or rounds to nothing at the lot size, a price that is not a finite
    positive number) is refused with a reason naming the strategy, the symbol and the
    bar, and recorded as rejected; it never raises, so the run goes on.
    """

    @property
    def strategy_id(self) -> str: ...

    @property
    def timestamp(self) -> datetime: ...

    @property
    def symbols(self) -> tuple[str, ...]:
        """The whole universe of the backtest."""
        ...

    def has_bar(self, symbol: str) -> bool:
        """Whether ``symbol`` has a bar stamped at the current timestamp."""
        ...

    def has_bars(self) -> BoolArray:
        """Read-only mask over ``symbols`` (same order): which have a bar stamped at T."""
        ...

    def bar(self, symbol: str) -> Bar | None:
        """The bar of ``symbol`` stamped at the current timestamp, or ``None``."""
        ...

    def history(self, symbol: str, field: str, n: int) -> FloatArray:
        """The last ``n`` values (or fewer, if fewer exist) of ``field`` up to and
        including T, oldest first, as a read-only array. It may be a view valid for this
        bar only (the engine's is): ``.copy()`` what must outlast the bar."""
        ...

    def history_matrix(self, field: str, n: int) -> HistoryMatrix:
        """``history(symbol, field, n)`` for every symbol of ``symbols`` at once: a
        ``(len(symbols), n)`` right-aligned, NaN-padded read-only block and the count of
        values that exist per symbol (see ``HistoryMatrix``)."""
        ...

    def position(self, symbol: str) -> Decimal:
        """This strategy's signed quantity in ``symbol``."""
        ...

    def lots(self, symbol: str) -> tuple[Lot, ...]:
        """This strategy's open lots in ``symbol``, oldest first (``Lot.lot_id`` is what
        ``sell(..., close_lots=[...])`` names)."""
        ...

    @property
    def cash(self) -> Decimal:
        """The whole account's cash, shared by every strategy of the run (not a share of
        it: two strategies each sizing at 60% of ``equity`` ask for 120%)."""
        ...

    @property
    def equity(self) -> Decimal:
        """The whole account's equity (cash and every strategy's positions at their last
        marks); ``order_target_percent`` sizes on it."""
        ...

    def open_orders(self) -> tuple[Order, ...]:
        """This strategy's working orders, each with what is left to fill as its
        quantity."""
        ...

    def buy(
        self,
        symbol: str,
        quantity: Decimal | int | float,
        *,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str | None = None,
        trailing: Decimal | int | str | None = None,
        close_lots: Sequence[str] = (),
        order_type: OrderType | str | None = None,
        expire_at: datetime | None = None,
    ) -> None:
        """Buy; the order type follows from the prices given (none: market). ``trailing``
        makes it a trailing stop by an amount (``Decimal("0.50")``) or a percent (``"2%"``).
        ``close_lots`` names lots (``lots(symbol)``) that its fills close first.
        ``order_type`` names a type prices cannot imply (``"market_on_open"``,
        ``"market_on_close"``); ``expire_at`` ends a ``gtd`` order."""
        ...

    def sell(
        self,
        symbol: str,
        quantity: Decimal | int | float,
        *,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str | None = None,
        trailing: Decimal | int | str | None = None,
        close_lots: Sequence[str] = (),
        order_type: OrderType | str | None = None,
        expire_at: datetime | None = None,
    ) -> None:
        """Sell; the order type follows from the prices given (none: market). ``trailing``
        makes it a trailing stop by an amount (``Decimal("0.50")``) or a percent (``"2%"``).
        ``close_lots`` names lots (``lots(symbol)``) that its fills close first.
        ``order_type`` names a type prices cannot imply (``"market_on_open"``,
        ``"market_on_close"``); ``expire_at`` ends a ``gtd`` order."""
        ...

    def bracket(
        self,
        symbol: str,
        quantity: Decimal | int,
        *,
        stop_loss: Decimal | int | str | None,
        take_profit: Decimal | int | str | None,
        side: Side = Side.BUY,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str | None = None,
    ) -> None:
        """An entry whose fill makes the venue place a stop-loss and a take-profit on the
        other side, one cancelling the other."""
        ...

    def replace(
        self,
        order_id: str,
        *,
        quantity: Decimal | int | None = None,
        limit_price: Decimal | int | str | None = None,
        stop_price: Decimal | int | str | None = None,
    ) -> None:
        """Modify one of this strategy's working orders from the next bar on (same id)."""
        ...

    def order_target_quantity(
        self, symbol: str, target: Decimal | int | float, *, limit_price: Decimal | None = None
    ) -> None:
        """Make the position ``target``: cancel this strategy's working orders in ``symbol``,
        withdraw its orders asked there in this bar, order the difference from the position
        (market, or limit at ``limit_price``). Rounded toward zero to the lot size."""
        ...

    def order_target_percent(
        self, symbol: str, fraction: float, *, limit_price: Decimal | None = None
    ) -> None:
        """Target ``fraction`` of equity in ``symbol`` sized at the last close, rounded
        toward zero to the lot size; then as ``order_target_quantity``."""
        ...

    def signal(
        self,
        symbol: str,
        direction: SignalDirection,
        strength: float = 1.0,
        weight: float | Decimal | None = None,
    ) -> None:
        """Ask risk to size a position; ``weight`` (> 0) is the fraction of equity a
        target-weight policy holds (``Signal.weight``; ``None``: the policy's own)."""
        ...

    def cancel(self, order_id: str) -> None: ...

    def log(self, message: str) -> None: ...


@runtime_checkable
class Strategy(Protocol):
    """A trading strategy. Derive from ``BaseStrategy`` to implement only what you need."""

    def on_start(self, ctx: StrategyContext) -> None: ...

    def on_bar(self, ctx: StrategyContext) -> None: ...

    def on_fill(self, ctx: StrategyContext, fill: Fill) -> None: ...

    def on_end(self, ctx: StrategyContext) -> None: ...


class BaseStrategy:
    """No-op hooks, so a strategy overrides only the ones it needs."""

    history_bars: int | None = None
    """The most bars of history this strategy ever asks for (the ``n`` of
    ``ctx.history``/``ctx.history_matrix``), or ``None``: no limit. When every strategy of a
    run declares it, the engine keeps only that many bars per symbol, so memory grows with
    the symbols, not with the length of the run; asking for more is an error naming it."""

    def on_start(self, ctx: StrategyContext) -> None:
        """Called once before the first bar."""

    def on_bar(self, ctx: StrategyContext) -> None:
        """Called at each traded timestamp, after fills and marks at that timestamp."""

    def on_fill(self, ctx: StrategyContext, fill: Fill) -> None:
        """Called for each fill of one of this strategy's orders."""

    def on_end(self, ctx: StrategyContext) -> None:
        """Called once after the last bar."""
