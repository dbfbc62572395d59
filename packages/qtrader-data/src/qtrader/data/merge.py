"""Time-aligned k-way merge of per-symbol bar series into ``BarSlice``s.

Loaded series are merged a block of time at a time: the next few hundred bars
of every symbol are gathered, sorted once by (timestamp, symbol position) with
numpy, and cut into slices, so Python runs once per slice, not once per bar,
and memory beyond the loaded series is one block. Symbols that start late, stop
early or skip days need no special case: a symbol simply has no rows in a block
before its next bar. Chunked series (read piece by piece) go through a heap of
``(next timestamp, symbol position)`` cursors instead (``merge_chunks``).
"""

from __future__ import annotations

import heapq
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from itertools import pairwise

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
    for s in series:
        live = int(np.searchsorted(s.sessions, first_day, side="left"))
        stop = int(np.searchsorted(s.sessions, last_day, side="right"))
        cursors.append(max(0, live - warmup_bars))
        live_from.append(live)
        stops.append(stop)
    actions_at = _place(series, actions, cursors, stops)
    return _drain_blocks(series, cursors, live_from, stops, zone, actions_at)


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


BLOCK_BARS = 64
"""Bars per symbol gathered at a time by ``_drain_blocks``: the merge holds symbols x 64 bars
beyond the loaded series (about 6 MiB for 500 symbols)."""
_NO_BOUND = np.iinfo(np.int64).max


def _drain_blocks(
    series: Sequence[BarSeries],
    begins: Sequence[int],
    live_from: Sequence[int],
    stops: Sequence[int],
    zone: tzinfo,
    actions_at: dict[int, tuple[Action, ...]],
) -> Iterator[BarSlice]:
    symbols = [s.symbol for s in series]
    live = np.asarray(live_from, dtype=np.int64)
    # Daily bars of one timestamp share their session open; intraday bars may
    # differ in length, and the slice then opened with the earliest of them.
    intraday = any(s.intraday for s in series)
    cursors = list(begins)
    # The symbols of each distinct group of slices and their index, made once per group.
    names: dict[bytes, tuple[tuple[str, ...], dict[str, int]]] = {}
    while True:
        active = [i for i, s in enumerate(series) if cursors[i] < stops[i]]
        if not active:
            return
        # Every bar stamped before ``bound`` goes into this block. The symbol whose
        # BLOCK_BARS-th next bar comes first sets it, so that symbol advances a whole
        # block and every other one at most that much.
        bound = min(
            int(series[i].timestamps[cursors[i] + BLOCK_BARS])
            if cursors[i] + BLOCK_BARS < stops[i]
            else _NO_BOUND
            for i in active
        )
        owners, positions, stamps, rows, opened = [], [], [], [], []
        for i in active:
            s, first = series[i], cursors[i]
            last = stops[i]
            if bound != _NO_BOUND:
                last = first + int(np.searchsorted(s.timestamps[first:last], bound, "left"))
            if last == first:
                continue
            owners.append(np.full(last - first, i, dtype=np.int64))
            positions.append(np.arange(first, last, dtype=np.int64))
            stamps.append(s.timestamps[first:last])
            rows.append(s.ohlcv[first:last])
            opened.append(s.opened_between(first, last))
            cursors[i] = last
        owner = np.concatenate(owners)
        stamp = np.concatenate(stamps)
        # Ties keep the requested symbol order: sort by stamp, then by symbol position.
        order = np.lexsort((owner, stamp))
        owner, stamp = owner[order], stamp[order]
        warm = (np.concatenate(positions)[order] < live[owner]).tolist()
        # One copy per block: five contiguous columns; each slice holds views of them.
        columns = np.concatenate(rows)[order].T.copy()
        opens = np.concatenate(opened)[order]
        starts = np.flatnonzero(np.diff(stamp)) + 1
        cuts = [0, *starts.tolist(), len(stamp)]
        if intraday:
            opened_at = np.minimum.reduceat(opens, cuts[:-1]).tolist()
            latest = np.maximum.reduceat(opens, cuts[:-1]).tolist()
        else:
            opened_at = latest = opens[cuts[:-1]].tolist()
        stamp_list = stamp[cuts[:-1]].tolist()
        o, h, lo, c, v = columns
        for g, (a, b) in enumerate(pairwise(cuts)):
            members = owner[a:b]
            key = members.tobytes()
            known = names.get(key)
            if known is None:
                group = tuple([symbols[i] for i in members.tolist()])
                known = names[key] = (group, {s: k for k, s in enumerate(group)})
            at = stamp_list[g]
            # Validated at load, float64 views of one block, aware times with the open
            # not after the close: the slice is not checked again.
            yield BarSlice.trusted(
                _aware(at, zone),
                _aware(opened_at[g], zone),
                known[0],
                known[1],
                (o[a:b], h[a:b], lo[a:b], c[a:b], v[a:b]),
                # All members share the timestamp, hence the session: one test suffices.
                warmup=warm[a],
                actions=actions_at.get(at, ()) if actions_at else (),
                # Bars of different lengths: each symbol's own opening (fills, sessions).
                bars_opened_at=None
                if latest[g] == opened_at[g]
                else tuple(_aware(t, zone) for t in opens[a:b].tolist()),
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
        rows, opens = [], []
        for i in members:
            p = pos[i]
            rows.append(rows_of[i][p])
            opens.append(int(opened_of[i][p]))
            following = base[i] + p + 1
            if following < feeds[i].stop:
                if p + 1 < len(stamps_of[i]):
                    pos[i] = p + 1
                else:
                    reach(i, following)
                push(heap, (int(stamps_of[i][pos[i]]), i))
        # One copy per slice: (k, 5) rows -> 5 contiguous columns of length k.
        o, h, lo, c, v = np.array(rows, dtype=np.float64).T.copy()
        # Daily bars of one timestamp share their open; intraday ones may not (see above).
        opened = min(opens) if intraday else opens[0]
        differ = intraday and max(opens) != opened
        yield BarSlice(
            timestamp=_aware(stamp, zone),
            opened_at=_aware(opened, zone),
            bars_opened_at=tuple(_aware(t, zone) for t in opens) if differ else None,
            symbols=tuple([symbols[i] for i in members]),
            open=o,
            high=h,
            low=lo,
            close=c,
            volume=v,
            warmup=first_bar < feeds[first].live,
            actions=actions_at.get(stamp, ()),
        )
