"""What keeps a loaded series small: line numbers in 4 bytes when they fit, and pyarrow's
memory handed back (jemalloc) when the app asks for it."""

from __future__ import annotations

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


def test_the_app_can_make_jemalloc_pyarrows_pool() -> None:
    before = pa.default_memory_pool()
    try:
        if not use_jemalloc_pool():  # pragma: no cover - a pyarrow build without jemalloc
            pytest.skip("this pyarrow has no jemalloc")
        assert pa.default_memory_pool().backend_name == "jemalloc"
        assert pa.array([1.5, 2.5]).to_pylist() == [1.5, 2.5]  # and it allocates
    finally:
        pa.set_memory_pool(before)
