"""``AlgoseekBarSource``: a folder of Algoseek US Equity Daily OHLC files, any names.

The folder is indexed once per source by the ``Ticker`` and ``SecId`` inside
the files. A symbol's rows are, with a security master, those of the SecIds its
ticker named on the dates it named them; without one, the rows whose ``Ticker``
is the symbol. Files are loaded whole, so the previous close of a dividend and
the anchor of every adjustment (the last row) never depend on the requested
dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from qtrader.data._ticks import bad_ticks
from qtrader.data.algoseek._actions import apply_view, read_events, volume_factor_checks
from qtrader.data.algoseek._index import FolderIndex, build_index
from qtrader.data.algoseek._master import TickerSpan, read_security_master
from qtrader.data.algoseek._reader import AlgoseekTable, read_file
from qtrader.data.algoseek._symbol_rows import (
    SymbolRows,
    file_rows,
    merge_files,
    session_dates,
)
from qtrader.data.algoseek.config import AlgoseekConfig
from qtrader.data.errors import Anomaly, DataError, UnknownSymbolError
from qtrader.data.series import BarSeries, IntArray
from qtrader.data.source import SymbolData
from qtrader.models import PriceAdjustment


class AlgoseekBarSource:
    """Algoseek daily bars in the configured ``adjustment`` view (see ``_actions``)."""

    def __init__(self, config: AlgoseekConfig) -> None:
        if not config.path.is_dir():
            raise DataError(
                "data folder not found (expected a folder of Algoseek daily OHLC files)",
                path=config.path,
            )
        self.config = config
        # Parsed files holding several securities (e.g. one file per day): read once.
        self._shared_tables: dict[Path, AlgoseekTable] = {}

    @property
    def location(self) -> str:
        return str(self.config.path)

    @property
    def price_adjustment(self) -> PriceAdjustment:
        return self.config.adjustment

    @property
    def zone(self) -> ZoneInfo:
        return self.config.zone

    @cached_property
    def _index(self) -> FolderIndex:
        return build_index(self.config.path, skip=self.config.security_master)

    @cached_property
    def _master(self) -> dict[str, tuple[TickerSpan, ...]] | None:
        if self.config.security_master is None:
            return None
        return read_security_master(self.config.security_master)

    def symbols(self) -> list[str]:
        """Tickers found in the files; with a master, its tickers whose SecId has files."""
        index = self._index
        if self._master is None:
            return sorted(index.by_ticker)
        return sorted(
            ticker
            for ticker, spans in self._master.items()
            if any(span.sec_id in index.by_sec_id for span in spans)
        )

    def check_symbols(self, symbols: Sequence[str]) -> None:
        known = set(self.symbols())
        unknown = tuple(dict.fromkeys(s for s in symbols if s not in known))
        if not unknown:
            return
        if self._master is None:
            why = "no file in the folder has that Ticker"
        else:
            why = (
                f"not in the security master {self.config.security_master}, or no file in "
                "the folder holds the SecId it names"
            )
        raise UnknownSymbolError(
            f"unknown symbol(s) {', '.join(unknown)}: {why} (files are indexed by their "
            f"Ticker and SecId columns, not their names; {len(self._index.files)} file(s))",
            path=self.config.path,
            symbols=unknown,
        )

    def _table(self, path: Path) -> AlgoseekTable:
        table = self._shared_tables.get(path)
        if table is None:
            table = read_file(path)
            if path in self._index.shared:
                self._shared_tables[path] = table
        return table

    def _selected(self, symbol: str) -> list[tuple[AlgoseekTable, IntArray]]:
        """Each file holding ``symbol`` and the indexes of its rows there."""
        index, master = self._index, self._master
        if master is None:
            return [
                (table, np.flatnonzero(table.tickers == symbol))
                for table in map(self._table, index.by_ticker[symbol])
            ]
        spans = master[symbol]
        paths = sorted({p for s in spans for p in index.by_sec_id.get(s.sec_id, ())})
        found = []
        for table in map(self._table, paths):
            days = session_dates(table.dates)
            wanted = np.zeros(len(table), dtype=bool)
            for span in spans:
                first, last = np.datetime64(span.first, "D"), np.datetime64(span.last, "D")
                # A row whose date cannot be read is kept, so validation reports it.
                in_span = np.isnat(days) | ((days >= first) & (days <= last))
                wanted |= (table.sec_ids == span.sec_id) & in_span
            found.append((table, np.flatnonzero(wanted)))
        return found

    def load(self, symbol: str, start: date | None = None, end: date | None = None) -> SymbolData:
        """Every row of ``symbol`` in the files (``start``/``end`` are not needed: files
        are read whole)."""
        self.check_symbols([symbol])
        needs_cumulative = self.config.adjustment is PriceAdjustment.TOTAL_RETURN
        parts = [
            file_rows(table, rows, symbol, self.config, needs_cumulative)
            for table, rows in self._selected(symbol)
            if len(rows)
        ]
        if not parts:
            spans = "; ".join(
                f"SecId {s.sec_id} {s.first}..{s.last}" for s in (self._master or {})[symbol]
            )
            raise DataError(
                f"{symbol}: no rows in the files on the dates the security master maps it "
                f"({spans})",
                path=self.config.path,
            )
        rows = merge_files(parts, symbol, self.config)
        events, reported = read_events(symbol, rows.sessions, rows.actions, rows.locate_action_row)
        reported += volume_factor_checks(symbol, rows.actions, rows.locate_action_row)
        ohlcv, actions = apply_view(self.config.adjustment, rows.ohlcv, rows.factors, events)
        single = len(set(rows.file_of.tolist())) == 1
        series = BarSeries(
            symbol=symbol,
            # Rows from several files have no one file and line: the folder is named.
            path=rows.locate(0)[0] if single else self.config.path,
            timestamps=rows.timestamps,
            opened_at=rows.opened_at,
            sessions=rows.sessions,
            ohlcv=np.ascontiguousarray(ohlcv),
            lines=rows.lines if single else None,
        )
        anomalies = (*rows.anomalies, *reported, *_bad_ticks(symbol, rows))
        return SymbolData(series, actions, anomalies)


def _bad_ticks(symbol: str, rows: SymbolRows) -> tuple[Anomaly, ...]:
    # Checked on the prices as traded, numbered by row, then located in their file.
    probe = BarSeries(
        symbol=symbol,
        path=None,
        timestamps=rows.timestamps,
        opened_at=rows.opened_at,
        sessions=rows.sessions,
        ohlcv=rows.ohlcv,
        lines=np.arange(len(rows), dtype=np.int64),
    )
    found = []
    for anomaly in bad_ticks(probe):
        path, line = rows.locate(int(anomaly.line or 0))
        found.append(replace(anomaly, path=path, line=line))
    return tuple(found)
