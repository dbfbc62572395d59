"""``CsvBarSource``: a folder of one CSV file per symbol, plus an optional actions file."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cached_property
from zoneinfo import ZoneInfo

from qtrader.data._rows import validate_rows
from qtrader.data.csv.actions import Action, read_actions
from qtrader.data.csv.config import CsvDataConfig
from qtrader.data.csv.reader import read_table
from qtrader.data.errors import DataError, UnknownSymbolError
from qtrader.data.service import HistoricalDataService
from qtrader.data.source import SymbolData
from qtrader.models import PriceAdjustment

_SUFFIX = ".csv"


class CsvBarSource:
    """Reads ``<path>/<SYMBOL>.csv``; each file is read and checked when loaded."""

    def __init__(self, config: CsvDataConfig) -> None:
        if not config.path.is_dir():
            raise DataError(
                "data folder not found (expected a folder of SYMBOL.csv files)", path=config.path
            )
        self.config = config

    @property
    def location(self) -> str:
        return str(self.config.path)

    @property
    def price_adjustment(self) -> PriceAdjustment:
        return self.config.price_adjustment

    @property
    def zone(self) -> ZoneInfo:
        return self.config.zone

    def symbols(self) -> list[str]:
        """The stems of the ``*.csv`` files in the folder, sorted."""
        return sorted(
            p.name[: -len(_SUFFIX)]
            for p in self.config.path.iterdir()
            if p.name.endswith(_SUFFIX) and not p.name.startswith(".") and p.is_file()
        )

    def check_symbols(self, symbols: Sequence[str]) -> None:
        known = set(self.symbols())
        unknown = tuple(s for s in symbols if s not in known)
        if unknown:
            raise UnknownSymbolError(
                f"unknown symbol(s) {', '.join(unknown)}: no "
                f"{', '.join(s + _SUFFIX for s in unknown)} in the folder",
                path=self.config.path,
                symbols=unknown,
            )

    @cached_property
    def _actions(self) -> dict[str, tuple[Action, ...]]:
        if self.config.actions is None:
            return {}
        return read_actions(self.config.actions, self.config.price_adjustment)

    def load(self, symbol: str, start: date | None = None, end: date | None = None) -> SymbolData:
        raw = read_table(self.config.path / f"{symbol}{_SUFFIX}", self.config.columns)
        rows = validate_rows(raw, symbol, self.config)
        return SymbolData(rows.series, self._actions.get(symbol, ()), rows.anomalies)


class CsvDataService(HistoricalDataService):
    """The ``DataService`` over a folder of CSV files (``HistoricalDataService`` of a
    ``CsvBarSource``)."""

    def __init__(self, config: CsvDataConfig) -> None:
        super().__init__(CsvBarSource(config))
        self._config = config

    @property
    def config(self) -> CsvDataConfig:
        return self._config
