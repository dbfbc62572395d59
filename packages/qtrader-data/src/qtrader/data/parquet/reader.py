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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from qtrader.data._rows import RawTable
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


@dataclass(frozen=True, slots=True)
class ParquetTable:
    """The rows of one symbol and where each part file starts among them."""

    raw: RawTable
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
    raw = RawTable(
        path=path,
        lines=np.arange(1, total + 1, dtype=np.int64),
        dates=pd.concat([p.dates for p in parts], ignore_index=True),
        values=np.ascontiguousarray(np.concatenate([p.values for p in parts])),
        bad_cells=bad_cells,
    )
    return ParquetTable(raw, tuple(files), offsets)


def _names(columns: CsvColumns) -> list[str]:
    return [columns.date, *columns.price_names()]


def _read_part(path: Path, columns: CsvColumns, zone: ZoneInfo) -> _Part:
    try:
        file = pq.ParquetFile(path)
        found = {name.strip(): name for name in file.schema_arrow.names}
        expected = _names(columns)
        missing = [name for name in expected if name not in found]
        if missing:
            raise DataError(
                f"missing column(s) {', '.join(repr(m) for m in missing)}: expected "
                f"{','.join(expected)} (found {','.join(found)})",
                path=path,
            )
        table = file.read(columns=[found[name] for name in expected])
    except FileNotFoundError as exc:
        raise DataError("file not found", path=path) from exc
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"not a readable Parquet file: {exc}", path=path) from exc
    values = np.empty((table.num_rows, 5), dtype=np.float64)
    bad_cells: dict[int, str] = {}
    for j, what in enumerate(_FIELDS):
        name = found[columns.price_names()[j]]
        values[:, j] = _numbers(_decoded(table.column(name)), name, what, path, bad_cells)
    dates = _date_text(_decoded(table.column(found[columns.date])), columns.date, zone, path)
    return _Part(dates, values, bad_cells)


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


def _date_text(column: pa.ChunkedArray, name: str, zone: ZoneInfo, path: Path) -> pd.Series:
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
        stamps: DayArray = np.asarray(column.to_numpy(), dtype="datetime64[ns]")
        if kind.tz is not None:
            # Parquet stores aware timestamps in UTC: show them as wall times of ``zone``.
            utc = pd.DatetimeIndex(stamps).tz_localize("UTC")
            stamps = utc.tz_convert(zone).tz_localize(None).to_numpy(dtype="datetime64[ns]")
        return _stamp_text(stamps)
    raise DataError(
        f"date column {name!r} has type {kind}: expected text (YYYY-MM-DD or "
        "YYYY-MM-DD HH:MM[:SS]), date32 or timestamp",
        path=path,
    )


def _stamp_text(stamps: DayArray) -> pd.Series:
    """Daily dates when every time of day is midnight, else local date-times."""
    present = ~np.isnat(stamps)
    ns = stamps.view(np.int64)
    if bool(np.all(ns[present] % _DAY_NS == 0)):
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
