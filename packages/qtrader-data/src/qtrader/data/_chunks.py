"""Validation and streaming of a symbol read in chunks, with the results of a whole read.

A chunked adapter feeds its rows to a ``ChunkValidator`` one ``RawTable`` at a time
(rows numbered as in the whole file). The validator carries what the checks of one
row need from earlier chunks: whether the file is intraday (its first parsable row
decides), the last kept bar (every row must be after it), the count and first of the
bad rows (a file whose every row is bad is refused) and whether any intraday bar is
not at midnight. So strict raises for the same row, and repair drops and reports the
same rows, as ``validate_rows`` on the whole file.

``survey`` is the service's pre-pass over one symbol: it reads every chunk once,
keeping only counts, the anomalies and where the actions go, so that bad data fails
before the first slice; the stream then reads the chunks again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from qtrader.data._rows import (
    CheckedRows,
    LastBar,
    RawTable,
    check_rows,
    every_row_invalid,
    intraday_openings,
    midnight_error,
    midnight_only,
)
from qtrader.data._timestamps import _DAILY, _INTRADAY
from qtrader.data.errors import Anomaly, DataError
from qtrader.data.gaps import suspected_splits
from qtrader.data.options import BarOptions
from qtrader.data.series import CLOSE, BarSeries
from qtrader.data.source import Action, ChunkedData, SeriesChunk


def _file_kind(raw: RawTable) -> bool | None:
    """Intraday as the first parsable date of ``raw`` is; ``None`` if it has none."""
    text = raw.dates.str.strip()
    daily = text.str.fullmatch(_DAILY).to_numpy(dtype=bool, na_value=False)
    intraday = text.str.fullmatch(_INTRADAY).to_numpy(dtype=bool, na_value=False)
    found = np.flatnonzero(daily | intraday)
    return bool(intraday[found[0]]) if len(found) else None


class ChunkValidator:
    """Validates the consecutive ``RawTable``s of one file of ``symbol`` at ``path``."""

    def __init__(self, symbol: str, config: BarOptions, path: Path) -> None:
        self._symbol = symbol
        self._config = config
        self._path = path
        self._intraday: bool | None = None
        # Chunks without any parsable date, held until the file's kind is known: the
        # message of an unparsable date names the format the file turns out to have.
        self._pending: list[RawTable] = []
        self._last: LastBar | None = None
        self._first_line: int | None = None
        self._bad = 0
        self._first_bad: tuple[int, str] | None = None
        self._bars = 0
        self._clock_seen = False

    def feed(self, raw: RawTable) -> list[SeriesChunk]:
        """The validated chunks of ``raw`` (and of held ones); strict raises here."""
        if not len(raw.lines):
            return []
        if self._first_line is None:
            self._first_line = int(raw.lines[0])
        if self._intraday is None:
            self._intraday = _file_kind(raw)
            if self._intraday is None:
                self._pending.append(raw)
                return []
        return [*self._release(), self._check(raw)]

    def finish(self) -> None:
        """Raise the file-level errors of ``validate_rows`` (and strict's for held rows)."""
        if self._intraday is None:
            self._intraday = False  # no parsable date at all: read as daily, as a whole file
        # Held chunks have no bar (no parsable date): checking them only finds problems.
        self._release()
        if self._bars == 0:
            if self._first_bad is None:
                raise DataError("no data rows", path=self._path)
            raise every_row_invalid(self._path, self._bad, *self._first_bad)
        if self._intraday and not self._clock_seen:
            assert self._first_line is not None
            raise midnight_error(self._path, self._first_line)

    def _release(self) -> list[SeriesChunk]:
        done = [self._check(raw) for raw in self._pending]
        self._pending.clear()
        return done

    def _check(self, raw: RawTable) -> SeriesChunk:
        config = self._config
        if self._intraday and config.bar_interval is None:
            raise DataError(
                "intraday bars read in chunks (chunk_rows) need bar_interval in the config "
                "(e.g. '00:05:00'): inferring it takes the whole file",
                path=self._path,
            )
        rows: CheckedRows = check_rows(
            raw, self._symbol, config, after=self._last, intraday=self._intraday
        )
        if rows.problems:
            self._bad += len(rows.problems)
            if self._first_bad is None:
                first = min(rows.problems)
                self._first_bad = (int(raw.lines[first]), rows.problems[first])
        kept = rows.kept
        timestamps = rows.timestamps[kept]
        sessions = rows.sessions[kept]
        if rows.intraday:
            assert config.bar_interval is not None
            if len(kept) and not midnight_only(timestamps, sessions, config):
                self._clock_seen = True
            ahead = self._last
            opened_at = intraday_openings(
                timestamps,
                sessions,
                config.bar_interval // timedelta(microseconds=1) * 1000,
                None
                if ahead is None or ahead.session is None
                else (ahead.timestamp, ahead.session),
            )
        else:
            opened_at = rows.opened_at[kept]
        series = BarSeries(
            symbol=self._symbol,
            path=raw.path,
            timestamps=np.ascontiguousarray(timestamps),
            opened_at=np.ascontiguousarray(opened_at),
            sessions=np.ascontiguousarray(sessions),
            ohlcv=np.ascontiguousarray(rows.values[kept]),
            intraday=rows.intraday,
            lines=np.ascontiguousarray(raw.lines[kept]),
        )
        if len(kept):
            last = int(kept[-1])
            self._last = LastBar(
                int(timestamps[-1]), int(raw.lines[last]), raw.date(last), sessions[-1]
            )
            self._bars += len(kept)
        return SeriesChunk(series, tuple(rows.anomalies))


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    """What the pre-pass learned of one chunked symbol for one request.

    Bar indexes count the symbol's bars (valid rows) from 0: the stream delivers bars
    ``begin`` up to ``stop`` (exclusive), those before ``live`` as warmup.
    """

    intraday: bool
    begin: int
    live: int
    stop: int
    placed: tuple[tuple[int, Action], ...]
    """``(timestamp of the slice that carries it, action)`` of each delivered action."""
    anomalies: tuple[Anomaly, ...]
    """The adapter's, then the gaps that look like unrecorded splits."""


def survey(
    data: ChunkedData, *, start: date, end: date, warmup_bars: int, check_gaps: bool
) -> ChunkPlan:
    """Read and validate every chunk of ``data`` once, keeping only what the stream needs."""
    first_day = np.datetime64(start, "D")
    last_day = np.datetime64(end, "D")
    ex_days = [np.datetime64(a.ex_date, "D") for a in data.actions]
    # Per action: the index and timestamp of the symbol's first bar on or after its ex-date.
    found: list[tuple[int, int]] = []
    bars = before_start = through_end = 0
    intraday = False
    reported: list[Anomaly] = []
    gaps: list[Anomaly] = []
    previous: tuple[np.datetime64, float] | None = None
    for chunk in data.read(True):
        reported.extend(chunk.anomalies)
        s = chunk.series
        if not len(s):
            continue
        _check_symbol(s, data.symbol)
        intraday = s.intraday
        before_start += int(np.searchsorted(s.sessions, first_day, side="left"))
        through_end += int(np.searchsorted(s.sessions, last_day, side="right"))
        # Actions are sorted by ex-date, so they are found in order.
        while len(found) < len(ex_days):
            at = int(np.searchsorted(s.sessions, ex_days[len(found)], side="left"))
            if at == len(s):
                break
            found.append((bars + at, int(s.timestamps[at])))
        if check_gaps:
            gaps.extend(suspected_splits(s, data.actions, previous=previous))
        previous = (s.sessions[-1], float(s.ohlcv[-1, CLOSE]))
        bars += len(s)
    begin = max(0, before_start - warmup_bars)
    placed = tuple(
        (stamp, action)
        for (at, stamp), action in zip(found, data.actions, strict=False)
        if begin <= at < through_end
    )
    return ChunkPlan(intraday, begin, before_start, through_end, placed, (*reported, *gaps))


def _check_symbol(series: BarSeries, symbol: str) -> None:
    if series.symbol != symbol:
        raise DataError(f"adapter returned chunks of {series.symbol!r} when asked for {symbol!r}")


def place_whole(
    series: BarSeries, actions: Sequence[Action], begin: int, stop: int
) -> tuple[tuple[int, Action], ...]:
    """``ChunkPlan.placed`` of a symbol held whole (as ``merge_bar_series`` places them)."""
    placed = []
    for action in actions:
        at = int(np.searchsorted(series.sessions, np.datetime64(action.ex_date, "D"), "left"))
        if begin <= at < stop:
            placed.append((int(series.timestamps[at]), action))
    return tuple(placed)
