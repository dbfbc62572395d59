"""One symbol's validated bars as columnar arrays: what every adapter produces."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

from qtrader.models import FloatArray

IntArray = npt.NDArray[np.int64]
LineArray = npt.NDArray[np.int64] | npt.NDArray[np.int32]
DayArray = npt.NDArray[np.datetime64]
_INT32_MAX = np.iinfo(np.int32).max
_INT32_MIN = np.iinfo(np.int32).min

# Column order of ``BarSeries.ohlcv``.
OPEN, HIGH, LOW, CLOSE, VOLUME = range(5)


class BarSeries:
    """Validated bars of one symbol, sorted by strictly increasing timestamp.

    Times are int64 nanoseconds since the epoch (UTC), so they compare and
    merge as plain integers; ``sessions`` are the local session dates
    (``datetime64[D]``) used to select ``[start, end]``. ``ohlcv`` is a
    read-only ``(n, 5)`` float64 array, one row per bar, so that a merge can
    pick a bar with one index.

    A loaded series lives as long as its data service, so it is kept small: the
    sessions as 4-byte day numbers, the opening times as one gap when every bar
    opened the same time before its close (daily bars, fixed intraday bars), and the
    line numbers in 4 bytes when they fit: 52 bytes a bar rather than 72.
    ``sessions`` and ``opened_at`` are made when asked (``opened_between`` for a part).
    """

    __slots__ = (
        "_days",
        "_gap",
        "_opened",
        "intraday",
        "lines",
        "ohlcv",
        "path",
        "symbol",
        "timestamps",
    )

    symbol: str
    path: Path | None
    timestamps: IntArray
    ohlcv: FloatArray
    intraday: bool
    lines: LineArray | None
    """Where each bar came from in ``path`` (line, or row for Parquet), for messages."""
    _days: npt.NDArray[np.int32]  # session dates, days since 1970-01-01
    _gap: int  # close - open of every bar, when ``_opened`` is None
    _opened: IntArray | None

    def __init__(
        self,
        symbol: str,
        path: Path | None,
        timestamps: IntArray,
        opened_at: IntArray,
        sessions: DayArray,
        ohlcv: FloatArray,
        intraday: bool = False,
        lines: LineArray | None = None,
    ) -> None:
        n = len(timestamps)
        if ohlcv.shape != (n, 5) or opened_at.shape != (n,) or sessions.shape != (n,):
            raise ValueError(f"BarSeries {symbol!r}: columns of unequal length")
        if lines is not None and lines.shape != (n,):
            raise ValueError(f"BarSeries {symbol!r}: lines of unequal length")
        if n > 1 and not bool(np.all(np.diff(timestamps) > 0)):
            raise ValueError(f"BarSeries {symbol!r}: timestamps not strictly increasing")
        if (
            lines is not None
            and lines.dtype != np.int32
            and (n == 0 or int(lines.max()) <= _INT32_MAX)
        ):
            lines = lines.astype(np.int32)
        gaps = timestamps - opened_at
        gap = int(gaps[0]) if n and bool(np.all(gaps == gaps[0])) else None
        days = sessions.astype("datetime64[D]").astype(np.int64)
        if n and (int(days.min()) < _INT32_MIN or int(days.max()) > _INT32_MAX):  # pragma: no cover
            raise ValueError(f"BarSeries {symbol!r}: session dates out of range")
        set_ = object.__setattr__
        set_(self, "symbol", symbol)
        set_(self, "path", path)
        set_(self, "timestamps", timestamps)
        set_(self, "ohlcv", ohlcv)
        set_(self, "intraday", intraday)
        set_(self, "lines", lines)
        set_(self, "_gap", gap if n else 0)
        set_(self, "_opened", None if gap is not None or not n else opened_at)
        set_(self, "_days", days.astype(np.int32))
        for array in (timestamps, ohlcv, lines, self._opened, self._days):
            if array is not None:
                array.flags.writeable = False  # cached and shared by every stream

    def without_lines(self) -> BarSeries:
        """The same bars (sharing every array) without their line numbers, which only
        messages about the file need: a data service keeps a series that way once its
        anomalies are found, 4 bytes a bar less for as long as it is kept."""
        if self.lines is None:
            return self
        copy = object.__new__(BarSeries)
        for name in BarSeries.__slots__:
            object.__setattr__(copy, name, None if name == "lines" else getattr(self, name))
        return copy

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"BarSeries is read-only: cannot set {name!r}")

    def __len__(self) -> int:
        return len(self.timestamps)

    @property
    def sessions(self) -> DayArray:
        """The local session date of each bar (a new ``datetime64[D]`` array)."""
        return self._days.astype("datetime64[D]")

    @property
    def opened_at(self) -> IntArray:
        """When each bar opened (int64 ns, UTC)."""
        return self.opened_between(0, len(self))

    def opened_between(self, first: int, last: int) -> IntArray:
        """``opened_at[first:last]`` without making the whole column."""
        if self._opened is not None:
            return self._opened[first:last]
        opened: IntArray = self.timestamps[first:last] - self._gap
        return opened

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
        return _as_date(self._days[0]) if len(self) else None

    @property
    def last_session(self) -> date | None:
        return _as_date(self._days[-1]) if len(self) else None


def _as_date(day: np.generic) -> date:
    value = np.datetime64(int(day), "D").item()
    assert isinstance(value, date)
    return value
