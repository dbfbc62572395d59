"""One symbol's validated bars as columnar arrays: what every adapter produces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

from qtrader.models import FloatArray

IntArray = npt.NDArray[np.int64]
LineArray = npt.NDArray[np.int64] | npt.NDArray[np.int32]
DayArray = npt.NDArray[np.datetime64]
_INT32_MAX = np.iinfo(np.int32).max

# Column order of ``BarSeries.ohlcv``.
OPEN, HIGH, LOW, CLOSE, VOLUME = range(5)


@dataclass(frozen=True, slots=True, eq=False)
class BarSeries:
    """Validated bars of one symbol, sorted by strictly increasing timestamp.

    Times are int64 nanoseconds since the epoch (UTC), so they compare and
    merge as plain integers; ``sessions`` are the local session dates
    (``datetime64[D]``) used to select ``[start, end]``. ``ohlcv`` is a
    read-only ``(n, 5)`` float64 array, one row per bar, so that a merge can
    pick a bar with one index.
    """

    symbol: str
    path: Path | None
    timestamps: IntArray
    opened_at: IntArray
    sessions: DayArray
    ohlcv: FloatArray
    intraday: bool = False
    lines: LineArray | None = None
    """Where each bar came from in ``path`` (line, or row for Parquet), for messages; kept
    as int32 when they fit (a series lives as long as its stream: 4 bytes a bar less)."""

    def __post_init__(self) -> None:
        n = len(self.timestamps)
        if (
            self.ohlcv.shape != (n, 5)
            or self.opened_at.shape != (n,)
            or self.sessions.shape != (n,)
        ):
            raise ValueError(f"BarSeries {self.symbol!r}: columns of unequal length")
        if self.lines is not None:
            if self.lines.shape != (n,):
                raise ValueError(f"BarSeries {self.symbol!r}: lines of unequal length")
            if self.lines.dtype != np.int32 and (n == 0 or int(self.lines.max()) <= _INT32_MAX):
                object.__setattr__(self, "lines", self.lines.astype(np.int32))
        if n > 1 and not bool(np.all(np.diff(self.timestamps) > 0)):
            raise ValueError(f"BarSeries {self.symbol!r}: timestamps not strictly increasing")
        for array in (self.timestamps, self.opened_at, self.sessions, self.ohlcv, self.lines):
            if array is not None:
                array.flags.writeable = False  # cached and shared by every stream

    def __len__(self) -> int:
        return len(self.timestamps)

    def column(self, index: int) -> FloatArray:
        """One price column (``OPEN`` ... ``VOLUME``) as a read-only view."""
        return self.ohlcv[:, index]

    def line(self, index: int) -> int | None:
        """The line (or Parquet row) of bar ``index`` in ``path``, when known."""
        return None if self.lines is None else int(self.lines[index])

    @property
    def close(self) -> FloatArray:
        return self.ohlcv[:, CLOSE]

    @property
    def first_session(self) -> date | None:
        return _as_date(self.sessions[0]) if len(self) else None

    @property
    def last_session(self) -> date | None:
        return _as_date(self.sessions[-1]) if len(self) else None


def _as_date(day: np.datetime64) -> date:
    value = day.astype("datetime64[D]").item()
    assert isinstance(value, date)
    return value
