"""The boundary every file adapter shares: raw rows in, a validated ``BarSeries`` out.

An adapter reads its format into a ``RawTable`` (dates as text, the five values
as float64, the line or row of each); ``validate_rows`` parses the dates,
checks every row at once, applies the validation policy and the tolerance,
and reports what it dropped or widened.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from qtrader.data._timestamps import NAT, Stamps, parse_stamps
from qtrader.data._validation import order_problems, value_problems, widen_within_tolerance
from qtrader.data.errors import Anomaly, AnomalyAction, DataError
from qtrader.data.options import BarOptions, ValidationPolicy
from qtrader.data.series import BarSeries, DayArray, IntArray
from qtrader.models import FloatArray

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, slots=True)
class RawTable:
    """The wanted columns of a file; numbers that are missing or unparsable are NaN."""

    path: Path
    lines: IntArray
    """Line (CSV; header = 1) or row (Parquet; first data row = 1) of each row."""
    dates: pd.Series | pa.StringArray
    """The date column as text, as in the file ("" where empty). A plain CSV file keeps
    pyarrow's column, so that a clean daily file is stamped without importing pandas
    (about 0.2 s of every run); ``date_series`` gives it as pandas text."""
    values: FloatArray
    """``(n, 5)``: open, high, low, close, volume."""
    bad_cells: dict[int, str] = field(default_factory=dict)
    """Row index -> problem, for cells that are not numbers at all."""
    instants: IntArray | None = None
    """UTC ns of each row, when the file stored instants (zone-aware Parquet timestamps;
    ``NAT`` where empty): what the local wall time in ``dates`` cannot tell in the hour a
    daylight-saving change repeats."""

    def date(self, row: int) -> str:
        """The date of ``row`` as written, for messages."""
        dates = self.dates
        text = dates[row].as_py() if isinstance(dates, pa.Array) else dates.iloc[row]
        return str(text).strip() or "(no date)"

    def date_series(self) -> pd.Series:
        """The date column as a pandas ``Series`` of text."""
        return as_text_series(self.dates)


def as_text_series(dates: pd.Series | pa.StringArray) -> pd.Series:
    """Dates as a pandas ``Series`` of text (pandas is imported only when a path needs it)."""
    import pandas as pd  # noqa: PLC0415 - not on the plain daily path (see ``RawTable``)

    if isinstance(dates, pa.Array):
        return pd.Series(dates, dtype="str")
    return dates


@dataclass(frozen=True, slots=True)
class ValidatedRows:
    series: BarSeries
    anomalies: tuple[Anomaly, ...]
    kept: IntArray
    """Indexes into the ``RawTable`` of the rows that became bars, in order."""


@dataclass(frozen=True, slots=True)
class LastBar:
    """The last kept bar before a chunk: what the order checks of the next chunk compare with."""

    timestamp: int
    line: int
    date: str
    """Its date as written, for messages ("not after 2024-01-05 on row 3")."""
    session: np.datetime64 | None = None
    """Its session, so that the next chunk's first bar opens no earlier than it closed."""


@dataclass(frozen=True, slots=True)
class CheckedRows:
    """One table's rows checked, before the file-level checks of ``validate_rows``."""

    intraday: bool
    timestamps: IntArray
    opened_at: IntArray
    """Daily: the session opens. Intraday: not yet known (the bar interval is file-level)."""
    sessions: DayArray
    values: FloatArray
    """Widened within tolerance where reported."""
    problems: dict[int, str]
    kept: IntArray
    anomalies: list[Anomaly]
    """Dropped and widened rows, by line."""


def check_rows(
    raw: RawTable,
    symbol: str,
    config: BarOptions,
    *,
    after: LastBar | None = None,
    intraday: bool | None = None,
) -> CheckedRows:
    """The row checks of ``validate_rows``; strict raises for the lowest bad row.

    For a chunk of a longer file: ``after`` is the last kept bar of the chunks before
    (every row must be strictly after it), ``intraday`` whether the file is intraday (as
    its first parsable row, maybe in an earlier chunk, decided).
    """
    path = raw.path
    stamps = _parse(raw.dates, config, intraday)
    if raw.instants is not None and stamps.intraday:
        stamps = _stored_instants(stamps, raw.instants)
    values = raw.values.copy()

    # Problems by row index; the first recorded for a row is the one reported.
    problems: dict[int, str] = dict(stamps.problems)
    for row, message in raw.bad_cells.items():
        problems.setdefault(row, message)
    value_problems(values, config.tolerance, problems)
    valid = np.ones(len(values), dtype=bool)
    valid[list(problems)] = False
    what = "timestamp" if stamps.intraday else "date"
    if after is None:
        order_problems(
            stamps.timestamps, np.flatnonzero(valid), raw.lines, raw.date, what, problems
        )
    else:
        _order_after(after, stamps.timestamps, valid, raw, what, problems)

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
    for row, note in widen_within_tolerance(values, kept).items():
        anomalies.append(anomaly(row, note, AnomalyAction.WIDENED))
    anomalies.sort(key=lambda a: a.line or 0)
    return CheckedRows(
        stamps.intraday,
        stamps.timestamps,
        stamps.opened_at,
        stamps.sessions,
        values,
        problems,
        kept,
        anomalies,
    )


def _stored_instants(stamps: Stamps, instants: IntArray) -> Stamps:
    """Intraday ``stamps`` with the bars a daylight-saving change left without an instant
    (a wall time it repeats) taken from the instants the file stored."""
    lost = (stamps.timestamps == NAT) & (instants != NAT)
    if not lost.any():
        return stamps
    timestamps = stamps.timestamps.copy()
    timestamps[lost] = instants[lost]
    problems = {
        row: problem
        for row, problem in stamps.problems.items()
        if not (lost[row] and "daylight-saving" in problem)
    }
    return replace(stamps, timestamps=timestamps, problems=problems)


def _parse(dates: pd.Series | pa.StringArray, config: BarOptions, intraday: bool | None) -> Stamps:
    stamps = parse_stamps(dates, config.zone, config.session_open, config.session_close)
    if intraday is None or stamps.intraday == intraday:
        return stamps
    # This chunk alone would be read in the other format (its first parsable row is, or
    # it has none): parse it behind a row of the file's format, as the whole file is.
    import pandas as pd  # noqa: PLC0415 - a chunk of a longer file only

    lead = "2000-01-03 12:00:00" if intraday else "2000-01-03"
    text = as_text_series(dates)
    led = pd.concat([pd.Series([lead], dtype=text.dtype), text], ignore_index=True)
    both = parse_stamps(led, config.zone, config.session_open, config.session_close)
    return Stamps(
        both.intraday,
        both.timestamps[1:],
        both.opened_at[1:],
        both.sessions[1:],
        {row - 1: problem for row, problem in both.problems.items() if row > 0},
    )


def _order_after(
    after: LastBar,
    timestamps: IntArray,
    valid: npt.NDArray[np.bool_],
    raw: RawTable,
    what: str,
    problems: dict[int, str],
) -> None:
    # The last kept bar before the chunk leads it as row -1 of the same checks, so a
    # row is compared with every earlier row of the file, not only of its chunk.
    led = np.concatenate(([after.timestamp], timestamps))
    lines = np.concatenate(([after.line], raw.lines))

    def date(row: int) -> str:
        return after.date if row == 0 else raw.date(row - 1)

    found: dict[int, str] = {}
    order_problems(led, np.flatnonzero(np.concatenate(([True], valid))), lines, date, what, found)
    for row, problem in found.items():
        problems[row - 1] = problem


def validate_rows(raw: RawTable, symbol: str, config: BarOptions) -> ValidatedRows:
    """Check and convert one table; raise ``DataError`` or report anomalies per policy."""
    path = raw.path
    rows = check_rows(raw, symbol, config)
    problems, kept = rows.problems, rows.kept
    if len(kept) == 0:
        first = min(problems)
        raise every_row_invalid(path, len(problems), int(raw.lines[first]), problems[first])

    timestamps = rows.timestamps[kept]
    if rows.intraday:
        reject_midnight_only(timestamps, rows.sessions[kept], config, path, int(raw.lines[0]))
        sessions = rows.sessions[kept]
        opened_at = intraday_openings(
            timestamps, sessions, _bar_interval(timestamps, sessions, config, path)
        )
    else:
        opened_at = rows.opened_at[kept]
    assert not np.any(timestamps == NAT)
    series = BarSeries(
        symbol=symbol,
        path=path,
        timestamps=np.ascontiguousarray(timestamps),
        opened_at=np.ascontiguousarray(opened_at),
        sessions=np.ascontiguousarray(rows.sessions[kept]),
        ohlcv=np.ascontiguousarray(rows.values[kept]),
        intraday=rows.intraday,
        lines=np.ascontiguousarray(raw.lines[kept]),
    )
    return ValidatedRows(series, tuple(rows.anomalies), kept)


def every_row_invalid(path: Path, count: int, line: int, problem: str) -> DataError:
    """The error of a file without a valid row (``line``, ``problem``: its first bad row's)."""
    unit = "row" if path.suffix == ".parquet" else "line"
    return DataError(
        f"every data row is invalid ({count} rows); first: {unit} {line}: {problem}", path=path
    )


def _local_ns(timestamps: IntArray, sessions: DayArray, config: BarOptions) -> IntArray:
    """Nanoseconds since local midnight of each bar."""
    import pandas as pd  # noqa: PLC0415 - intraday files only

    local = pd.DatetimeIndex(timestamps.view("datetime64[ns]"), tz="UTC").tz_convert(config.zone)
    naive = local.tz_localize(None).as_unit("ns").asi8
    midnight = sessions.astype("datetime64[ns]").astype(np.int64)
    result: IntArray = (naive - midnight).astype(np.int64)
    return result


def midnight_only(timestamps: IntArray, sessions: DayArray, config: BarOptions) -> bool:
    """Whether every bar's local time of day is 00:00."""
    return bool(np.all(_local_ns(timestamps, sessions, config) == 0))


def reject_midnight_only(
    timestamps: IntArray, sessions: DayArray, config: BarOptions, path: Path, line: int
) -> None:
    # A daily file exported with "00:00:00" times would otherwise stamp every
    # bar at the start of its session, before the prices existed: look-ahead.
    if midnight_only(timestamps, sessions, config):
        raise midnight_error(path, line)


def midnight_error(path: Path, line: int) -> DataError:
    return DataError(
        "every time of day is 00:00: write daily bars as YYYY-MM-DD (they are then "
        "stamped at session_close); a midnight stamp would date each bar before its session",
        path=path,
        line=line,
    )


def intraday_openings(
    timestamps: IntArray,
    sessions: DayArray,
    interval: int,
    before: tuple[int, np.datetime64] | None = None,
) -> IntArray:
    """When each intraday bar opened: ``interval`` (ns) before its stamp, but never before
    the bar ahead of it in its session closed. A session's last bar is often shorter (hourly
    bars stamped 10:30, 11:30, ..., 15:30 and 16:00): taken as a full hour it would open at
    15:00, before a decision at 15:30, and a fill at its open would be stamped before the
    order existed. ``before``: the stamp and session of the bar ahead of the first."""
    opened: IntArray = timestamps - interval
    if len(timestamps) > 1:
        same = sessions[1:] == sessions[:-1]
        opened[1:] = np.where(same, np.maximum(opened[1:], timestamps[:-1]), opened[1:])
    if before is not None and len(timestamps) and sessions[0] == before[1]:
        opened[0] = max(int(opened[0]), before[0])
    return opened


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
