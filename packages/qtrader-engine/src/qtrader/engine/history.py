"""Columnar bar history per symbol, appended once per timestamp.

Storage is one ``(fields, capacity, symbols)`` float64 block: a slice of every
symbol is one contiguous row, so appending it is a plain write. ``history()``
returns a read-only *view* of the last n values of one symbol (strided, no copy
of the whole history at each bar). Symbols that skip a timestamp simply do not
advance.

History is split-adjusted *as of now*: when a split takes effect the engine calls
``apply_split`` before appending that day's bars, so prices before the ex-date
are divided by the ratio (volumes multiplied) and indicators see no crash. A
split that has not happened yet never touches the history (no look-ahead).

``last_all`` gathers the last n values of every symbol at once (one numpy gather, no
Python loop over symbols): a right-aligned, NaN-padded ``(symbols, n)`` copy plus the
number of values each symbol has. ``present`` is the mask of the symbols of a slice.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from qtrader.models import PRICE_FIELDS, BarSlice, FloatArray
from qtrader.models.ports import BoolArray, IntArray

_FIELD_INDEX = {name: i for i, name in enumerate(PRICE_FIELDS)}


def _common_length(lengths: IntArray) -> int | None:
    """The length every symbol has, or None when they differ (a universe of at least one
    symbol: an empty one only ever gets empty slices, which cover it)."""
    shortest = int(lengths.min())
    return shortest if shortest == int(lengths.max()) else None


class BarHistory:
    """``keep``: at most this many bars per symbol are kept (``None``: all of them); older
    ones are dropped in batches, and asking for more than ``keep`` is an error."""

    def __init__(
        self, symbols: tuple[str, ...], capacity: int = 256, keep: int | None = None
    ) -> None:
        if keep is not None and keep < 1:
            raise ValueError(f"keep must be at least 1 bar, got {keep}")
        self._keep = keep
        if keep is not None:
            # Room for ``keep`` bars and as many again: dropping the oldest then moves
            # ``keep`` rows once every ``keep`` bars (amortised, like doubling).
            capacity = max(2 * keep, 64)
        self._universe = tuple(symbols)
        self._symbols = {s: i for i, s in enumerate(symbols)}
        # Uninitialised: only cells below a symbol's length are ever read (see _reserve).
        self._data = np.empty((len(PRICE_FIELDS), max(capacity, 1), len(symbols)))
        self._lengths = np.zeros(len(symbols), dtype=np.int64)
        # The common length when every symbol has as many bars (the usual case: one
        # range of rows serves all symbols), else None.
        self._uniform: int | None = 0
        self._every_row = np.arange(len(symbols), dtype=np.int64)[:, None]
        # Consecutive slices almost always carry the same symbols: remember only the last
        # mapping, so memory does not grow with the number of bars.
        self._last_symbols: tuple[str, ...] | None = None
        self._last_rows = np.empty(0, dtype=np.int64)
        self._last_full = False  # whether the last rows cover the whole universe

    def _rows(self, symbols: tuple[str, ...]) -> npt.NDArray[np.int64]:
        if symbols != self._last_symbols:
            unknown = [s for s in symbols if s not in self._symbols]
            if unknown:
                raise KeyError(f"bars for symbols outside the universe: {unknown}")
            self._last_rows = np.array([self._symbols[s] for s in symbols], dtype=np.int64)
            self._last_symbols = symbols
            self._last_full = len(set(symbols)) == len(self._symbols)
        return self._last_rows

    def append(self, bars: BarSlice) -> None:
        if self._uniform is not None and bars.symbols == self._universe:
            # The usual slice: every symbol, in universe order, all at the same length.
            # One contiguous row of the block per field takes it (no scatter).
            self._reserve(self._uniform + 1)  # may drop the oldest bars: read the end after
            end = self._uniform
            data = self._data
            for name, f in _FIELD_INDEX.items():
                data[f, end] = getattr(bars, name)
            self._lengths += 1
            self._uniform = end + 1
            return
        rows = self._rows(bars.symbols)
        if len(rows):
            self._reserve(int(self._lengths[rows].max()) + 1)  # may drop the oldest bars
        positions = self._lengths[rows]  # where each symbol's next value goes
        for name, f in _FIELD_INDEX.items():
            self._data[f, positions, rows] = getattr(bars, name)
        self._lengths[rows] = positions + 1
        if self._uniform is not None and self._last_full:
            self._uniform += 1
        else:
            self._uniform = _common_length(self._lengths)

    def _reserve(self, length: int) -> None:
        """Room for ``length`` values per symbol, doubling the block when it is short.

        The new rows are left uninitialised: a cell at or past its symbol's length is
        never read (``last``/``last_all`` read below the lengths, NaN-padding in the copy),
        and the pages stay unmapped until bars are written there.
        """
        fields, capacity, symbols = self._data.shape
        if length <= capacity:
            return
        if self._keep is not None:
            self._drop_oldest()
            return
        grown = np.empty((fields, max(length, capacity * 2), symbols))
        grown[:, :capacity] = self._data
        self._data = grown

    def _drop_oldest(self) -> None:
        """Keep the last ``keep`` bars of every symbol at the start of the block."""
        keep = self._keep
        assert keep is not None
        data, lengths = self._data, self._lengths
        if self._uniform is not None:
            end = self._uniform
            data[:, :keep] = data[:, end - keep : end]
            lengths[:] = keep
            self._uniform = keep
            return
        for row in np.flatnonzero(lengths > keep).tolist():
            end = int(lengths[row])
            data[:, :keep, row] = data[:, end - keep : end, row]
            lengths[row] = keep
        self._uniform = _common_length(lengths)

    @property
    def symbols(self) -> tuple[str, ...]:
        """The universe, in row order."""
        return self._universe

    def present(self, symbols: tuple[str, ...]) -> BoolArray:
        """Mask over the universe (row order): which of it are in ``symbols``."""
        if symbols == self._universe:
            return np.ones(len(self._lengths), dtype=np.bool_)
        mask = np.zeros(len(self._lengths), dtype=np.bool_)
        mask[self._rows(symbols)] = True
        return mask

    def apply_split(self, symbol: str, ratio: float) -> None:
        """Rescale everything recorded for ``symbol`` so far by a split of ``ratio``
        (new shares per old): prices / ratio, volume x ratio."""
        if not ratio > 0:
            raise ValueError(f"split ratio of {symbol} must be > 0, got {ratio}")
        row = self._row(symbol)
        end = int(self._lengths[row])
        volume = _FIELD_INDEX["volume"]
        self._data[:volume, :end, row] /= ratio
        self._data[volume, :end, row] *= ratio

    def length(self, symbol: str) -> int:
        return int(self._lengths[self._row(symbol)])

    def _row(self, symbol: str) -> int:
        row = self._symbols.get(symbol)
        if row is None:
            raise KeyError(f"unknown symbol {symbol!r}; the universe is {sorted(self._symbols)}")
        return row

    def _check(self, field: str, n: int) -> int:
        f = _FIELD_INDEX.get(field)
        if f is None:
            raise KeyError(f"unknown field {field!r}; expected one of {list(PRICE_FIELDS)}")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if self._keep is not None and n > self._keep:
            raise ValueError(
                f"asked for {n} bars of history; the strategies of this run declared at most "
                f"{self._keep} (history_bars): declare the most any of them asks for"
            )
        return f

    def last_all(self, field: str, n: int) -> tuple[FloatArray, IntArray]:
        """The last ``n`` values of ``field`` of every symbol (row order), right-aligned:
        a C-contiguous ``(symbols, n)`` copy, NaN where a symbol has fewer than ``n``
        bars, and how many values each symbol has (``min(length, n)``)."""
        f = self._check(field, n)
        end = self._uniform
        if end is not None and end >= n:
            # Every symbol has the same number of bars: one basic slice, copied into
            # symbol rows (``copy`` lays the transposed block out C-contiguously).
            values = self._data[f, end - n : end].T.copy()
            return values, np.full(len(self._lengths), n, dtype=np.int64)
        cols = self._lengths[:, None] + np.arange(-n, 0, dtype=np.int64)
        missing = cols < 0
        values = self._data[f, np.maximum(cols, 0), self._every_row]
        values[missing] = np.nan
        return values, np.minimum(self._lengths, n)

    def last(self, symbol: str, field: str, n: int) -> FloatArray:
        f = self._check(field, n)
        row = self._row(symbol)
        end = int(self._lengths[row])
        view = self._data[f, max(0, end - n) : end, row]
        view.flags.writeable = False
        return view
