"""What keeps a loaded series small: line numbers in 4 bytes when they fit, and pyarrow's
memory handed back (jemalloc) when the app asks for it."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pytest

from qtrader.data import BarSeries, use_jemalloc_pool

NS_PER_DAY = 86_400 * 10**9


def series(lines: list[int]) -> BarSeries:
    n = len(lines)
    stamps = np.arange(1, n + 1, dtype=np.int64) * NS_PER_DAY
    return BarSeries(
        symbol="AAA",
        path=None,
        timestamps=stamps,
        opened_at=stamps - 3_600 * 10**9,
        sessions=np.arange(1, n + 1).astype("datetime64[D]"),
        ohlcv=np.ones((n, 5)),
        lines=np.array(lines, dtype=np.int64),
    )


def test_line_numbers_are_kept_in_four_bytes_when_they_fit() -> None:
    small = series([2, 3, 7])
    assert small.lines is not None
    assert small.lines.dtype == np.int32
    assert [small.line(i) for i in range(3)] == [2, 3, 7]
    assert not small.lines.flags.writeable
    huge = series([2, 2**31 + 5])  # a file of more than 2**31 lines keeps int64
    assert huge.lines is not None
    assert huge.lines.dtype == np.int64
    assert huge.line(1) == 2**31 + 5
    assert series([]).lines is not None


def test_without_lines_shares_every_array_and_drops_only_the_numbers() -> None:
    full = series([2, 3, 7])
    bare = full.without_lines()
    assert bare.lines is None
    assert bare.line(0) is None
    assert bare.timestamps is full.timestamps
    assert bare.ohlcv is full.ohlcv
    assert bare.sessions.tolist() == full.sessions.tolist()
    assert bare.opened_at.tolist() == full.opened_at.tolist()
    assert bare.without_lines() is bare
    with pytest.raises(AttributeError, match="read-only"):
        bare.symbol = "BBB"  # type: ignore[misc]


def test_sessions_and_opening_times_come_back_exactly() -> None:
    stamps = np.array([1, 2, 3], dtype=np.int64) * NS_PER_DAY
    days = np.array(["2024-01-02", "1969-12-31", "2100-06-30"], dtype="datetime64[D]")
    uneven = stamps - np.array([60, 90, 60], dtype=np.int64)  # not one gap: kept whole
    for opened in (stamps - 60, uneven):
        s = BarSeries("A", None, stamps, opened, days, np.ones((3, 5)))
        assert s.sessions.tolist() == days.tolist()
        assert s.opened_at.tolist() == opened.tolist()
        assert s.opened_between(1, 3).tolist() == opened[1:].tolist()
    assert (s.first_session, s.last_session) == (date(2024, 1, 2), date(2100, 6, 30))


def test_the_app_can_make_jemalloc_pyarrows_pool() -> None:
    before = pa.default_memory_pool()
    try:
        if not use_jemalloc_pool():  # pragma: no cover - a pyarrow build without jemalloc
            pytest.skip("this pyarrow has no jemalloc")
        assert pa.default_memory_pool().backend_name == "jemalloc"
        assert pa.array([1.5, 2.5]).to_pylist() == [1.5, 2.5]  # and it allocates
    finally:
        pa.set_memory_pool(before)
