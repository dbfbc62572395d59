"""The boundary every file adapter shares: raw rows in, a validated ``BarSeries`` out.

An adapter reads its format into a ``RawTable`` (dates as text, the five values
as float64, the line or row of each); ``validate_rows`` parses the dates,
checks every row at once, applies the validation policy and the tolerance,
and reports what it dropped or widened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from qtrader.data._timestamps import NAT, parse_stamps
from qtrader.data._validation import order_problems, value_problems, widen_within_tolerance
from qtrader.data.errors import Anomaly, AnomalyAction, DataError
from qtrader.data.options import BarOptions, ValidationPolicy
from qtrader.data.series import BarSeries, DayArray, IntArray
from qtrader.models import FloatArray


@dataclass(frozen=True, slots=True)
class RawTable:
    """The wanted columns of a file; numbers that are missing or unparsable are NaN."""

    path: Path
    lines: IntArray
    """Line (CSV; header = 1) or row (Parquet; first data row = 1) of each row."""
    dates: pd.Series
    """The date column as text, as in the file ("" where empty)."""
    values: FloatArray
    """``(n, 5)``: open, high, low, close, volume."""
    bad_cells: dict[int, str] = field(default_factory=dict)
    """Row index -> problem, for cells that are not numbers at all."""

    def date(self, row: int) -> str:
        """The date of ``row`` as written, for messages."""
        return str(self.dates.iloc[row]).strip() or "(no date)"


@dataclass(frozen=True, slots=True)
class ValidatedRows:
    series: BarSeries
    anomalies: tuple[Anomaly, ...]
    kept: IntArray
    """Indexes into the ``RawTable`` of the rows that became bars, in order."""


def validate_rows(raw: RawTable, symbol: str, config: BarOptions) -> ValidatedRows:
    """Check and convert one table; raise ``DataError`` or report anomalies per policy."""
    path = raw.path
    stamps = parse_stamps(raw.dates, config.zone, config.session_open, config.session_close)
    values = raw.values.copy()

    # Problems by row index; the first recorded for a row is the one reported.
    problems: dict[int, str] = dict(stamps.problems)
    for row, message in raw.bad_cells.items():
        problems.setdefault(row, message)
    value_problems(values, config.tolerance, problems)
    valid = np.ones(len(values), dtype=bool)
    valid[list(problems)] = False
    what = "timestamp" if stamps.intraday else "date"
    order_problems(stamps.timestamps, np.flatnonzero(valid), raw.lines, raw.date, what, problems)

    if problems and config.validation is ValidationPolicy.STRICT:
        first = min(problems)
        raise DataError(
            f"{raw.date(first)}: {problems[first]}", path=path, line=int(raw.lines[first])
        )
    keep = np.ones(len(values), dtype=bool)
    keep[list(problems)] = False
    kept: IntArray = np.flatnonzero(keep)

    def anomaly(row: int, problem: str, action: AnomalyAction) -> Anomaly:
        return Anomaly(symbol, raw.date(row), problem, action, path, int(raw.lines[row]))

    anomalies = [anomaly(r, problems[r], AnomalyAction.DROPPED) for r in problems]
    if len(kept) == 0:
        first = min(problems)
        unit = "row" if path.suffix == ".parquet" else "line"
        raise DataError(
            f"every data row is invalid ({len(problems)} rows); first: {unit} "
            f"{raw.lines[first]}: {problems[first]}",
            path=path,
        )
    for row, note in widen_within_tolerance(values, kept).items():
        anomalies.append(anomaly(row, note, AnomalyAction.WIDENED))
    anomalies.sort(key=lambda a: a.line or 0)

    timestamps = stamps.timestamps[kept]
    if stamps.intraday:
        _reject_midnight_only(timestamps, stamps.sessions[kept], config, path, int(raw.lines[0]))
        opened_at = timestamps - _bar_interval(timestamps, stamps.sessions[kept], config, path)
    else:
        opened_at = stamps.opened_at[kept]
    assert not np.any(timestamps == NAT)
    series = BarSeries(
        symbol=symbol,
        path=path,
        timestamps=np.ascontiguousarray(timestamps),
        opened_at=np.ascontiguousarray(opened_at),
        sessions=np.ascontiguousarray(stamps.sessions[kept]),
        ohlcv=np.ascontiguousarray(values[kept]),
        intraday=stamps.intraday,
        lines=np.ascontiguousarray(raw.lines[kept]),
    )
    return ValidatedRows(series, tuple(anomalies), kept)


def _local_ns(timestamps: IntArray, sessions: DayArray, config: BarOptions) -> IntArray:
    """Nanoseconds since local midnight of each bar."""
    local = pd.DatetimeIndex(timestamps.view("datetime64[ns]"), tz="UTC").tz_convert(config.zone)
    naive = local.tz_localize(None).as_unit("ns").asi8
    midnight = sessions.astype("datetime64[ns]").astype(np.int64)
    result: IntArray = (naive - midnight).astype(np.int64)
    return result


def _reject_midnight_only(
    timestamps: IntArray, sessions: DayArray, config: BarOptions, path: Path, line: int
) -> None:
    # A daily file exported with "00:00:00" times would otherwise stamp every
    # bar at the start of its session, before the prices existed: look-ahead.
    if bool(np.all(_local_ns(timestamps, sessions, config) == 0)):
        raise DataError(
            "every time of day is 00:00: write daily bars as YYYY-MM-DD (they are then "
            "stamped at session_close); a midnight stamp would date each bar before its session",
            path=path,
            line=line,
        )


def _bar_interval(timestamps: IntArray, sessions: DayArray, config: BarOptions, path: Path) -> int:
    """Length of an intraday bar in ns: configured, or the median spacing within a session."""
    if config.bar_interval is not None:
        return config.bar_interval // timedelta(microseconds=1) * 1000
    same_session = sessions[1:] == sessions[:-1]
    spacing = np.diff(timestamps)[same_session]
    if len(spacing) == 0:
        raise DataError(
            "cannot infer the bar interval of this intraday file (no two bars share a "
            "session); set bar_interval in the config",
            path=path,
        )
    return int(np.median(spacing))
