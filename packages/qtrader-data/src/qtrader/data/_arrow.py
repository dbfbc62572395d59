"""numpy views of pyarrow arrays and back, without importing pandas.

pyarrow's own conversions (``pa.array(ndarray)``, ``Array.to_numpy``) first ask whether
pandas is installed and import it (about 0.2 s), even for a plain float column. The plain
CSV path needs none of pandas, so it moves fixed-width columns through their buffers.
Only arrays without nulls are converted (the callers check ``null_count`` first).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from qtrader.data.series import DayArray, IntArray
from qtrader.models import FloatArray


def _values(array: pa.Array | pa.ChunkedArray, dtype: type[np.generic]) -> np.ndarray:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.null_count:
        raise ValueError("only arrays without nulls are converted")  # pragma: no cover
    item = np.dtype(dtype).itemsize
    buffer = array.buffers()[1]
    return np.frombuffer(buffer, dtype=dtype, count=len(array), offset=array.offset * item)


def float64_values(array: pa.Array | pa.ChunkedArray) -> FloatArray:
    """A float64 column as a read-only numpy view."""
    values: FloatArray = _values(array, np.float64)
    return values


def int64_values(array: pa.Array | pa.ChunkedArray) -> IntArray:
    """A 64-bit integer or timestamp column as a read-only numpy view of its integers."""
    values: IntArray = _values(array, np.int64)
    return values


def day_values(array: pa.Array | pa.ChunkedArray) -> DayArray:
    """A date32 column as numpy days."""
    days: DayArray = _values(array, np.int32).astype("datetime64[D]")
    return days


def nanosecond_timestamps(values: IntArray) -> pa.Array:
    """numpy int64 nanoseconds as a pyarrow ``timestamp('ns')`` array (no copy)."""
    contiguous = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(
        pa.timestamp("ns"), len(contiguous), [None, pa.py_buffer(contiguous)]
    )


def use_jemalloc_pool() -> bool:
    """Make jemalloc pyarrow's memory pool, where this pyarrow build has it (Linux and
    macOS wheels do); ``False`` leaves the default. pyarrow's default, mimalloc, keeps the
    pages of every file read and freed for reuse: 100 files of 10,000 daily bars left the
    process about 30 MiB larger, and peak memory grew with the bars read. jemalloc hands
    them back. Process-wide, so the app decides (``qtrader`` does, before loading data);
    arrays already allocated stay with the pool that made them."""
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # pragma: no cover - a build without jemalloc
        return False
    pa.set_memory_pool(pool)
    return True
