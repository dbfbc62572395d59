"""The backtest loop: orchestration only, through the ports in qtrader.models.

At each timestamp T, in this fixed order:

1. corporate actions effective at T reach the portfolio and the working orders,
   and a split rescales the strategies' history before T (point-in-time);
2. execution matches working orders against the bars of T;
3. the portfolio applies the fills and marks to market at T's close;
4. strategies see bars up to and including T and the portfolio, and ask for
   orders or signals (not on warmup bars, which only feed history); what their
   context refused (a bad order) is recorded as rejected, and the run goes on;
5. risk sizes and approves or rejects what they asked for;
6. approved orders go to execution, active from the next timestamp on.
"""

from __future__ import annotations

import gc
import inspect
import itertools
import logging
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

from qtrader.engine.clock import SimulationClock
from qtrader.engine.config import EngineConfig
from qtrader.engine.context import EngineStrategyContext
from qtrader.engine.history import BarHistory
from qtrader.engine.results import BacktestResult, EquityRow, ResultRecorder
from qtrader.models import (
    BarObserver,
    BarSlice,
    CashDividend,
    DataService,
    ExecutionService,
    Fill,
    Intent,
    LedgerDrain,
    OrderRequest,
    OrderUpdate,
    PendingUpdates,
    PortfolioService,
    PriceAdjustment,
    QTraderError,
    RecordSink,
    ReplaceRequest,
    RiskService,
    Side,
    Split,
    Strategy,
    StreamRequest,
)

logger = logging.getLogger("qtrader.engine")


class StrategyError(QTraderError):
    """A strategy raised: which strategy, where in its code, at which bar, and what.

    The original exception is the ``__cause__`` (its traceback is the one to debug with)."""

    def __init__(
        self, strategy_id: str, strategy: object, hook: str, at: datetime | None, exc: Exception
    ) -> None:
        self.strategy_id = strategy_id
        cls = type(strategy)
        where = where_in(cls, exc)
        when = f"at the bar of {at.isoformat()}" if at is not None else "after the last bar"
        super().__init__(
            f"strategy {strategy_id!r} ({cls.__qualname__}) raised {type(exc).__name__} in "
            f"{hook} {when}: {exc}{f' ({where})' if where else ''}"
        )


def where_in(cls: type, exc: BaseException) -> str:
    """``file:line`` of the deepest frame of the traceback in the strategy's own source
    file (else the frame that raised): the line of the strategy's code to look at."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    try:
        source = inspect.getsourcefile(cls)
    except TypeError:  # pragma: no cover - a built-in class
        source = None
    own = [f for f in frames if source is not None and f.filename == source]
    frame = own[-1] if own else frames[-1]
    return f"{frame.filename}:{frame.lineno}"


Progress = Callable[[datetime], None]
"""``progress(timestamp)``: called every ``SETTLE_EVERY`` bars and after the last."""


class EngineError(QTraderError):
    """A setup the engine refuses to run, or a run that cannot produce results."""


# Which actions a feed of each adjustment may send: on split-adjusted prices a split is
# already in the prices (applying it to positions would double it) but dividends are not;
# total-return prices include both.
APPLICABLE_ACTIONS: dict[PriceAdjustment, tuple[type[Split | CashDividend], ...]] = {
    PriceAdjustment.UNADJUSTED: (Split, CashDividend),
    PriceAdjustment.SPLIT_ADJUSTED: (CashDividend,),
    PriceAdjustment.TOTAL_RETURN: (),
}


GC_THRESHOLD = 10_000
"""Allocations between young-generation collections during a run (Python's default: 700)."""

SETTLE_EVERY = 64
"""Bars between two settlements of the heap during a run (see ``_long_lived_run``)."""


@contextmanager
def _long_lived_run() -> Iterator[Callable[[], None]]:
    """Fewer garbage collections during a run, restored afterwards; yields ``settle``.

    A backtest allocates many small records (orders, fills, ledger entries) that live to
    the end and never form cycles (a 100 x 5,000 run makes none); with the default
    threshold the collector rescans them over and over (about 0.5 s of such a run). What
    exists before the loop is frozen out of collection altogether, and ``settle`` (the
    engine calls it every ``SETTLE_EVERY`` bars) does the same for what was made since:
    one collection, which frees any cycle those bars left behind, then the survivors are
    frozen, so later collections scan only newer objects (this saves about 0.15 s of
    such a run). Results do not depend on when collection runs.
    """
    threshold = gc.get_threshold()

    def settle() -> None:
        gc.collect()
        gc.freeze()

    settle()
    gc.set_threshold(GC_THRESHOLD, *threshold[1:])
    try:
        yield settle
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _lot_sizes(data: DataService, symbols: tuple[str, ...]) -> dict[str, Decimal]:
    """The lot size of each symbol from the data's instruments. A symbol the data does
    not know has no bars either: the run says so (lots of one share meanwhile)."""
    try:
        instruments = data.instruments(symbols)
    except KeyError:
        return {}
    return {i.symbol: i.lot_size for i in instruments}


class BacktestEngine:
    """Drives injected services; owns no business logic of its own."""

    def __init__(
        self,
        config: EngineConfig,
        data: DataService,
        portfolio: PortfolioService,
        execution: ExecutionService,
        risk: RiskService,
        strategies: Mapping[str, Strategy],
        sink: RecordSink | None = None,
        records_per_batch: int = 8192,
    ) -> None:
        """``sink``: where the records go as the run goes (see ``RecordSink``), about
        ``records_per_batch`` at a time, cut between two bar slices; without it they are
        kept to the end and returned in the ``BacktestResult``."""
        if not strategies:
            raise EngineError("at least one strategy is needed")
        self._config = config
        self._data = data
        self._portfolio = portfolio
        self._execution = execution
        self._risk = risk
        # A risk service that keeps rolling windows or the equity path sees every slice.
        self._observe_risk = risk.observe if isinstance(risk, BarObserver) else None
        self._strategies = dict(strategies)
        self.clock = SimulationClock()
        # Only as much history as the strategies said they read (all must say it).
        wanted = [_declared(s) for s in self._strategies.values()]
        keep = None if None in wanted else max(1, *(int(w) for w in wanted if w is not None))
        self._history = BarHistory(config.symbols, keep=keep)
        view = portfolio.view()
        self._view = view
        lots = _lot_sizes(data, config.symbols)
        rejection_numbers = itertools.count(1)  # R-000001, ... across strategies
        self._contexts = {
            sid: EngineStrategyContext(
                sid,
                config.symbols,
                self._history,
                view,
                execution,
                logger.getChild(sid),
                lot_sizes={s: lot for s, lot in lots.items() if lot != 1},
                rejection_numbers=rejection_numbers,
                history_bars=_declared(strategy),
            )
            for sid, strategy in self._strategies.items()
        }
        self._recorder = ResultRecorder(sink)
        self._streaming = sink is not None
        if records_per_batch < 1:
            raise EngineError(f"records_per_batch must be at least 1, got {records_per_batch}")
        self._records_per_batch = records_per_batch
        # A portfolio that hands its ledger over keeps no entry to the end either.
        self._drain_ledger = (
            portfolio.drain_ledger
            if sink is not None and isinstance(portfolio, LedgerDrain)
            else None
        )
        self._started = False

    def run(self, progress: Progress | None = None) -> BacktestResult:
        """Run to the end. ``progress`` (e.g. a progress bar) hears the time of the bars
        every ``SETTLE_EVERY`` bars. A strategy's exception stops the run as a
        ``StrategyError`` naming the strategy, its file and line, and the bar."""
        applicable = APPLICABLE_ACTIONS[self._data.price_adjustment]
        request = StreamRequest(
            symbols=self._config.symbols,
            start=self._config.start,
            end=self._config.end,
            warmup_bars=self._config.warmup_bars,
        )
        last: BarSlice | None = None
        with _long_lived_run() as settle:
            for count, bars in enumerate(self._data.stream(request), start=1):
                self._step(bars, applicable)
                last = bars
                if self._streaming and self._recorder.pending >= self._records_per_batch:
                    self._flush()
                if count % SETTLE_EVERY == 0:
                    settle()
                    if progress is not None:
                        progress(bars.timestamp)
        if last is not None and progress is not None:
            progress(last.timestamp)
        if last is None or not self._started:
            raise EngineError(
                f"no bars for {list(self._config.symbols)} between "
                f"{self._config.start} and {self._config.end}"
            )
        for sid, strategy in self._strategies.items():
            try:
                strategy.on_end(self._contexts[sid])
            except Exception as exc:
                raise StrategyError(sid, strategy, "on_end", None, exc) from exc
            self._record_rejections(sid, last.timestamp)
        if isinstance(self._execution, PendingUpdates):  # e.g. the last bar's acceptances
            self._recorder.updates(self._execution.drain_updates())
        ledger = self._portfolio.ledger()
        if self._drain_ledger is not None:
            ledger = self._drain_ledger()
        return self._recorder.result(
            self._portfolio.snapshot(), self._execution.open_orders(), ledger
        )

    def _flush(self) -> None:
        """Hand the records of the slices so far to the sink (between two slices)."""
        self._recorder.flush(() if self._drain_ledger is None else self._drain_ledger())

    def _ask_strategies(self, bars: BarSlice, fills: Sequence[Fill]) -> list[Intent]:
        """(4) Strategies see the bars (``on_start`` first, then ``on_fill``, ``on_bar``);
        their cancels and replaces go to the venue, their intents are returned for risk."""
        if not self._started:
            self._started = True
            for sid, strategy in self._strategies.items():
                try:
                    strategy.on_start(self._contexts[sid])
                except Exception as exc:
                    raise StrategyError(sid, strategy, "on_start", bars.timestamp, exc) from exc
        for fill in fills:
            owner = self._strategies.get(fill.strategy_id)
            if owner is not None:
                try:
                    owner.on_fill(self._contexts[fill.strategy_id], fill)
                except Exception as exc:
                    raise StrategyError(
                        fill.strategy_id, owner, "on_fill", bars.timestamp, exc
                    ) from exc
        intents = []
        for sid, strategy in self._strategies.items():  # (4)
            try:
                strategy.on_bar(self._contexts[sid])
            except Exception as exc:  # the strategy's bug, named; the run stops here
                raise StrategyError(sid, strategy, "on_bar", bars.timestamp, exc) from exc
            asked, cancels = self._contexts[sid].drain()
            intents.extend(asked)
            self._record_rejections(sid, bars.timestamp)
            if cancels:
                # A strategy cancels only its own working orders; any other id is ignored
                # with a warning (never another strategy's order, never silently).
                own = {o.id for o in self._execution.open_orders(sid)}
                for order_id in cancels:
                    if order_id not in own:
                        logger.getChild(sid).warning(
                            "%s [%s] cancel of %s ignored: not a working order of this strategy",
                            bars.timestamp.isoformat(),
                            sid,
                            order_id,
                        )
                        continue
                    update = self._execution.cancel(order_id, bars.timestamp)
                    self._recorder.updates(() if update is None else (update,))
            for change in self._contexts[sid].drain_replaces():
                update = self._replace(change, bars.timestamp)
                self._recorder.updates(() if update is None else (update,))
        return intents

    def _step(self, bars: BarSlice, applicable: tuple[type[Split | CashDividend], ...]) -> None:
        before = self.clock.current  # the slice before this one (None: this is the first)
        self.clock.advance(bars.timestamp)
        for action in bars.actions:  # (1)
            if not isinstance(action, applicable):
                raise EngineError(
                    f"the data feed's prices are {self._data.price_adjustment.value} but it "
                    f"sent a corporate action ({action.kind} of {action.symbol} on "
                    f"{action.ex_date}); applying it would count it twice"
                )
            # Booked before the fills of T, which are stamped from T's opening on: stamped
            # at the opening too (no earlier than the slice before closed: with bars of
            # different lengths an hourly bar opens before the last 30-minute one closed),
            # the ledger's times never go backwards.
            at = bars.opened_at if before is None else max(bars.opened_at, before)
            self._portfolio.apply_action(action, at)
            self._recorder.updates(self._execution.apply_action(action, at))
            if isinstance(action, Split):
                # Strategies see history split-adjusted as of T: only now, at the ex-date,
                # are the earlier bars rescaled; nothing before T knew of this split.
                self._history.apply_split(action.symbol, float(action.ratio))
        report = self._execution.process(bars)  # (2)
        self._recorder.updates(report.updates)
        for order in report.orders:  # placed by the venue: the exits of a filled bracket
            self._recorder.order(order)
        fills = report.fills
        if fills:  # (3)
            apply_fill, record_fill = self._portfolio.apply_fill, self._recorder.fill
            for fill in fills:
                apply_fill(fill)
                record_fill(fill)
        self._portfolio.mark(bars)
        self._history.append(bars)
        if self._observe_risk is not None:
            self._observe_risk(bars, self._view)
        for ctx in self._contexts.values():
            ctx.set_bars(bars)
        if bars.warmup:
            return
        self._recorder.equity(EquityRow(bars.timestamp, self._view.cash, self._view.equity))
        intents = self._ask_strategies(bars, report.fills)
        if not intents:
            return
        working = self._execution.open_orders()
        prices = self._last_prices({*[i.symbol for i in intents], *[o.symbol for o in working]})
        decisions = self._risk.decide(intents, self._view, prices, bars.timestamp, working)
        record_decision, record_order = self._recorder.decision, self._recorder.order
        submit = self._execution.submit
        for decision in decisions:  # (5)
            record_decision(decision)
            if decision.order is not None:  # (6)
                record_order(submit(decision.order, bars.timestamp))

    def _replace(self, change: ReplaceRequest, at: datetime) -> OrderUpdate | None:
        """Send a replace to the venue; one that adds risk only if risk approves, as asked,
        the order it would make.

        A replace can make an order as large or as costly as a new one (a buy of 1 turned
        into 5,000 at a higher limit), so one that adds risk (more left to fill, or a buy
        valued higher) passes risk as a new order would: the order as it would stand,
        checked against the other working orders (not a bracket exit's sibling: one of the
        two fills), its decision recorded with ``replaces`` naming the order. Resized or
        rejected, it is not sent (the order stays as it was) and the strategy's log says
        why. One that only takes risk off (less to fill, a lower buy price, any sell
        price) goes straight to the venue: refusing it would leave more risk working."""
        working = self._execution.open_orders()
        current = next((o for o in working if o.id == change.order_id), None)
        if current is None or current.strategy_id != change.strategy_id or not change.changes():
            return self._execution.replace(change, at)  # the venue answers as it does
        fields = {name: getattr(current, name) for name in OrderRequest.model_fields}
        try:
            asked = OrderRequest.model_validate({**fields, **change.changes()})
        except ValueError:  # an impossible change: the venue refuses it with its reason
            return self._execution.replace(change, at)
        if not _adds_risk(current, asked, self._view.last_price(asked.symbol)):
            return self._execution.replace(change, at)
        # Without the order itself, and for a bracket's exit without its sibling: one of
        # the two fills, never both, and the exit asked stands for the pair.
        pair = current.parent_id
        others = tuple(
            o for o in working if o.id != current.id and (pair is None or o.parent_id != pair)
        )
        prices = self._last_prices({asked.symbol, *(o.symbol for o in others)})
        (decision,) = self._risk.decide([asked], self._view, prices, at, others)
        done = decision.order is not None and decision.order.quantity == asked.quantity
        self._recorder.decision(decision.model_copy(update={"replaces": current.id}))
        if done:
            return self._execution.replace(change, at)
        logger.getChild(change.strategy_id).warning(
            "%s [%s] replace of %s not sent: risk %s it (%s)",
            at.isoformat(),
            change.strategy_id,
            current.id,
            "rejected" if decision.order is None else "resized",
            decision.reason,
        )
        return None

    def _last_prices(self, symbols: Iterable[str]) -> dict[str, Decimal]:
        """The latest close of each of ``symbols`` that has one."""
        last_price = self._view.last_price
        prices: dict[str, Decimal] = {}
        for symbol in symbols:
            price = last_price(symbol)
            if price is not None:
                prices[symbol] = price
        return prices

    def _record_rejections(self, sid: str, at: datetime) -> None:
        """Record what the context of ``sid`` refused (usually nothing)."""
        rejections = self._contexts[sid].drain_rejections()
        for rejection in rejections:
            self._recorder.rejection(rejection, at)


def _declared(strategy: Strategy) -> int | None:
    """The ``history_bars`` a strategy declares (at least 1), ``None`` if it does not."""
    wanted = getattr(strategy, "history_bars", None)
    return None if wanted is None else max(1, int(wanted))


def _adds_risk(current: OrderRequest, asked: OrderRequest, price: Decimal | None) -> bool:
    """Whether ``asked`` (an order as a replace would make it) could breach a limit that
    ``current`` (it as it works now, ``quantity`` what is left to fill) could not: more to
    fill, or for a buy a higher price to pay (its limit, else its stop when above the last
    price, as risk values a buy)."""
    if asked.quantity > current.quantity:
        return True
    if asked.side is Side.SELL:
        return False
    return _buy_price(asked, price) > _buy_price(current, price)


def _buy_price(order: OrderRequest, price: Decimal | None) -> Decimal:
    if order.limit_price is not None:
        return order.limit_price
    if order.stop_price is not None:
        return order.stop_price if price is None else max(order.stop_price, price)
    return price if price is not None else Decimal(0)
