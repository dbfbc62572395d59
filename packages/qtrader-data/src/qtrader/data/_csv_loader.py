"""Load one symbol's CSV file into a validated ``BarSeries`` (the boundary)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from qtrader.data._csv_reader import read_table
from qtrader.data._timestamps import NAT, parse_stamps
from qtrader.data._validation import order_problems, value_problems, widen_within_tolerance
from qtrader.data.config import CsvDataConfig, ValidationPolicy
from qtrader.data.errors import Anomaly, AnomalyAction, DataError
from qtrader.data.series import BarSeries, DayArray, IntArray


def load_csv_series(
    path: Path, symbol: str, config: CsvDataConfig
) -> tuple[BarSeries, tuple[Anomaly, ...]]:
    """Read, check and convert one file; raise ``DataError`` or report anomalies per policy."""
    raw = read_table(path, config.columns)
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
    anomalies = [
        Anomaly(symbol, path, int(raw.lines[r]), raw.date(r), problems[r], AnomalyAction.DROPPED)
        for r in problems
    ]
    if len(kept) == 0:
        raise DataError(
            f"every data row is invalid ({len(problems)} rows); first: line "
            f"{raw.lines[min(problems)]}: {problems[min(problems)]}",
            path=path,
        )
    for row, note in widen_within_tolerance(values, kept).items():
        anomalies.append(
            Anomaly(symbol, path, int(raw.lines[row]), raw.date(row), note, AnomalyAction.WIDENED)
        )
    anomalies.sort(key=lambda a: a.line)

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
    )
    return series, tuple(anomalies)


def _local_ns(timestamps: IntArray, sessions: DayArray, config: CsvDataConfig) -> IntArray:
    """Nanoseconds since local midnight of each bar."""
    local = pd.DatetimeIndex(timestamps.view("datetime64[ns]"), tz="UTC").tz_convert(config.zone)
    naive = local.tz_localize(None).as_unit("ns").asi8
    midnight = sessions.astype("datetime64[ns]").astype(np.int64)
    result: IntArray = (naive - midnight).astype(np.int64)
    return result


def _reject_midnight_only(
    timestamps: IntArray, sessions: DayArray, config: CsvDataConfig, path: Path, line: int
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


def _bar_interval(
    timestamps: IntArray, sessions: DayArray, config: CsvDataConfig, path: Path
) -> int:
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
