"""Time-aligned k-way merge of per-symbol bar series into ``BarSlice``s.

Only one cursor per symbol lives in the merge (a heap of ``(next timestamp,
symbol position)``), so the work per slice grows with the symbols that trade
at that time, and symbols that start late, stop early or skip days need no
special case: a symbol simply has no heap entry until its next bar.
"""

from __future__ import annotations

import heapq
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

import numpy as np

from qtrader.data.errors import DataError
from qtrader.data.series import BarSeries, IntArray
from qtrader.models import BarSlice, CashDividend, FloatArray, Split

Action = Split | CashDividend

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _aware(ns: int, zone: tzinfo) -> datetime:
    # Exact to the microsecond (bar times are whole seconds), unlike float seconds.
    return (_EPOCH + timedelta(microseconds=ns // 1000)).astimezone(zone)


def merge_bar_series(
    series: Sequence[BarSeries],
    *,
    start: date,
    end: date,
    warmup_bars: int,
    zone: tzinfo,
    actions: Sequence[Sequence[Action]] = (),
) -> Iterator[BarSlice]:
    """Yield one slice per distinct timestamp, in strictly increasing order.

    A symbol contributes its bars whose session date is in ``[start, end]``
    and the ``warmup_bars`` bars right before ``start`` (fewer if it has
    fewer); slices before ``start`` are flagged ``warmup``. Within a slice,
    symbols keep the order of ``series``. Slice times are shown in ``zone``.

    ``actions[i]`` are the corporate actions of ``series[i]``. Each goes into
    the slice of that symbol's first bar on or after its ex-date (the ex-date
    itself unless the symbol has no bar that day); actions before the first
    delivered bar or after the last are not delivered (nothing can be held or
    remembered across them).
    """
    first_day = np.datetime64(start, "D")
    last_day = np.datetime64(end, "D")
    cursors: list[int] = []
    live_from: list[int] = []
    stops: list[int] = []
    heap: list[tuple[int, int]] = []
    for i, s in enumerate(series):
        live = int(np.searchsorted(s.sessions, first_day, side="left"))
        stop = int(np.searchsorted(s.sessions, last_day, side="right"))
        begin = max(0, live - warmup_bars)
        cursors.append(begin)
        live_from.append(live)
        stops.append(stop)
        if begin < stop:
            heap.append((int(s.timestamps[begin]), i))
    heapq.heapify(heap)
    return _drain(
        series, heap, cursors, live_from, stops, zone, _place(series, actions, cursors, stops)
    )


def _place(
    series: Sequence[BarSeries],
    actions: Sequence[Sequence[Action]],
    begins: Sequence[int],
    stops: Sequence[int],
) -> dict[int, tuple[Action, ...]]:
    """Actions by the timestamp of the slice that carries them, in symbol order."""
    placed: dict[int, list[Action]] = {}
    for i, symbol_actions in enumerate(actions):
        s = series[i]
        for action in symbol_actions:
            at = int(np.searchsorted(s.sessions, np.datetime64(action.ex_date, "D"), side="left"))
            if begins[i] <= at < stops[i]:
                placed.setdefault(int(s.timestamps[at]), []).append(action)
    return {stamp: tuple(acts) for stamp, acts in placed.items()}


def _drain(
    series: Sequence[BarSeries],
    heap: list[tuple[int, int]],
    cursors: list[int],
    live_from: list[int],
    stops: list[int],
    zone: tzinfo,
    actions_at: dict[int, tuple[Action, ...]],
) -> Iterator[BarSlice]:
    symbols = [s.symbol for s in series]
    # Bound once: attribute lookups per bar are a measurable share of the loop.
    stamps_of = [s.timestamps for s in series]
    rows_of = [s.ohlcv for s in series]
    opened_of = [s.opened_at for s in series]
    # Daily bars of one timestamp share their session open; intraday bars may
    # differ in length, and the slice then opened with the earliest of them.
    intraday = any(s.intraday for s in series)
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        stamp, first = pop(heap)
        members = [first]
        # Ties pop in ascending symbol position, which is the requested order.
        while heap and heap[0][0] == stamp:
            members.append(pop(heap)[1])
        rows = []
        for i in members:
            pos = cursors[i]
            rows.append(rows_of[i][pos])
            cursors[i] = pos + 1
            if pos + 1 < stops[i]:
                push(heap, (int(stamps_of[i][pos + 1]), i))
        first_pos = cursors[first] - 1
        if intraday:
            opened = min(int(opened_of[i][cursors[i] - 1]) for i in members)
        else:
            opened = int(opened_of[first][first_pos])
        # One copy per slice: (k, 5) rows -> 5 contiguous columns of length k.
        o, h, lo, c, v = np.array(rows, dtype=np.float64).T.copy()
        yield BarSlice(
            timestamp=_aware(stamp, zone),
            opened_at=_aware(opened, zone),
            symbols=tuple([symbols[i] for i in members]),
            open=o,
            high=h,
            low=lo,
            close=c,
            volume=v,
            # All members share the timestamp, hence the session: one test suffices.
            warmup=first_pos < live_from[first],
            actions=actions_at.get(stamp, ()) if actions_at else (),
        )


@dataclass(slots=True)
class ChunkFeed:
    """One symbol of a chunked merge: its bars in consecutive chunks, and which of them
    to deliver by bar index (from 0): ``begin`` up to ``stop``, warmup before ``live``."""

    symbol: str
    chunks: Iterator[BarSeries]
    begin: int
    live: int
    stop: int


_NO_STAMPS: IntArray = np.empty(0, dtype=np.int64)
_NO_ROWS: FloatArray = np.empty((0, 5), dtype=np.float64)


def merge_chunks(
    feeds: Sequence[ChunkFeed],
    *,
    zone: tzinfo,
    intraday: bool,
    actions_at: dict[int, tuple[Action, ...]],
) -> Iterator[BarSlice]:
    """``merge_bar_series`` over symbols read chunk by chunk: each cursor is a chunk and a
    position in it, and the next chunk is read when one is used up, so the merge holds
    one chunk per symbol. ``actions_at``: the actions by the timestamp of their slice."""
    try:
        yield from _drain_chunks(feeds, zone, intraday, actions_at)
    finally:
        for feed in feeds:  # else a file stays open until the garbage collector finds it
            if isinstance(feed.chunks, Generator):
                feed.chunks.close()


def _drain_chunks(
    feeds: Sequence[ChunkFeed],
    zone: tzinfo,
    intraday: bool,
    actions_at: dict[int, tuple[Action, ...]],
) -> Iterator[BarSlice]:
    n = len(feeds)
    symbols = [f.symbol for f in feeds]
    stamps_of = [_NO_STAMPS] * n
    rows_of = [_NO_ROWS] * n
    opened_of = [_NO_STAMPS] * n
    base = [0] * n  # the bar index of each current chunk's first row
    pos = [0] * n  # the position of each symbol's next bar in its current chunk

    def reach(i: int, bar: int) -> None:
        # Read chunks of symbol i up to the one holding bar index ``bar``.
        while bar >= base[i] + len(stamps_of[i]):
            base[i] += len(stamps_of[i])
            chunk = next(feeds[i].chunks, None)
            if chunk is None:
                raise DataError(
                    f"{symbols[i]}: fewer bars than when the stream was checked (bar "
                    f"{bar + 1} of {feeds[i].stop}): was the data changed while streaming?"
                )
            stamps_of[i], rows_of[i], opened_of[i] = chunk.timestamps, chunk.ohlcv, chunk.opened_at
        pos[i] = bar - base[i]

    heap: list[tuple[int, int]] = []
    for i, feed in enumerate(feeds):
        if feed.begin < feed.stop:
            reach(i, feed.begin)
            heap.append((int(stamps_of[i][pos[i]]), i))
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        stamp, first = pop(heap)
        members = [first]
        while heap and heap[0][0] == stamp:
            members.append(pop(heap)[1])
        first_bar = base[first] + pos[first]
        opened = int(opened_of[first][pos[first]])
        rows = []
        for i in members:
            p = pos[i]
            rows.append(rows_of[i][p])
            if intraday:
                opened = min(opened, int(opened_of[i][p]))
            following = base[i] + p + 1
            if following < feeds[i].stop:
                if p + 1 < len(stamps_of[i]):
                    pos[i] = p + 1
                else:
                    reach(i, following)
                push(heap, (int(stamps_of[i][pos[i]]), i))
        # One copy per slice: (k, 5) rows -> 5 contiguous columns of length k.
        o, h, lo, c, v = np.array(rows, dtype=np.float64).T.copy()
        yield BarSlice(
            timestamp=_aware(stamp, zone),
            opened_at=_aware(opened, zone),
            symbols=tuple([symbols[i] for i in members]),
            open=o,
            high=h,
            low=lo,
            close=c,
            volume=v,
            warmup=first_bar < feeds[first].live,
            actions=actions_at.get(stamp, ()),
        )
