"""``ParquetBarSource``: ``<path>/SYMBOL.parquet`` or ``<path>/SYMBOL/*.parquet`` per symbol."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from functools import cached_property
from pathlib import Path

from qtrader.data._chunks import ChunkValidator
from qtrader.data._folder import FolderSource
from qtrader.data._rows import validate_rows
from qtrader.data.csv.actions import Action, read_actions
from qtrader.data.errors import Anomaly, DataError
from qtrader.data.parquet.config import ParquetDataConfig
from qtrader.data.parquet.reader import PartIndex, index_parts, read_chunks, read_parquet
from qtrader.data.source import ChunkedData, SeriesChunk, SymbolData
from qtrader.models import PriceAdjustment

_SUFFIX = ".parquet"


def _visible(path: Path) -> bool:
    # Spark and Hive mark bookkeeping files with a leading "_" (_SUCCESS, _metadata).
    return not path.name.startswith((".", "_"))


def _parts(folder: Path) -> list[Path]:
    """The ``*.parquet`` files of a dataset folder, by name (the order their rows are read)."""
    return sorted(
        (p for p in folder.iterdir() if p.suffix == _SUFFIX and _visible(p) and p.is_file()),
        key=lambda p: p.name,
    )


class ParquetBarSource(FolderSource[ParquetDataConfig]):
    """Reads one symbol's Parquet file(s) when it is loaded; checks every row like the CSV
    source (``validate_rows``), with rows numbered from 1."""

    folder_holds = "SYMBOL.parquet files or SYMBOL/ folders of *.parquet parts"

    @property
    def price_adjustment(self) -> PriceAdjustment:
        return self.config.price_adjustment

    def symbols(self) -> list[str]:
        """Stems of the ``*.parquet`` files and names of the folders holding ``*.parquet``
        parts, sorted."""
        found: set[str] = set()
        for p in self.config.path.iterdir():
            if not _visible(p):
                continue
            if p.is_file() and p.suffix == _SUFFIX:
                found.add(p.stem)
            elif p.is_dir() and _parts(p):
                found.add(p.name)
        return sorted(found)

    def expected_file(self, symbol: str) -> str:
        return f"{symbol}{_SUFFIX} or {symbol}/*{_SUFFIX}"

    @cached_property
    def _actions(self) -> dict[str, tuple[Action, ...]]:
        if self.config.actions is None:
            return {}
        return read_actions(
            self.config.actions,
            self.config.price_adjustment,
            set(self.symbols()),
            self.expected_file,
        )

    def _files(self, symbol: str) -> tuple[list[Path], Path]:
        """The files of ``symbol`` and the path that names them in messages."""
        file = self.config.path / f"{symbol}{_SUFFIX}"
        folder = self.config.path / symbol
        if file.is_file() and folder.is_dir():
            raise DataError(
                f"both {file.name} and the folder {symbol}/ exist: keep one of them",
                path=self.config.path,
            )
        if not folder.is_dir():
            return [file], file
        parts = _parts(folder)
        if not parts:
            raise DataError(f"no *{_SUFFIX} files in the folder of {symbol}", path=folder)
        return parts, folder / f"*{_SUFFIX}"

    def load(self, symbol: str, start: date | None = None, end: date | None = None) -> SymbolData:
        files, path = self._files(symbol)
        table = read_parquet(files, self.config.columns, self.config.zone, path)
        try:
            rows = validate_rows(table.raw, symbol, self.config)
        except DataError as exc:
            raise _error_in_part(exc, table.parts) from None
        anomalies = tuple(_in_part(a, table.parts) for a in rows.anomalies)
        return SymbolData(rows.series, self._actions.get(symbol, ()), anomalies)

    def chunked(self, symbol: str) -> bool:
        """Streams read every symbol in chunks when ``chunk_rows`` is set."""
        return self.config.chunk_rows is not None

    def load_chunks(self, symbol: str) -> ChunkedData:
        files, path = self._files(symbol)
        parts = index_parts(files, self.config.columns, path)
        return ChunkedData(
            symbol,
            self._actions.get(symbol, ()),
            lambda alone: self._read_chunks(symbol, parts, path, alone),
        )

    def _read_chunks(
        self, symbol: str, parts: PartIndex, path: Path, alone: bool
    ) -> Iterator[SeriesChunk]:
        config = self.config
        rows = config.chunk_rows or 1
        validator = ChunkValidator(symbol, config, path)
        try:
            for raw in read_chunks(parts, config.columns, config.zone, path, rows, alone):
                checked = validator.feed(raw)
                del raw  # the rows as read are not needed while the bars are streamed
                while checked:
                    yield _chunk_in_part(checked.pop(0), parts)
            validator.finish()
        except DataError as exc:
            raise _error_in_part(exc, parts) from None


def _error_in_part(exc: DataError, parts: PartIndex) -> DataError:
    """``exc`` of a row named by its part file and the row within it."""
    if exc.line is None:
        return exc
    part, row = parts.locate(exc.line)
    return DataError(parts.in_part(exc.message, part), path=part, line=row)


def _chunk_in_part(chunk: SeriesChunk, parts: PartIndex) -> SeriesChunk:
    if not chunk.anomalies:
        return chunk
    return SeriesChunk(chunk.series, tuple(_in_part(a, parts) for a in chunk.anomalies))


def _in_part(anomaly: Anomaly, table: PartIndex) -> Anomaly:
    """The anomaly named by its part file and the row within it (the rows of a dataset
    folder are numbered across its parts while they are checked)."""
    if anomaly.line is None:  # pragma: no cover - validate_rows always gives the row
        return anomaly
    part, row = table.locate(anomaly.line)
    problem = table.in_part(anomaly.problem, part)
    return dataclasses.replace(anomaly, path=part, line=row, problem=problem)
