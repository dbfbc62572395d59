"""One symbol's rows: selected from each file, validated there, merged by date.

Each file's rows go through the shared boundary validation (``validate_rows``)
on their own, so every message names that file and line. The files are then
merged by session date: the file with the most rows comes first, identical
duplicates are dropped silently, and a duplicate that differs is a
``DataError`` naming both files and lines (``repair``: the first file's row is
kept and the other reported as dropped).

Corporate actions are read from every row whose date can be read, kept or not
(``ActionRows``): a row dropped under ``repair`` for a bad price still carries its
split or dividend (applied from the next bar), and a dividend is computed from the
previous row's close as the file wrote it, the close the vendor's factor was computed
from, even when that row was dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from qtrader.data._rows import RawTable, validate_rows
from qtrader.data.algoseek._actions import CASH_DIVIDEND, REASONS
from qtrader.data.algoseek._reader import FACTORS, AlgoseekTable, TextArray
from qtrader.data.errors import Anomaly, AnomalyAction, DataError
from qtrader.data.options import BarOptions, ValidationPolicy
from qtrader.data.series import CLOSE, DayArray, IntArray
from qtrader.models import FloatArray

BoolArray = npt.NDArray[np.bool_]

_TRADE_DATE = r"^(\d{4}-\d{1,2}-\d{1,2})(?:[ T](\d{1,2}:\d{2}(?::\d{2})?))?$"
_MIDNIGHT = " 00:00:00"
_FIELDS = ("open", "high", "low", "close", "volume", *FACTORS)


@dataclass(frozen=True, slots=True)
class ActionRows:
    """Every row of a symbol whose session date can be read, dropped or not, by strictly
    increasing session: where its actions are and the closes they are computed from."""

    file_of: IntArray
    lines: IntArray
    sessions: DayArray
    closes: FloatArray
    """The close as written (NaN where it is not a number)."""
    reasons: TextArray
    """The AdjustmentReason of a row whose factor is usable, else ""."""
    factors: FloatArray
    volume_factors: FloatArray
    """The CumulativeVolumeFactor as written (NaN where it is not a number)."""
    sec_ids: TextArray


@dataclass(frozen=True, slots=True)
class SymbolRows:
    """Validated rows of one symbol, by strictly increasing session, and where each came from."""

    files: tuple[Path, ...]
    file_of: IntArray
    lines: IntArray
    timestamps: IntArray
    opened_at: IntArray
    sessions: DayArray
    ohlcv: FloatArray
    raw: FloatArray
    """``(n, 8)``: the values as written (OHLCV, then the three factors), for comparing."""
    reasons: TextArray
    sec_ids: TextArray
    actions: ActionRows
    anomalies: tuple[Anomaly, ...] = ()

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def factors(self) -> FloatArray:
        return self.raw[:, 5:]

    def locate(self, row: int) -> tuple[Path, int]:
        return self.files[int(self.file_of[row])], int(self.lines[row])

    def locate_action_row(self, row: int) -> tuple[Path, int]:
        return self.files[int(self.actions.file_of[row])], int(self.actions.lines[row])


def session_dates(dates: pd.Series) -> DayArray:
    """The date part of each ``TradeDate`` (NaT where it is not one), for selecting rows."""
    parsed = pd.to_datetime(dates.str.strip().str[:10], format="%Y-%m-%d", errors="coerce")
    days: DayArray = parsed.to_numpy(dtype="datetime64[D]")
    return days


def _trade_dates(text: pd.Series, problems: dict[int, str]) -> tuple[pd.Series, DayArray]:
    """``YYYY-MM-DD 00:00:00`` -> ``YYYY-MM-DD`` (a session date; a midnight time would
    be read as an intraday bar). Other times of day are problems; other text is left
    as it is for ``validate_rows`` to report. Also each row's session (NaT for a row
    whose date cannot be read or has a time of day)."""
    text = text.str.strip()
    if bool((text.str.len().eq(19) & text.str.endswith(_MIDNIGHT)).all()):
        dates = text.str[:10]  # the vendor's layout: no per-row work
        return dates, session_dates(dates)
    parts = text.str.extract(_TRADE_DATE)
    clock = parts[1]
    timed = (clock.notna() & ~clock.isin(["00:00", "00:00:00"])).to_numpy(dtype=bool)
    for row in np.flatnonzero(timed):
        problems.setdefault(
            int(row),
            f"TradeDate {text.iloc[row]!r} has a time of day: expected YYYY-MM-DD 00:00:00 "
            "(a daily bar)",
        )
    dates = parts[0].where(parts[0].notna(), text).astype(str)
    days = session_dates(parts[0].where(parts[0].notna(), ""))
    days[timed] = np.datetime64("NaT")
    return dates, days


def _factor_problems(
    table: AlgoseekTable, rows: IntArray, needs_cumulative: bool, problems: dict[int, str]
) -> tuple[list[tuple[int, float]], BoolArray]:
    """Check the factor columns; return rows with a factor but no reason (to report), and
    which rows carry an action whose factor can be used."""
    reasons = table.reasons[rows]
    factors = table.factors[rows]
    unknown = np.flatnonzero(~np.isin(reasons, [*REASONS, ""]))
    if len(unknown):
        first = int(unknown[0])
        raise DataError(
            f"{table.dates.iloc[rows[first]].strip()}: unknown AdjustmentReason "
            f"{reasons[first]!r}: expected one of {', '.join(sorted(REASONS))} (or empty); "
            "an unknown corporate action cannot be applied",
            path=table.path,
            line=int(table.lines[rows[first]]),
        )
    factor = factors[:, 2]
    event = reasons != ""
    bad = event & ~(np.isfinite(factor) & (factor > 0))
    for row in np.flatnonzero(bad):
        problems.setdefault(
            int(row),
            f"missing AdjustmentFactor of {reasons[row]}"
            if np.isnan(factor[row])
            else f"AdjustmentFactor {factor[row]:g} of {reasons[row]} is not a positive number",
        )
    not_below_one = event & ~bad & (reasons == CASH_DIVIDEND) & (factor >= 1)
    for row in np.flatnonzero(not_below_one):
        problems.setdefault(
            int(row),
            f"CashDiv AdjustmentFactor {factor[row]:g} is not below 1: expected "
            "1 - dividend / previous close",
        )
    if needs_cumulative:
        for j, name in enumerate(FACTORS[:2]):
            column = factors[:, j]
            for row in np.flatnonzero(~(np.isfinite(column) & (column > 0))):
                problems.setdefault(
                    int(row), f"{name} {column[row]:g} is not a positive number (total_return)"
                )
    stray = ~event & np.isfinite(factor) & (factor != 1)
    usable: BoolArray = event & ~bad & ~not_below_one
    return [(int(r), float(factor[r])) for r in np.flatnonzero(stray)], usable


@dataclass(frozen=True, slots=True)
class _FileRows:
    path: Path
    lines: IntArray
    timestamps: IntArray
    opened_at: IntArray
    sessions: DayArray
    ohlcv: FloatArray
    raw: FloatArray
    reasons: TextArray
    sec_ids: TextArray
    actions: ActionRows
    anomalies: tuple[Anomaly, ...]


def file_rows(
    table: AlgoseekTable,
    rows: IntArray,
    symbol: str,
    config: BarOptions,
    needs_cumulative: bool,
) -> _FileRows:
    """Validate the rows ``rows`` of ``table`` (file order) as bars of ``symbol``."""
    problems: dict[int, str] = {}
    for row, message in table.bad_cells.items():
        position = int(np.searchsorted(rows, row))
        if position < len(rows) and rows[position] == row:
            problems[position] = message
    dates, days = _trade_dates(table.dates.iloc[rows].reset_index(drop=True), problems)
    stray, usable = _factor_problems(table, rows, needs_cumulative, problems)
    raw_values = np.column_stack((table.values[rows], table.factors[rows]))
    raw = RawTable(table.path, table.lines[rows], dates, table.values[rows], problems)
    checked = validate_rows(raw, symbol, config)
    anomalies = list(checked.anomalies)
    kept = set(checked.kept.tolist())
    for row, factor in stray:
        if row in kept:
            anomalies.append(
                Anomaly(
                    symbol,
                    raw.date(row),
                    f"AdjustmentFactor {factor:g} without an AdjustmentReason: ignored",
                    AnomalyAction.REPORTED,
                    table.path,
                    int(raw.lines[row]),
                )
            )
    series = checked.series
    return _FileRows(
        path=table.path,
        lines=np.asarray(raw.lines[checked.kept]),
        timestamps=np.asarray(series.timestamps),
        opened_at=np.asarray(series.opened_at),
        sessions=np.asarray(series.sessions),
        ohlcv=np.asarray(series.ohlcv),
        raw=raw_values[checked.kept],
        reasons=table.reasons[rows][checked.kept],
        sec_ids=table.sec_ids[rows][checked.kept],
        actions=_action_rows(table, rows, days, usable),
        anomalies=tuple(anomalies),
    )


def _action_rows(
    table: AlgoseekTable, rows: IntArray, days: DayArray, usable: BoolArray
) -> ActionRows:
    """``ActionRows`` of one file's rows ``rows`` (``days``: their sessions, NaT where a
    date cannot be read), by session; of rows dated alike, the first."""
    dated = np.flatnonzero(~np.isnat(days))
    dated = dated[np.argsort(days[dated], kind="stable")]
    if len(dated) > 1:
        dated = dated[np.append(True, days[dated][1:] != days[dated][:-1])]
    picked = rows[dated]
    return ActionRows(
        file_of=np.zeros(len(dated), dtype=np.int64),
        lines=np.asarray(table.lines[picked]),
        sessions=days[dated],
        closes=table.values[picked, CLOSE],
        reasons=np.where(usable[dated], table.reasons[picked], ""),
        factors=table.factors[picked, 2],
        volume_factors=table.factors[picked, 1],
        sec_ids=table.sec_ids[picked],
    )


def _differences(a: FloatArray, b: FloatArray) -> list[str]:
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    return [f"{_FIELDS[j]} {a[j]:g} vs {b[j]:g}" for j in np.flatnonzero(~same)]


def merge_files(parts: list[_FileRows], symbol: str, config: BarOptions) -> SymbolRows:
    """Merge the files' rows by session date (see the module docstring)."""
    parts = sorted(parts, key=lambda p: (-len(p.lines), str(p.path)))
    file_of = np.concatenate(
        [np.full(len(p.lines), k, dtype=np.int64) for k, p in enumerate(parts)]
    )
    sessions = np.concatenate([p.sessions for p in parts])
    order = np.argsort(sessions, kind="stable")  # ties: the preferred file first
    sessions, file_of = sessions[order], file_of[order]
    lines = np.concatenate([p.lines for p in parts])[order]
    raw = np.concatenate([p.raw for p in parts])[order]
    reasons = np.concatenate([p.reasons for p in parts])[order]
    sec_ids = np.concatenate([p.sec_ids for p in parts])[order]
    anomalies = [a for p in parts for a in p.anomalies]
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = sessions[1:] != sessions[:-1]
    first_of_day = np.maximum.accumulate(np.where(keep, np.arange(len(order)), 0))
    for i in np.flatnonzero(~keep):
        k = int(first_of_day[i])
        differs = _differences(raw[k], raw[i])
        if reasons[k] != reasons[i]:
            differs.append(f"AdjustmentReason {reasons[k]!r} vs {reasons[i]!r}")
        if sec_ids[k] != sec_ids[i]:
            differs.append(f"SecId {sec_ids[k]} vs {sec_ids[i]}")
        if not differs:
            continue  # the same row in two files
        kept_at = f"{parts[int(file_of[k])].path}, line {lines[k]}"
        if parts[int(file_of[k])].path.suffix == ".parquet":
            kept_at = kept_at.replace(", line ", ", row ")
        problem = f"conflicts with {kept_at} ({'; '.join(differs)})"
        path = parts[int(file_of[i])].path
        if config.validation is ValidationPolicy.STRICT:
            raise DataError(
                f"{sessions[i]}: {symbol} {problem}; expected identical rows for one date",
                path=path,
                line=int(lines[i]),
            )
        anomalies.append(
            Anomaly(
                symbol,
                str(sessions[i]),
                f"{problem}: the first is kept",
                AnomalyAction.DROPPED,
                path,
                int(lines[i]),
            )
        )
    # A row also found in a preferred file is not delivered: only its drop is news.
    if len(parts) > 1 and anomalies:
        delivered = {
            (parts[int(f)].path, int(n)) for f, n in zip(file_of[keep], lines[keep], strict=True)
        }
        anomalies = [
            a
            for a in anomalies
            if a.action is AnomalyAction.DROPPED or (a.path, a.line) in delivered
        ]
    pick = order[keep]
    return SymbolRows(
        files=tuple(p.path for p in parts),
        file_of=file_of[keep],
        lines=lines[keep],
        timestamps=np.concatenate([p.timestamps for p in parts])[pick],
        opened_at=np.concatenate([p.opened_at for p in parts])[pick],
        sessions=sessions[keep],
        ohlcv=np.concatenate([p.ohlcv for p in parts])[pick],
        raw=raw[keep],
        reasons=reasons[keep],
        sec_ids=sec_ids[keep],
        actions=_merge_action_rows([p.actions for p in parts]),
        anomalies=tuple(anomalies),
    )


def _merge_action_rows(parts: list[ActionRows]) -> ActionRows:
    """The files' ``ActionRows`` merged by session; of rows dated alike, the first file's
    (the files in ``merge_files``'s order, whose conflicts it reports)."""
    file_of = np.concatenate(
        [np.full(len(p.lines), k, dtype=np.int64) for k, p in enumerate(parts)]
    )
    sessions = np.concatenate([p.sessions for p in parts])
    order = np.argsort(sessions, kind="stable")
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = sessions[order][1:] != sessions[order][:-1]
    pick = order[keep]
    return ActionRows(
        file_of=file_of[pick],
        lines=np.concatenate([p.lines for p in parts])[pick],
        sessions=sessions[pick],
        closes=np.concatenate([p.closes for p in parts])[pick],
        reasons=np.concatenate([p.reasons for p in parts])[pick],
        factors=np.concatenate([p.factors for p in parts])[pick],
        volume_factors=np.concatenate([p.volume_factors for p in parts])[pick],
        sec_ids=np.concatenate([p.sec_ids for p in parts])[pick],
    )
