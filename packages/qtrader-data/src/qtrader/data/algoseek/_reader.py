"""Read Algoseek daily files (CSV, or Parquet parts of a Hive-partitioned dataset).

Every column of the vendor layout is read; nothing is judged here except what
makes a file unreadable (no header, missing columns, a row with the wrong
number of fields). Numbers that are missing are NaN and cells that are not
numbers are named in ``bad_cells``. ``lines`` are what an editor shows for a CSV
(header = line 1) and 1-based rows for a Parquet file.

``read_keys`` reads only ``Ticker`` and ``SecId``, so a folder can be indexed
without parsing prices.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from qtrader.data.csv.reader import PANDAS_NA_CELLS
from qtrader.data.errors import DataError
from qtrader.data.series import IntArray
from qtrader.models import FloatArray

TextArray = npt.NDArray[np.object_]

DATE, TICKER, SEC_ID, REASON = "TradeDate", "Ticker", "SecId", "AdjustmentReason"
PRICES = ("Open", "High", "Low", "Close", "MarketHoursVolume")
FACTORS = ("CumulativePriceFactor", "CumulativeVolumeFactor", "AdjustmentFactor")
COLUMNS = (DATE, TICKER, *PRICES, *FACTORS, REASON, SEC_ID)
"""The vendor's column order."""
_NUMERIC = (*PRICES, *FACTORS)
MASTER_COLUMNS = frozenset({"SecId", "Tickers", "TickersStartToEndDate"})
_PARTITION = "SecId="


@dataclass(frozen=True, slots=True)
class AlgoseekTable:
    """Every row of one file, column by column."""

    path: Path
    lines: IntArray
    dates: pd.Series
    """``TradeDate`` as written ("" where empty)."""
    tickers: TextArray
    sec_ids: TextArray
    values: FloatArray
    """``(n, 5)``: open, high, low, close, volume (``MarketHoursVolume``)."""
    factors: FloatArray
    """``(n, 3)``: ``CumulativePriceFactor``, ``CumulativeVolumeFactor``, ``AdjustmentFactor``."""
    reasons: TextArray
    """``AdjustmentReason`` ("" where empty)."""
    bad_cells: dict[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.lines)


class NotBarsFileError(DataError):
    """A file whose header is a security master's, not daily bars: skipped when indexing."""


def _missing(found: list[str], wanted: tuple[str, ...], path: Path, line: int | None) -> None:
    missing = [name for name in wanted if name not in found]
    if not missing:
        return
    if MASTER_COLUMNS <= set(found):
        raise NotBarsFileError("a security master, not daily bars", path=path)
    raise DataError(
        f"missing column(s) {', '.join(repr(m) for m in missing)}: expected Algoseek daily "
        f"OHLC columns {','.join(wanted)} (found {','.join(found)})",
        path=path,
        line=line,
    )


def _header(line: str) -> list[str]:
    return [name.strip() for name in line.rstrip("\r\n").split(",")]


def partition_sec_id(path: Path) -> str | None:
    """The ``SecId`` of a Hive-partitioned file from its ``SecId=<id>`` folder, if any."""
    for part in reversed(path.parent.parts):
        if part.startswith(_PARTITION):
            return part[len(_PARTITION) :]
    return None


# --- the index: Ticker and SecId only ------------------------------------------------


def read_keys(path: Path) -> tuple[set[str], set[str]]:
    """The distinct tickers and SecIds in ``path``."""
    if path.suffix == ".parquet":
        return _parquet_keys(path)
    try:
        with path.open("rb") as file:
            first = file.readline().decode("utf-8-sig", errors="replace")
    except OSError as exc:  # pragma: no cover - listed a moment ago, then unreadable
        raise DataError(f"cannot read the file: {exc}", path=path) from exc
    _missing(_header(first), COLUMNS, path, 1)
    try:
        # A row with the wrong number of fields is named with its line when loaded;
        # here pandas ignores surplus fields and leaves missing ones empty.
        frame = pd.read_csv(
            path,
            usecols=lambda name: name.strip() in (TICKER, SEC_ID),
            dtype="str",
            encoding="utf-8-sig",
            keep_default_na=False,  # "NA" and "NULL" are tickers, not missing values
        )
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text: {exc.reason}", path=path) from exc
    except pd.errors.ParserError as exc:
        raise DataError(f"malformed file: {exc}", path=path) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return _distinct_text(frame[TICKER]), _distinct_text(frame[SEC_ID])


def _distinct_text(column: pd.Series) -> set[str]:
    stripped = (str(v).strip() for v in column.dropna().unique())
    return {text for text in stripped if text}


def _parquet_keys(path: Path) -> tuple[set[str], set[str]]:
    try:
        file = pq.ParquetFile(path)
        names = list(file.schema_arrow.names)
        partition = partition_sec_id(path)
        wanted = COLUMNS if partition is None else COLUMNS[:-1]
        _missing(names, wanted, path, None)
        columns = [TICKER] + ([SEC_ID] if SEC_ID in names else [])
        table = file.read(columns=columns)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"not a readable Parquet file: {exc}", path=path) from exc
    sec_ids = _distinct(table.column(SEC_ID)) if SEC_ID in names else {str(partition)}
    return _distinct(table.column(TICKER)), sec_ids


def _distinct(column: pa.ChunkedArray) -> set[str]:
    values = column.cast(pa.string()).unique().to_pylist()
    return {str(v).strip() for v in values if v is not None}


# --- whole files ---------------------------------------------------------------------


def read_file(path: Path) -> AlgoseekTable:
    """Every row of an Algoseek CSV or Parquet file."""
    return _read_parquet(path) if path.suffix == ".parquet" else _read_csv(path)


def _text(values: pd.Series) -> TextArray:
    # Few distinct values (one ticker, one SecId, a few reasons): strip those, not every row.
    codes, uniques = pd.factorize(values)
    stripped = np.array([str(u).strip() for u in uniques] + [""], dtype=object)
    result: TextArray = stripped[codes]  # code -1 (missing) picks the trailing ""
    return result


def _numbers(text: pd.Series, what: str, bad_cells: dict[int, str]) -> FloatArray:
    number = pd.to_numeric(text, errors="coerce")
    unparsable = (number.isna() & text.notna()).to_numpy(dtype=bool)
    for row in np.flatnonzero(unparsable):
        bad_cells.setdefault(int(row), f"{what} {text.iloc[row]!r} is not a number")
    result: FloatArray = number.to_numpy(dtype=np.float64, na_value=np.nan)
    return result


def _frame(text: str, header: list[str], path: Path, *, numeric: bool) -> pd.DataFrame:
    dtype = {name: "float64" if numeric and name in _NUMERIC else "str" for name in header}
    try:
        return pd.read_csv(
            io.StringIO(text),
            header=0,
            names=header,
            dtype=dtype,
            # Text columns: only an empty cell is missing ("NA" is a ticker); numbers keep
            # pandas's missing-value spellings.
            keep_default_na=False,
            na_values={name: [*PANDAS_NA_CELLS] for name in header if name in _NUMERIC},
            # Surplus fields of a row are ignored here and reported from ``_layout``.
            usecols=range(len(header)),
            skip_blank_lines=False,
            skipinitialspace=True,
        )
    except pd.errors.ParserError as exc:
        raise DataError(f"malformed file: {exc}", path=path) from exc


def _read_csv(path: Path) -> AlgoseekTable:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DataError("file not found", path=path) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"not UTF-8 text: {exc.reason} at byte {exc.start}", path=path, line=line
        ) from exc
    header = _header(text.split("\n", 1)[0])
    if header == [""]:
        raise DataError(f"file is empty: expected a header line {','.join(COLUMNS)}", path=path)
    _missing(header, COLUMNS, path, 1)
    if len(set(header)) != len(header):
        raise DataError(
            f"duplicate column names in the header: {','.join(header)}", path=path, line=1
        )
    bad_cells: dict[int, str] = {}
    try:
        frame = _frame(text, header, path, numeric=True)
        numbers = {name: frame[name].to_numpy(dtype=np.float64) for name in _NUMERIC}
    except ValueError:
        # The fast path stops at the first cell that is not a number without saying
        # where; re-read as text to name every such cell and its line.
        frame = _frame(text, header, path, numeric=False)
        numbers = {name: _numbers(frame[name], name, bad_cells) for name in _NUMERIC}
    fields, lines = _layout(text, len(frame))
    blank = (fields == 1) & frame.isna().all(axis=1).to_numpy(dtype=bool)
    keep = np.flatnonzero(~blank)  # blank lines carry no bar: skipped, still counted
    if len(keep) == 0:
        raise DataError(
            f"no data rows: expected one row per bar after the header ({','.join(COLUMNS)})",
            path=path,
        )
    expected = len(header)
    for row in np.flatnonzero(~blank & (fields != expected)):
        bad_cells.setdefault(
            int(row), f"malformed row: expected {expected} fields, saw {fields[row]}"
        )
    if len(keep) < len(frame):  # rare: renumber rows after the blank lines
        frame = frame.iloc[keep].reset_index(drop=True)
        numbers = {name: column[keep] for name, column in numbers.items()}
        bad_cells = {int(np.searchsorted(keep, row)): msg for row, msg in bad_cells.items()}
    return AlgoseekTable(
        path=path,
        lines=lines[keep],
        dates=frame[DATE].fillna("").astype(str),
        tickers=_text(frame[TICKER]),
        sec_ids=_text(frame[SEC_ID]),
        values=np.column_stack([numbers[name] for name in PRICES]),
        factors=np.column_stack([numbers[name] for name in FACTORS]),
        reasons=_text(frame[REASON]),
        bad_cells=bad_cells,
    )


def _layout(text: str, rows: int) -> tuple[IntArray, IntArray]:
    """Fields of each data row and the line on which it starts (header = line 1)."""
    if '"' in text:
        # Quoted fields may hold commas or newlines: let the csv module count.
        reader = csv.reader(io.StringIO(text, newline=""))
        sizes, first_lines, previous = [], [], 0
        for record in reader:
            sizes.append(max(len(record), 1))
            first_lines.append(previous + 1)
            previous = reader.line_num
        counts = np.array(sizes[1:], dtype=np.int64)
        lines = np.array(first_lines[1:], dtype=np.int64)
    else:
        physical = text.split("\n")
        if physical and physical[-1] == "":
            physical.pop()  # the newline that ends the last line
        counts = np.array([line.count(",") + 1 for line in physical[1:]], dtype=np.int64)
        lines = np.arange(len(counts), dtype=np.int64) + 2
    if len(counts) != rows:  # pragma: no cover - pandas and we disagree on the lines
        raise DataError(f"cannot number the rows: {len(counts)} lines but {rows} rows parsed")
    return counts, lines


def _parquet_numbers(
    column: pa.ChunkedArray, name: str, path: Path, bad_cells: dict[int, str]
) -> FloatArray:
    kind = column.type
    if pa.types.is_null(kind):  # a column that is empty in every row
        return np.full(len(column), np.nan, dtype=np.float64)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        result: FloatArray = column.cast(pa.float64()).to_numpy().astype(np.float64)
        return result
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _numbers(column.to_pandas().astype(object), name, bad_cells)
    raise DataError(f"column {name!r} has type {kind}: expected numbers", path=path)


def _parquet_dates(column: pa.ChunkedArray, path: Path) -> pd.Series:
    kind = column.type
    if pa.types.is_timestamp(kind):
        stamps = pd.Series(column.to_pandas())
        return stamps.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("").astype(str)
    if pa.types.is_date(kind):
        days = pd.Series(column.cast(pa.date32()).to_pandas(), dtype=object)
        return days.map(lambda d: "" if d is None or pd.isna(d) else d.isoformat()).astype(str)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return pd.Series(column.to_pandas(), dtype=object).fillna("").astype(str)
    raise DataError(
        f"column {DATE!r} has type {kind}: expected text, dates or timestamps", path=path
    )


def _read_parquet(path: Path) -> AlgoseekTable:
    partition = partition_sec_id(path)
    try:
        file = pq.ParquetFile(path)
        names = list(file.schema_arrow.names)
        _missing(names, COLUMNS if partition is None else COLUMNS[:-1], path, None)
        table = file.read(columns=[c for c in COLUMNS if c in names])
    except FileNotFoundError as exc:
        raise DataError("file not found", path=path) from exc
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"not a readable Parquet file: {exc}", path=path) from exc
    n = table.num_rows
    if n == 0:
        raise DataError("no data rows", path=path)
    bad_cells: dict[int, str] = {}
    values = np.column_stack(
        [_parquet_numbers(table.column(c), c, path, bad_cells) for c in PRICES]
    )
    factors = np.column_stack(
        [_parquet_numbers(table.column(c), c, path, bad_cells) for c in FACTORS]
    )
    if SEC_ID in names:
        sec_ids = _text(table.column(SEC_ID).cast(pa.string()).to_pandas())
    else:
        sec_ids = np.full(n, partition, dtype=object)
    return AlgoseekTable(
        path=path,
        lines=np.arange(1, n + 1, dtype=np.int64),
        dates=_parquet_dates(table.column(DATE), path),
        tickers=_text(table.column(TICKER).cast(pa.string()).to_pandas()),
        sec_ids=sec_ids,
        values=np.ascontiguousarray(values, dtype=np.float64),
        factors=np.ascontiguousarray(factors, dtype=np.float64),
        reasons=_text(table.column(REASON).cast(pa.string()).to_pandas()),
        bad_cells=bad_cells,
    )
