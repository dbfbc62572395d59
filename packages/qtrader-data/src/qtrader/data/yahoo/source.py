"""``YahooBarSource``: a folder of ``SYMBOL.csv`` daily histories saved from yfinance.

Split-adjusted prices; nonzero ``Dividends`` become ``CashDividend`` actions on
that row's date. ``Stock Splits`` are not actions (the prices already carry
them); they are cross-checked: a split whose overnight gap shows in the prices
means the file is not split-adjusted after all, and is reported.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd

from qtrader.data._folder import FolderSource, file_stems
from qtrader.data._rows import ValidatedRows, validate_rows
from qtrader.data.errors import Anomaly, AnomalyAction
from qtrader.data.gaps import TOLERANCE
from qtrader.data.series import CLOSE, OPEN
from qtrader.data.source import SymbolData
from qtrader.data.yahoo.config import YahooDataConfig
from qtrader.data.yahoo.reader import YahooTable, read_yahoo
from qtrader.models import CashDividend, PriceAdjustment

_SUFFIX = ".csv"
# Ratios this close to 1 (stock dividends of a few percent) move the price no more
# than an ordinary day does, so a gap of that size proves nothing.
_CHECKED_SPLIT = 1.25


class YahooBarSource(FolderSource[YahooDataConfig]):
    """Reads ``<path>/<SYMBOL>.csv`` (yfinance format) when a symbol is loaded."""

    folder_holds = "SYMBOL.csv files saved from yfinance"

    @property
    def price_adjustment(self) -> PriceAdjustment:
        return PriceAdjustment.SPLIT_ADJUSTED

    def symbols(self) -> list[str]:
        """The stems of the ``*.csv`` files in the folder, sorted."""
        return file_stems(self.config.path, _SUFFIX)

    def expected_file(self, symbol: str) -> str:
        return f"{symbol}{_SUFFIX}"

    def load(self, symbol: str, start: date | None = None, end: date | None = None) -> SymbolData:
        table = read_yahoo(self.config.path / f"{symbol}{_SUFFIX}")
        rows = validate_rows(table.raw, symbol, self.config)
        anomalies = rows.anomalies + _unadjusted_splits(table, rows, symbol)
        return SymbolData(
            rows.series,
            _dividends(table, symbol),
            tuple(sorted(anomalies, key=lambda a: a.line or 0)),
        )


def _dividends(table: YahooTable, symbol: str) -> tuple[CashDividend, ...]:
    """One ``CashDividend`` per dated row with a nonzero dividend, by ex-date.

    A row dropped under ``repair`` (a bad price) still pays its dividend: the date
    and the amount were read and checked. Of two rows with the same date the first
    is kept, as the repair policy keeps the first of duplicate rows.
    """
    rows = sorted(table.dividends)
    stamps = pd.to_datetime(table.raw.date_series().iloc[rows], format="%Y-%m-%d", errors="coerce")
    by_day: dict[date, CashDividend] = {}
    for row, stamp in zip(rows, stamps, strict=True):
        if pd.isna(stamp):  # an unparsable date: the row is reported by validate_rows
            continue
        day = stamp.date()
        if day not in by_day:
            amount = Decimal(str(table.dividends[row]))
            by_day[day] = CashDividend(symbol=symbol, ex_date=day, amount=amount)
    return tuple(by_day[d] for d in sorted(by_day))


def _unadjusted_splits(table: YahooTable, rows: ValidatedRows, symbol: str) -> tuple[Anomaly, ...]:
    """A ``REPORTED`` anomaly for each split whose ratio shows as an overnight gap.

    In split-adjusted prices a 4-for-1 split leaves the previous close near the next
    open; in unadjusted prices the open is a quarter of it. A gap within ``TOLERANCE``
    of the ratio means the file is not what ``source: yahoo`` takes it for.
    """
    series = rows.series
    position = {int(raw_row): i for i, raw_row in enumerate(rows.kept)}
    found: list[Anomaly] = []
    for raw_row, ratio in sorted(table.splits.items()):
        i = position.get(raw_row)
        if i is None or i == 0 or 1 / _CHECKED_SPLIT < ratio < _CHECKED_SPLIT:
            continue
        previous_close = float(series.ohlcv[i - 1, CLOSE])
        today_open = float(series.ohlcv[i, OPEN])
        gap = previous_close / today_open
        if abs(gap / ratio - 1) <= TOLERANCE:
            found.append(
                Anomaly(
                    symbol,
                    table.raw.date(raw_row),
                    f"Stock Splits is {ratio:g} and the price gaps by {gap:.3f}x overnight "
                    f"(close {previous_close:g} -> open {today_open:g}): these prices look "
                    "unadjusted, but source yahoo takes them as split-adjusted and applies "
                    "no split",
                    AnomalyAction.REPORTED,
                    table.raw.path,
                    int(table.raw.lines[raw_row]),
                )
            )
    return tuple(found)
