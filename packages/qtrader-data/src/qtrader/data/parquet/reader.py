"""Read the wanted columns of Parquet files into the ``RawTable`` every file adapter shares.

Only the six configured columns are read (``columns=``). Dates become the text
``validate_rows`` parses, so every check and message is the CSV adapter's:

- text columns are taken as written;
- ``date32``/``date64`` become ``YYYY-MM-DD`` (daily);
- timestamps (zone-aware ones first converted to the configured zone) become
  ``YYYY-MM-DD`` when every time of day is midnight (daily dates stored as
  timestamps), else ``YYYY-MM-DDTHH:MM:SS`` local times (intraday bars).
  A fraction of a second is kept in the text, so the row is refused as the
  CSV adapter refuses it.

Numeric columns become float64 (nulls NaN); text columns are parsed cell by
cell, and a cell that is not a number is reported for its row. Row numbers
are 1-based (the first data row is row 1) and count across the parts of a
dataset folder in name order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from qtrader.data._rows import RawTable
from qtrader.data._timestamps import NAT
from qtrader.data.csv.config import CsvColumns
from qtrader.data.errors import DataError
from qtrader.data.series import DayArray, IntArray
from qtrader.models import FloatArray

_FIELDS = ("open", "high", "low", "close", "volume")
_DAY_NS = 86_400 * 10**9
_SECOND_NS = 10**9
# How the shared row checks refer to an earlier row (they say "line" for every format).
_REFERENCE = re.compile(r"\bon (?:line|row) (\d+)\b")


@dataclass(frozen=True, slots=True)
class _Part:
    dates: pd.Series
    values: FloatArray
    bad_cells: dict[int, str]
    instants: IntArray | None = None
    """UTC ns of a zone-aware timestamp column (see ``RawTable.instants``)."""


@dataclass(frozen=True, slots=True)
class PartIndex:
    """The files of one symbol and where each starts among its rows."""

    files: tuple[Path, ...]
    offsets: IntArray
    """``offsets[k]``: rows before ``files[k]``; ``offsets[-1]`` is the total."""

    def locate(self, row: int) -> tuple[Path, int]:
        """The part file and its own 1-based row number of (1-based, global) ``row``."""
        k = int(np.searchsorted(self.offsets, row - 1, side="right")) - 1
        return self.files[k], row - int(self.offsets[k])

    def in_part(self, message: str, part: Path) -> str:
        """``message`` of a row of ``part`` with the row it refers to ("already on line 3",
        counted across the parts) as a row of its own part."""

        def name(match: re.Match[str]) -> str:
            other, row = self.locate(int(match.group(1)))
            return f"on row {row}" + ("" if other == part else f" of {other.name}")

        return _REFERENCE.sub(name, message)


@dataclass(frozen=True, slots=True)
class ParquetTable:
    """The rows of one symbol and where each part file starts among them."""

    raw: RawTable
    parts: PartIndex


def read_parquet(
    files: Sequence[Path], columns: CsvColumns, zone: ZoneInfo, path: Path
) -> ParquetTable:
    """Read ``files`` (one file, or the parts of a dataset in order) as one table at ``path``."""
    parts = [_read_part(f, columns, zone) for f in files]
    offsets: IntArray = np.cumsum([0, *(len(p.dates) for p in parts)], dtype=np.int64)
    total = int(offsets[-1])
    if total == 0:
        raise DataError(
            f"no data rows: expected one row per bar with columns {','.join(_names(columns))}",
            path=path,
        )
    bad_cells: dict[int, str] = {}
    for part, start in zip(parts, offsets, strict=False):
        bad_cells.update({int(start) + row: msg for row, msg in part.bad_cells.items()})
    stored = [p.instants for p in parts]
    raw = RawTable(
        path=path,
        lines=np.arange(1, total + 1, dtype=np.int64),
        dates=pd.concat([p.dates for p in parts], ignore_index=True),
        values=np.ascontiguousarray(np.concatenate([p.values for p in parts])),
        bad_cells=bad_cells,
        instants=None
        if all(i is None for i in stored)
        else np.concatenate(
            [
                np.full(len(p.dates), NAT, dtype=np.int64) if i is None else i
                for p, i in zip(parts, stored, strict=True)
            ]
        ),
    )
    return ParquetTable(raw, PartIndex(tuple(files), offsets))


def _names(columns: CsvColumns) -> list[str]:
    return [columns.date, *columns.price_names()]


def _open(path: Path, columns: CsvColumns) -> tuple[pq.ParquetFile, list[str]]:
    """The file and the names of its wanted columns (spaces around names ignored)."""
    try:
        file = pq.ParquetFile(path)
    except FileNotFoundError as exc:
        raise DataError("file not found", path=path) from exc
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"not a readable Parquet file: {exc}", path=path) from exc
    found = {name.strip(): name for name in file.schema_arrow.names}
    expected = _names(columns)
    missing = [name for name in expected if name not in found]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(repr(m) for m in missing)}: expected "
            f"{','.join(expected)} (found {','.join(found)})",
            path=path,
        )
    return file, [found[name] for name in expected]


def _read_part(path: Path, columns: CsvColumns, zone: ZoneInfo) -> _Part:
    file, names = _open(path, columns)
    try:
        table = file.read(columns=names)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"not a readable Parquet file: {exc}", path=path) from exc
    return _convert(table, names, columns, zone, path)


def _convert(
    table: pa.Table,
    names: list[str],
    columns: CsvColumns,
    zone: ZoneInfo,
    path: Path,
    daily: bool | None = None,
) -> _Part:
    """``names``: the file's date, open ... volume columns. ``daily``: whether the file's
    timestamps are all midnights, when known (else decided from ``table``)."""
    values = np.empty((table.num_rows, 5), dtype=np.float64)
    bad_cells: dict[int, str] = {}
    for j, what in enumerate(_FIELDS):
        name = names[j + 1]
        values[:, j] = _numbers(_decoded(table.column(name)), name, what, path, bad_cells)
    column = _decoded(table.column(names[0]))
    dates = _date_text(column, columns.date, zone, path, daily)
    return _Part(dates, values, bad_cells, _instants(column))


def _instants(column: pa.ChunkedArray) -> IntArray | None:
    """UTC ns of a zone-aware timestamp column (``NAT`` for nulls), else ``None``."""
    if not (pa.types.is_timestamp(column.type) and column.type.tz is not None):
        return None
    stamps = np.asarray(column.to_numpy(), dtype="datetime64[ns]")
    instants: IntArray = stamps.view(np.int64).copy()
    return instants


def index_parts(files: Sequence[Path], columns: CsvColumns, path: Path) -> PartIndex:
    """Check each part's columns and count its rows from its footer, reading no row."""
    counts = [_open(f, columns)[0].metadata.num_rows for f in files]
    offsets: IntArray = np.cumsum([0, *counts], dtype=np.int64)
    if int(offsets[-1]) == 0:
        raise DataError(
            f"no data rows: expected one row per bar with columns {','.join(_names(columns))}",
            path=path,
        )
    return PartIndex(tuple(files), offsets)


def read_chunks(
    parts: PartIndex, columns: CsvColumns, zone: ZoneInfo, path: Path, rows: int, alone: bool
) -> Iterator[RawTable]:
    """The rows of ``parts`` as tables of at most ``rows`` rows (a chunk never spans two
    files), numbered as ``read_parquet`` numbers them, named ``path``.

    ``alone``: no other symbol is being read meanwhile, so the file may stay open
    between chunks. Else nothing is held between chunks: an open reader keeps a decoded
    Parquet page per column, and a daily file's page is usually its whole column.
    """
    for k, part in enumerate(parts.files):
        file, names = _open(part, columns)
        start = int(parts.offsets[k])
        try:
            # Whether timestamps are daily dates is decided per file, as a whole read does.
            daily = _all_midnight(file, names[0], zone, rows)
            if alone:
                batches = file.iter_batches(batch_size=rows, columns=names)
            else:
                batches = _reopening(part, file.metadata, names, rows)
            del file
            for batch in batches:
                chunk = _convert(pa.Table.from_batches([batch]), names, columns, zone, part, daily)
                n = len(chunk.dates)
                raw = RawTable(
                    path=path,
                    lines=np.arange(start + 1, start + n + 1, dtype=np.int64),
                    dates=chunk.dates,
                    values=chunk.values,
                    bad_cells=chunk.bad_cells,
                    instants=chunk.instants,
                )
                del batch, chunk  # held by nothing while other symbols are read
                yield raw
                del raw
                start += n
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"not a readable Parquet file: {exc}", path=part) from exc


def _reopening(
    part: Path, metadata: pq.FileMetaData, names: list[str], rows: int
) -> Iterator[pa.RecordBatch]:
    """The batches of ``part``, each read by opening the file anew and skipping the batches
    before it in its row group (decoded again: the price of holding nothing open)."""
    for group in range(metadata.num_row_groups):
        size = metadata.row_group(group).num_rows
        done = 0
        while done < size:
            reader = pq.ParquetFile(part).iter_batches(
                batch_size=rows, columns=names, row_groups=[group]
            )
            skipped = 0
            while skipped < done:
                skipped += next(reader).num_rows
            batch = next(reader)
            del reader
            done += batch.num_rows
            yield batch


def _all_midnight(file: pq.ParquetFile, name: str, zone: ZoneInfo, rows: int) -> bool | None:
    """For a timestamp date column: whether every time of day is midnight (one pass over
    that column only); ``None`` for other types."""
    kind = _decoded_type(file.schema_arrow.field(name).type)
    if not pa.types.is_timestamp(kind):
        return None
    for batch in file.iter_batches(batch_size=rows, columns=[name]):
        stamps = _wall_stamps(_decoded(pa.chunked_array([batch.column(0)])), zone)
        if not _midnights(stamps):
            return False
    return True


def _decoded_type(kind: pa.DataType) -> pa.DataType:
    return kind.value_type if pa.types.is_dictionary(kind) else kind


def _decoded(column: pa.ChunkedArray) -> pa.ChunkedArray:
    # pandas writes categoricals as dictionary arrays: read their values.
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def _is_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def _numbers(
    column: pa.ChunkedArray, name: str, what: str, path: Path, bad_cells: dict[int, str]
) -> FloatArray:
    kind = column.type
    if pa.types.is_null(kind):  # a column written with no value at all
        return np.full(len(column), np.nan)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        # safe=False: an int64 volume above 2**53 becomes the nearest float, as in a CSV.
        result: FloatArray = np.asarray(
            column.cast(pa.float64(), safe=False).to_numpy(), dtype=np.float64
        )
        return result
    if not _is_text(kind):
        raise DataError(f"column {name!r} has type {kind}: expected numbers ({what})", path=path)
    text = column.to_pandas()
    number = pd.to_numeric(text, errors="coerce")
    unparsable = (number.isna() & text.notna() & (text.str.strip() != "")).to_numpy(dtype=bool)
    for row in np.flatnonzero(unparsable):
        bad_cells.setdefault(int(row), f"{what} {text.iloc[row]!r} is not a number")
    converted: FloatArray = number.to_numpy(dtype=np.float64, na_value=np.nan)
    return converted


def _date_text(
    column: pa.ChunkedArray, name: str, zone: ZoneInfo, path: Path, daily: bool | None = None
) -> pd.Series:
    kind = column.type
    if pa.types.is_null(kind):
        return pd.Series([""] * len(column), dtype="str")
    if _is_text(kind):
        text: pd.Series = column.to_pandas().fillna("")
        return text
    if pa.types.is_date(kind):
        days: DayArray = np.asarray(column.cast(pa.date32()).to_numpy(), dtype="datetime64[D]")
        return _day_text(days)
    if pa.types.is_timestamp(kind):
        return _stamp_text(_wall_stamps(column, zone), daily)
    raise DataError(
        f"date column {name!r} has type {kind}: expected text (YYYY-MM-DD or "
        "YYYY-MM-DD HH:MM[:SS]), date32 or timestamp",
        path=path,
    )


def _wall_stamps(column: pa.ChunkedArray, zone: ZoneInfo) -> DayArray:
    """A timestamp column as naive wall times (``datetime64[ns]``, NaT for nulls)."""
    stamps: DayArray = np.asarray(column.to_numpy(), dtype="datetime64[ns]")
    if column.type.tz is not None:
        # Parquet stores aware timestamps in UTC: show them as wall times of ``zone``.
        utc = pd.DatetimeIndex(stamps).tz_localize("UTC")
        stamps = utc.tz_convert(zone).tz_localize(None).to_numpy(dtype="datetime64[ns]")
    return stamps


def _midnights(stamps: DayArray) -> bool:
    ns = stamps.view(np.int64)
    return bool(np.all(ns[~np.isnat(stamps)] % _DAY_NS == 0))


def _stamp_text(stamps: DayArray, daily: bool | None = None) -> pd.Series:
    """Daily dates when every time of day (of the file: ``daily``) is midnight, else local
    date-times."""
    present = ~np.isnat(stamps)
    ns = stamps.view(np.int64)
    if _midnights(stamps) if daily is None else daily:
        return _day_text(stamps.astype("datetime64[D]"))
    text = np.datetime_as_string(stamps, unit="s").astype(object)
    fraction = present & (ns % _SECOND_NS != 0)
    text[fraction] = np.datetime_as_string(stamps[fraction], unit="ns")
    text[~present] = ""
    return pd.Series(text, dtype="str")


def _day_text(days: DayArray) -> pd.Series:
    text = np.datetime_as_string(days, unit="D").astype(object)
    text[np.isnat(days)] = ""
    return pd.Series(text, dtype="str")
