"""``HistoricalDataService``: the ``DataService`` port over any adapter (``BarSource``).

It loads each requested symbol once through the adapter (validation happens
there, at the boundary), keeps the result, checks that the adapter's actions
fit its price adjustment, reports overnight gaps that look like unrecorded
splits, and streams the heap merge with each action in the slice of its
ex-date.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta

from qtrader.data.errors import Anomaly, DataError
from qtrader.data.gaps import suspected_splits
from qtrader.data.merge import merge_bar_series
from qtrader.data.series import BarSeries
from qtrader.data.source import (
    BarSource,
    FetchingSource,
    Progress,
    SymbolData,
    UpdateReport,
)
from qtrader.models import (
    BarSlice,
    CashDividend,
    Instrument,
    PriceAdjustment,
    Split,
    StreamRequest,
)


def fetch_window(request: StreamRequest) -> tuple[date, date]:
    """Sessions to ask a fetching adapter for: ``[start, end]`` plus room for the warmup.

    Warmup is counted in bars by the merge; this only has to fetch enough calendar
    days to hold them (about 1.5 calendar days a session, plus two weeks of holidays).
    """
    days = request.warmup_bars * 3 // 2 + 14 if request.warmup_bars else 0
    return request.start - timedelta(days=days), request.end


class HistoricalDataService:
    """Streams bars of one adapter; what is loaded is kept, so repeated streams
    (sweeps, look-ahead checks) do not reparse or refetch."""

    def __init__(self, source: BarSource) -> None:
        self._source = source
        self._loaded: dict[str, SymbolData] = {}
        self._anomalies: dict[str, tuple[Anomaly, ...]] = {}

    @property
    def source(self) -> BarSource:
        return self._source

    @property
    def price_adjustment(self) -> PriceAdjustment:
        return self._source.price_adjustment

    @property
    def anomalies(self) -> tuple[Anomaly, ...]:
        """Rows dropped, widened or reported in the symbols loaded so far, by symbol
        then line (gaps that look like unrecorded splits included)."""
        return tuple(a for symbol in sorted(self._anomalies) for a in self._anomalies[symbol])

    def symbols(self) -> list[str]:
        return self._source.symbols()

    def instruments(self, symbols: Sequence[str]) -> list[Instrument]:
        """One ``Instrument`` per symbol in the source's zone (no other reference data yet)."""
        self._source.check_symbols(symbols)
        zone = str(self._source.zone)
        return [Instrument(symbol=s, timezone=zone) for s in symbols]

    def load(self, symbol: str, start: date | None = None, end: date | None = None) -> SymbolData:
        """The bars, actions and anomalies of ``symbol`` (loaded once, then kept)."""
        if symbol not in self._loaded:
            self._source.check_symbols([symbol])
        return self._load_known(symbol, start, end)

    def series(self, symbol: str) -> BarSeries:
        return self.load(symbol).series

    def actions(self, symbol: str) -> tuple[Split | CashDividend, ...]:
        return self.load(symbol).actions

    def _load_known(self, symbol: str, start: date | None, end: date | None) -> SymbolData:
        kept = self._loaded.get(symbol)
        if kept is not None and _covers(kept.window, start, end):
            return kept
        data = self._source.load(symbol, start, end)
        self._check(symbol, data)
        reported = data.anomalies
        if self.price_adjustment is PriceAdjustment.UNADJUSTED:
            reported += suspected_splits(data.series, data.actions)
        self._loaded[symbol] = data
        self._anomalies[symbol] = tuple(sorted(reported, key=_anomaly_order))
        return data

    def _check(self, symbol: str, data: SymbolData) -> None:
        # An adapter's contract, checked once per load: a wrong action would
        # silently double a split or a dividend in every backtest.
        where = self._source.location
        if data.series.symbol != symbol:
            raise DataError(
                f"adapter returned {data.series.symbol!r} when asked for {symbol!r} ({where})"
            )
        allowed: tuple[type, ...] = {
            PriceAdjustment.UNADJUSTED: (Split, CashDividend),
            PriceAdjustment.SPLIT_ADJUSTED: (CashDividend,),
            PriceAdjustment.TOTAL_RETURN: (),
        }[self.price_adjustment]
        previous: date | None = None
        for action in data.actions:
            if action.symbol != symbol or not isinstance(action, allowed):
                raise DataError(
                    f"{symbol}: a {self.price_adjustment.value} feed cannot carry "
                    f"{action.kind} of {action.symbol} on {action.ex_date} ({where})"
                )
            if previous is not None and action.ex_date < previous:
                raise DataError(f"{symbol}: actions are not sorted by ex-date ({where})")
            previous = action.ex_date

    def stream(self, request: StreamRequest) -> Iterator[BarSlice]:
        """Slices of ``request.symbols`` over ``[start, end]`` after their warmup bars.

        Every symbol is loaded and checked here, before the first slice, so bad
        data fails at the call rather than midway through a backtest.
        """
        self._source.check_symbols(request.symbols)
        first, last = fetch_window(request)
        loaded = [self._load_known(s, first, last) for s in request.symbols]
        kinds = {d.series.intraday for d in loaded}
        if len(kinds) > 1:
            daily = [d.series.symbol for d in loaded if not d.series.intraday]
            intraday = [d.series.symbol for d in loaded if d.series.intraday]
            raise DataError(
                f"cannot stream daily data ({', '.join(daily)}) together with intraday "
                f"data ({', '.join(intraday)}) from {self._source.location}"
            )
        return merge_bar_series(
            [d.series for d in loaded],
            start=request.start,
            end=request.end,
            warmup_bars=request.warmup_bars,
            zone=self._source.zone,
            actions=[d.actions for d in loaded],
        )

    def update(
        self,
        symbols: Sequence[str],
        start: date,
        end: date,
        progress: Progress | None = None,
    ) -> tuple[UpdateReport, ...]:
        """Fetch what a fetching adapter's cache lacks; ``()`` for a source of local files."""
        if not isinstance(self._source, FetchingSource):
            return ()
        reports = []
        for done, symbol in enumerate(symbols, start=1):
            reports.append(self._source.update(symbol, start, end))
            self._loaded.pop(symbol, None)
            if progress is not None:
                progress(symbol, done, len(symbols))
        return tuple(reports)

    @property
    def fetches(self) -> bool:
        """Whether this source fetches from a remote API (and so has ``update``)."""
        return isinstance(self._source, FetchingSource)


def _covers(window: tuple[date, date] | None, start: date | None, end: date | None) -> bool:
    if window is None:
        return True
    if start is None or end is None:
        return False
    return window[0] <= start and end <= window[1]


def _anomaly_order(anomaly: Anomaly) -> tuple[int, str]:
    return (anomaly.line or 0, anomaly.date)
