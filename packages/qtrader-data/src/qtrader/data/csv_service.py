"""``CsvDataService``: the ``DataService`` port over a folder of per-symbol CSV files."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from qtrader.data._csv_loader import load_csv_series
from qtrader.data.config import CsvDataConfig
from qtrader.data.errors import Anomaly, DataError, UnknownSymbolError
from qtrader.data.merge import merge_bar_series
from qtrader.data.series import BarSeries
from qtrader.models import BarSlice, Instrument, PriceAdjustment, StreamRequest

_SUFFIX = ".csv"


class CsvDataService:
    """Streams bars from ``<path>/<SYMBOL>.csv`` files, validated when first loaded.

    Each file is read and checked once, on first use, and its arrays cached,
    so repeated streams (sweeps, look-ahead checks) do not reparse.
    """

    def __init__(self, config: CsvDataConfig) -> None:
        if not config.path.is_dir():
            raise DataError(
                "data folder not found (expected a folder of SYMBOL.csv files)", path=config.path
            )
        self._config = config
        self._series: dict[str, BarSeries] = {}
        self._anomalies: dict[str, tuple[Anomaly, ...]] = {}

    @property
    def config(self) -> CsvDataConfig:
        return self._config

    @property
    def price_adjustment(self) -> PriceAdjustment:
        return self._config.price_adjustment

    @property
    def anomalies(self) -> tuple[Anomaly, ...]:
        """Rows dropped (``repair``) or widened (``tolerance``) in the files loaded so far,
        by symbol then line."""
        return tuple(a for symbol in sorted(self._anomalies) for a in self._anomalies[symbol])

    def symbols(self) -> list[str]:
        """The stems of the ``*.csv`` files in the folder, sorted."""
        return sorted(
            p.name[: -len(_SUFFIX)]
            for p in self._config.path.iterdir()
            if p.name.endswith(_SUFFIX) and not p.name.startswith(".") and p.is_file()
        )

    def instruments(self, symbols: Sequence[str]) -> list[Instrument]:
        """One ``Instrument`` per symbol (this feed has no reference data beyond the zone)."""
        self._require_known(symbols)
        return [Instrument(symbol=s, timezone=self._config.timezone) for s in symbols]

    def load(self, symbol: str) -> BarSeries:
        """The validated bars of ``symbol`` (read once, then cached)."""
        if symbol not in self._series:
            self._require_known([symbol])
        return self._load_known(symbol)

    def _load_known(self, symbol: str) -> BarSeries:
        cached = self._series.get(symbol)
        if cached is not None:
            return cached
        series, anomalies = load_csv_series(
            self._config.path / f"{symbol}{_SUFFIX}", symbol, self._config
        )
        self._series[symbol] = series
        self._anomalies[symbol] = anomalies
        return series

    def stream(self, request: StreamRequest) -> Iterator[BarSlice]:
        """Slices of ``request.symbols`` over ``[start, end]`` after their warmup bars.

        Files are loaded and checked here, before the first slice, so bad data
        fails at the call rather than midway through a backtest.
        """
        self._require_known(request.symbols)
        series = [self._load_known(s) for s in request.symbols]
        kinds = {s.intraday for s in series}
        if len(kinds) > 1:
            daily = [s.symbol for s in series if not s.intraday]
            intraday = [s.symbol for s in series if s.intraday]
            raise DataError(
                f"cannot stream daily files ({', '.join(daily)}) together with intraday "
                f"files ({', '.join(intraday)})",
                path=self._config.path,
            )
        return merge_bar_series(
            series,
            start=request.start,
            end=request.end,
            warmup_bars=request.warmup_bars,
            zone=self._config.zone,
        )

    def _require_known(self, symbols: Iterable[str]) -> None:
        known = set(self.symbols())
        unknown = tuple(s for s in symbols if s not in known)
        if unknown:
            raise UnknownSymbolError(
                f"unknown symbol(s) {', '.join(unknown)}: no "
                f"{', '.join(s + _SUFFIX for s in unknown)} in the folder",
                path=self._config.path,
                symbols=unknown,
            )
