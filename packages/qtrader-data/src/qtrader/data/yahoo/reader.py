"""Read one yfinance CSV: the bar columns through the CSV reader, plus its action columns.

A yfinance daily history saved with ``Ticker.history(auto_adjust=False).to_csv()``
has the header ``Date,Open,High,Low,Close,Adj Close,Volume,Dividends,Stock Splits``.
Its Open/High/Low/Close are split-adjusted (not dividend-adjusted) and its
``Dividends`` are per adjusted share, which is exactly the ``split_adjusted``
convention. ``Adj Close`` is not read: nothing is computed from it; it is only
required as the mark of ``auto_adjust=False`` (with ``auto_adjust=True`` the
prices already include dividends, and paying them again would count them twice).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qtrader.data._rows import RawTable
from qtrader.data.csv.config import CsvColumns
from qtrader.data.csv.reader import read_table
from qtrader.data.errors import DataError

BAR_COLUMNS = CsvColumns(
    date="Date", open="Open", high="High", low="Low", close="Close", volume="Volume"
)
ADJ_CLOSE = "Adj Close"
DIVIDENDS = "Dividends"
SPLITS = "Stock Splits"

# Newer yfinance writes the session date as its midnight in the exchange's zone
# ("2020-01-02 00:00:00-05:00"): the date part is the session.
_MIDNIGHT = r"^(\d{4}-\d{1,2}-\d{1,2})[ T]00:00(?::00(?:\.0+)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
_WITH_TIME = r"^\d{4}-\d{1,2}-\d{1,2}[ T]\d"


@dataclass(frozen=True, slots=True)
class YahooTable:
    raw: RawTable
    """The bar columns; dates reduced to ``YYYY-MM-DD``."""
    dividends: dict[int, float]
    """Row of ``raw`` -> nonzero dividend per (split-adjusted) share."""
    splits: dict[int, float]
    """Row of ``raw`` -> nonzero ``Stock Splits`` ratio (new shares per old)."""


def read_yahoo(path: Path) -> YahooTable:
    raw = read_table(path, BAR_COLUMNS)  # missing file, encoding, header, bar columns
    header, cells = _action_cells(path)
    if ADJ_CLOSE not in header:
        raise DataError(
            f"no {ADJ_CLOSE!r} column: this looks like yfinance's auto_adjust=True output, "
            "whose prices already include dividends; save the history with "
            "Ticker.history(..., auto_adjust=False)",
            path=path,
            line=1,
        )
    if DIVIDENDS not in header:
        raise DataError(
            f"no {DIVIDENDS!r} column: the dividends of these split-adjusted prices would be "
            "lost; save the history with Ticker.history(..., actions=True)",
            path=path,
            line=1,
        )
    dividends: dict[int, float] = {}
    splits: dict[int, float] = {}
    for row, line in enumerate(raw.lines.tolist()):
        dividend, split = cells.get(line, ("", ""))
        amount = _amount(dividend, "dividend", path, line)
        if amount:
            dividends[row] = amount
        ratio = _amount(split, "stock split ratio", path, line)
        if ratio:
            splits[row] = ratio
    return YahooTable(_daily_dates(raw), dividends, splits)


def _action_cells(path: Path) -> tuple[list[str], dict[int, tuple[str, str]]]:
    """The header and, by line number, each record's Dividends and Stock Splits cells."""
    # read_table has already checked that the file exists and is UTF-8.
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""))
    header = [name.strip() for name in next(reader)]
    columns = [header.index(n) if n in header else None for n in (DIVIDENDS, SPLITS)]
    cells: dict[int, tuple[str, str]] = {}
    line = reader.line_num + 1  # where the next record starts
    for record in reader:
        dividend, split = (
            record[i].strip() if i is not None and i < len(record) else "" for i in columns
        )
        if dividend or split:
            cells[line] = (dividend, split)
        line = reader.line_num + 1
    return header, cells


def _amount(text: str, what: str, path: Path, line: int) -> float:
    """A nonnegative number (0 when the cell is empty)."""
    if not text:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise DataError(
            f"{what} {text!r} is not a number >= 0 (yfinance writes 0 when there is none)",
            path=path,
            line=line,
        )
    return value


def _daily_dates(raw: RawTable) -> RawTable:
    dates = raw.date_series().str.strip().str.replace(_MIDNIGHT, r"\1", regex=True)
    timed = np.flatnonzero(dates.str.contains(_WITH_TIME, regex=True).to_numpy(dtype=bool))
    if len(timed):
        row = int(timed[0])
        raise DataError(
            f"{raw.date(row)}: a time of day in a daily history: source yahoo reads yfinance "
            "daily files (dates YYYY-MM-DD or YYYY-MM-DD 00:00:00+HH:MM); read intraday "
            "data with source csv",
            path=raw.path,
            line=int(raw.lines[row]),
        )
    return dataclasses.replace(raw, dates=dates)
