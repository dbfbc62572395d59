"""Read the raw columns of one CSV file, keeping each row's line number.

Nothing is judged here except what makes the file unreadable (missing file,
no header, missing columns, a row with too many fields); row values are
checked in ``_validation``.

A plain file (no quotes, one row per line, every value a finite number: the
common case) is read in one pass by pyarrow's CSV reader. Anything else is read
again by the precise path, which numbers every line and words every problem;
both give the same table for a plain file (tested).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from qtrader.data._arrow import float64_values
from qtrader.data._rows import RawTable
from qtrader.data.csv.config import CsvColumns
from qtrader.data.errors import DataError
from qtrader.data.series import IntArray
from qtrader.models import FloatArray

if TYPE_CHECKING:
    import pandas as pd

_FIELDS = ("open", "high", "low", "close", "volume")
_SHOWN_HEADER = 120  # characters of a header quoted in a message
# The header is line 1, so data row i (0-based) is line i + 2 unless a quoted
# field spans lines. Blank lines are read as empty rows (skip_blank_lines=False)
# so that every physical line keeps its number.
_FIRST_DATA_LINE = 2
# The cells pandas.read_csv reads as missing by default (its ``na_values``):
# the plain path treats them as missing too, and so leaves such a file to the
# precise path, which reports them as pandas reads them.
PANDAS_NA_CELLS = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)


def read_table(path: Path, columns: CsvColumns) -> RawTable:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DataError("file not found", path=path) from exc
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"not UTF-8 text: {exc.reason} at byte {exc.start}", path=path, line=line
        ) from exc
    plain = read_plain(data, path, columns)
    return plain if plain is not None else read_precise(data, path, columns)


def read_plain(data: bytes, path: Path, columns: CsvColumns) -> RawTable | None:
    """The table of a plain file in one pass, or ``None`` if the file is not plain.

    Plain: no quote, NUL or lone carriage return; a header of distinct, non-empty
    names holding every wanted column; one row per line (no blank line), each with
    as many fields as the header; every wanted cell filled, every value a finite
    number. Then row i is on line i + 2 and nothing needs a message.
    """
    if b'"' in data or b"\0" in data:
        return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None  # a lone CR ends a row for pyarrow, not a line for us
    text = data.removeprefix(codecs.BOM_UTF8)
    header = text.split(b"\n", 1)[0].removesuffix(b"\r").decode("utf-8").split(",")
    found = {cell.strip(): cell for cell in header}
    if len(set(header)) != len(header) or "" in found:
        return None  # pandas renames such headers ("Unnamed: 2", "open.1"): left to it
    if any(name not in found for name in _header_of(columns)):
        return None
    wanted = [found[name] for name in _header_of(columns)]
    options = pa_csv.ConvertOptions(
        column_types={wanted[0]: pa.string(), **dict.fromkeys(wanted[1:], pa.float64())},
        include_columns=wanted,
        null_values=PANDAS_NA_CELLS,
        strings_can_be_null=True,
    )
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(text),
            read_options=pa_csv.ReadOptions(use_threads=False),
            convert_options=options,
        )
    except pa.ArrowInvalid:  # a row of another width, a cell that is not a number
        return None
    # pyarrow skips blank lines: equal counts mean none was skipped.
    lines = text.count(b"\n") + (not text.endswith(b"\n")) - 1
    dates = table.column(wanted[0])
    if table.num_rows == 0 or table.num_rows != lines or dates.null_count:
        return None
    numbers = [table.column(name).combine_chunks() for name in wanted[1:]]
    if any(column.null_count for column in numbers):
        return None  # a missing cell: the precise path words it
    # Through the buffers: pyarrow's to_numpy would import pandas (see ``_arrow``).
    values = np.column_stack([float64_values(column) for column in numbers])
    if not np.isfinite(values).all():  # also NaN where a cell was missing
        return None
    return RawTable(
        path=path,
        lines=np.arange(_FIRST_DATA_LINE, _FIRST_DATA_LINE + lines, dtype=np.int64),
        dates=dates.combine_chunks(),  # pyarrow text: no pandas on the plain path
        values=values,
    )


_LONE_CR = re.compile(rb"\r(?!\n)")


def read_precise(data: bytes, path: Path, columns: CsvColumns) -> RawTable:
    """The table of any UTF-8 file, with every line numbered and every bad cell worded."""
    lone = _LONE_CR.search(data) if b'"' not in data else None  # quoted: the csv module
    if lone is not None:
        # pandas ends a row there, a line ends at "\n" only: no row could be numbered.
        raise DataError(
            "a carriage return (\\r) not followed by a line feed: expected each line to end "
            "with \\n or \\r\\n (convert the file's line ends)",
            path=path,
            line=data.count(b"\n", 0, lone.start()) + 1,
        )
    names = _check_header(data, path, columns)
    wanted = [names[columns.date], *(names[n] for n in columns.price_names())]
    try:
        frame = _read(data, path, wanted, numeric=True)
        bad_cells: dict[int, str] = {}
        values = frame[wanted[1:]].to_numpy(dtype=np.float64)
    except ValueError:
        # The fast path stops at the first cell that is not a number without
        # saying where; re-read as text to name every such cell and its line.
        frame = _read(data, path, wanted, numeric=False)
        values, bad_cells = _parse_numbers(frame, wanted[1:])
    dates = frame[wanted[0]].fillna("")
    blank = np.zeros(len(frame), dtype=bool)
    for row in np.flatnonzero(np.isnan(values).all(axis=1)):  # rare: no per-row work otherwise
        blank[row] = row not in bad_cells and not str(dates.iloc[row]).strip()
    # pandas ignores surplus fields of a row when given usecols, and a surplus
    # comma (e.g. a thousands separator in "1,234") shifts values silently: so
    # count each row's fields ourselves.
    header = data.split(b"\n", 1)[0].decode("utf-8-sig").removesuffix("\r")
    expected = len(next(csv.reader([header])))  # a quoted name may hold a comma
    fields, lines = _layout(data, len(frame), path)
    for row in np.flatnonzero(~blank & (fields != expected)):
        bad_cells[int(row)] = f"malformed row: expected {expected} fields, saw {fields[row]}"
    keep = np.flatnonzero(~blank)  # blank lines carry no bar: skipped, still counted
    if len(keep) == 0:
        raise DataError(
            f"no data rows: expected one row per bar after the header "
            f"({','.join(_header_of(columns))})",
            path=path,
        )
    return RawTable(
        path=path,
        lines=lines[keep],
        dates=dates.iloc[keep].reset_index(drop=True),
        values=np.ascontiguousarray(values[keep]),
        # Row numbers after dropping blank rows; blank rows never have bad cells.
        bad_cells={int(np.searchsorted(keep, row)): msg for row, msg in bad_cells.items()},
    )


def _layout(data: bytes, rows: int, path: Path) -> tuple[IntArray, IntArray]:
    """Fields of each data row (after the header) and the line on which it starts."""
    if b'"' in data:
        # Quoted fields may hold commas or newlines: let the csv module count,
        # and take each record's first line from the reader's line counter.
        reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        sizes, first_lines, previous = [], [], 0
        for record in reader:
            sizes.append(len(record))
            first_lines.append(previous + 1)
            previous = reader.line_num
        counts = np.array(sizes[1:], dtype=np.int64)
        lines = np.array(first_lines[1:], dtype=np.int64)
    else:
        buf = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(buf == ord("\n"))
        if len(buf) and buf[-1] != ord("\n"):
            ends = np.append(ends, len(buf))
        starts = np.concatenate(([0], ends[:-1] + 1))
        commas = np.concatenate(([0], np.cumsum(buf == ord(","))))
        counts = (commas[ends] - commas[starts] + 1)[1:]
        lines = np.arange(len(counts), dtype=np.int64) + _FIRST_DATA_LINE
    if len(counts) != rows:  # pragma: no cover - pandas and we disagree on the lines
        raise DataError(
            f"cannot number the rows: {len(counts)} lines but {rows} rows parsed", path=path
        )
    return counts.astype(np.int64), lines


def _header_of(columns: CsvColumns) -> list[str]:
    return [columns.date, *columns.price_names()]


def _check_header(data: bytes, path: Path, columns: CsvColumns) -> dict[str, str]:
    """Map each configured column name to the header cell that holds it."""
    import pandas as pd  # noqa: PLC0415 - the precise path only (see the module doc)

    try:
        header = pd.read_csv(io.BytesIO(data), nrows=0, encoding="utf-8-sig")
    except pd.errors.EmptyDataError as exc:
        raise DataError(
            f"file is empty: expected a header line {','.join(_header_of(columns))}",
            path=path,
        ) from exc
    except pd.errors.ParserError as exc:  # pragma: no cover - nrows=0 rarely tokenizes rows
        raise DataError(f"unreadable header: {exc}", path=path, line=1) from exc
    # Surrounding spaces in header cells are a formatting accident, not a different name.
    found = {str(c).strip(): str(c) for c in header.columns}
    expected = _header_of(columns)
    missing = [name for name in expected if name not in found]
    if missing:
        shown = ",".join(found)
        if len(shown) > _SHOWN_HEADER:  # a file with no line breaks is one endless header
            shown = f"{shown[:_SHOWN_HEADER]}... ({len(found)} columns)"
        raise DataError(
            f"missing column(s) {', '.join(repr(m) for m in missing)}: expected "
            f"{','.join(expected)} (found {shown})",
            path=path,
            line=1,
        )
    return {name: found[name] for name in expected}


def _read(data: bytes, path: Path, wanted: list[str], *, numeric: bool) -> pd.DataFrame:
    import pandas as pd  # noqa: PLC0415 - the precise path only (see the module doc)

    dtype: dict[str, str] = {wanted[0]: "str"}
    for name in wanted[1:]:
        dtype[name] = "float64" if numeric else "str"
    try:
        return pd.read_csv(
            io.BytesIO(data),
            usecols=wanted,
            dtype=dtype,
            skip_blank_lines=False,
            encoding="utf-8-sig",
        )
    except pd.errors.ParserError as exc:
        # pandas says "line N" (1-based) or "row N" (0-based, header = row 0).
        line_match = re.search(r"line (\d+)", str(exc))
        row_match = re.search(r"row (\d+)", str(exc))
        line = (
            int(line_match.group(1))
            if line_match
            else int(row_match.group(1)) + 1
            if row_match
            else None
        )
        raise DataError(
            f"malformed row: {str(exc).split('C error: ')[-1].strip()}", path=path, line=line
        ) from exc


def _parse_numbers(frame: pd.DataFrame, names: list[str]) -> tuple[FloatArray, dict[int, str]]:
    import pandas as pd  # noqa: PLC0415 - the precise path only (see the module doc)

    values = np.empty((len(frame), len(names)), dtype=np.float64)
    bad_cells: dict[int, str] = {}
    for j, (name, what) in enumerate(zip(names, _FIELDS, strict=True)):
        text = frame[name]
        number = pd.to_numeric(text, errors="coerce")
        values[:, j] = number.to_numpy(dtype=np.float64, na_value=np.nan)
        unparsable = (number.isna() & text.notna()).to_numpy()
        for row in np.flatnonzero(unparsable):
            bad_cells.setdefault(int(row), f"{what} {text.iloc[row]!r} is not a number")
    return values, bad_cells
