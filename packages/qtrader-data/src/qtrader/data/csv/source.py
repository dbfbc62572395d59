"""``CsvBarSource``: a folder of one CSV file per symbol, plus an optional actions file."""

from __future__ import annotations

import threading
from datetime import date

from qtrader.data._folder import FolderSource, file_stems
from qtrader.data._rows import validate_rows
from qtrader.data.csv.actions import Action, read_actions
from qtrader.data.csv.config import CsvDataConfig
from qtrader.data.csv.reader import read_table
from qtrader.data.service import HistoricalDataService
from qtrader.data.source import SymbolData
from qtrader.models import PriceAdjustment

_SUFFIX = ".csv"


class CsvBarSource(FolderSource[CsvDataConfig]):
    """Reads ``<path>/<SYMBOL>.csv``; each file is read and checked when loaded."""

    folder_holds = "SYMBOL.csv files"
    concurrent_loads = True
    """Each ``load`` reads its own file; the actions file is read once, under a lock."""

    def __init__(self, config: CsvDataConfig) -> None:
        super().__init__(config)
        self._actions_lock = threading.Lock()
        self._actions_read: dict[str, tuple[Action, ...]] | None = None

    @property
    def price_adjustment(self) -> PriceAdjustment:
        return self.config.price_adjustment

    def symbols(self) -> list[str]:
        """The stems of the ``*.csv`` files in the folder, sorted."""
        return file_stems(self.config.path, _SUFFIX)

    def expected_file(self, symbol: str) -> str:
        return f"{symbol}{_SUFFIX}"

    def _actions(self) -> dict[str, tuple[Action, ...]]:
        with self._actions_lock:
            if self._actions_read is None:
                path = self.config.actions
                self._actions_read = (
                    {}
                    if path is None
                    else read_actions(
                        path, self.config.price_adjustment, set(self.symbols()), self.expected_file
                    )
                )
            return self._actions_read

    def load(self, symbol: str, start: date | None = None, end: date | None = None) -> SymbolData:
        raw = read_table(self.config.path / f"{symbol}{_SUFFIX}", self.config.columns)
        rows = validate_rows(raw, symbol, self.config)
        return SymbolData(rows.series, self._actions().get(symbol, ()), rows.anomalies)


class CsvDataService(HistoricalDataService):
    """The ``DataService`` over a folder of CSV files (``HistoricalDataService`` of a
    ``CsvBarSource``)."""

    def __init__(self, config: CsvDataConfig) -> None:
        super().__init__(CsvBarSource(config))
        self._config = config

    @property
    def config(self) -> CsvDataConfig:
        return self._config
