"""Columnar bar history per symbol, appended once per timestamp.

Storage is one ``(fields, symbols, capacity)`` float64 block; a symbol's series
is contiguous, so ``history()`` returns a read-only *view* of the last n
values: no copy of the whole history at each bar. Symbols that skip a
timestamp simply do not advance.

History is split-adjusted *as of now*: when a split takes effect the engine calls
``apply_split`` before appending that day's bars, so prices before the ex-date
are divided by the ratio (volumes multiplied) and indicators see no crash. A
split that has not happened yet never touches the history (no look-ahead).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from qtrader.models import PRICE_FIELDS, BarSlice, FloatArray

_FIELD_INDEX = {name: i for i, name in enumerate(PRICE_FIELDS)}


class BarHistory:
    def __init__(self, symbols: tuple[str, ...], capacity: int = 256) -> None:
        self._symbols = {s: i for i, s in enumerate(symbols)}
        self._data = np.full((len(PRICE_FIELDS), len(symbols), max(capacity, 1)), np.nan)
        self._lengths = np.zeros(len(symbols), dtype=np.int64)
        # Consecutive slices almost always carry the same symbols: remember only the last
        # mapping, so memory does not grow with the number of bars.
        self._last_symbols: tuple[str, ...] | None = None
        self._last_rows = np.empty(0, dtype=np.int64)

    def _rows(self, symbols: tuple[str, ...]) -> npt.NDArray[np.int64]:
        if symbols != self._last_symbols:
            unknown = [s for s in symbols if s not in self._symbols]
            if unknown:
                raise KeyError(f"bars for symbols outside the universe: {unknown}")
            self._last_rows = np.array([self._symbols[s] for s in symbols], dtype=np.int64)
            self._last_symbols = symbols
        return self._last_rows

    def append(self, bars: BarSlice) -> None:
        rows = self._rows(bars.symbols)
        cols = self._lengths[rows]
        if len(cols) and int(cols.max()) >= self._data.shape[2]:
            grown = np.full(
                (self._data.shape[0], self._data.shape[1], self._data.shape[2] * 2), np.nan
            )
            grown[:, :, : self._data.shape[2]] = self._data
            self._data = grown
        for name, f in _FIELD_INDEX.items():
            self._data[f, rows, cols] = getattr(bars, name)
        self._lengths[rows] = cols + 1

    def apply_split(self, symbol: str, ratio: float) -> None:
        """Rescale everything recorded for ``symbol`` so far by a split of ``ratio``
        (new shares per old): prices / ratio, volume x ratio."""
        if not ratio > 0:
            raise ValueError(f"split ratio of {symbol} must be > 0, got {ratio}")
        row = self._row(symbol)
        end = int(self._lengths[row])
        volume = _FIELD_INDEX["volume"]
        self._data[:volume, row, :end] /= ratio
        self._data[volume, row, :end] *= ratio

    def length(self, symbol: str) -> int:
        return int(self._lengths[self._row(symbol)])

    def _row(self, symbol: str) -> int:
        row = self._symbols.get(symbol)
        if row is None:
            raise KeyError(f"unknown symbol {symbol!r}; the universe is {sorted(self._symbols)}")
        return row

    def last(self, symbol: str, field: str, n: int) -> FloatArray:
        f = _FIELD_INDEX.get(field)
        if f is None:
            raise KeyError(f"unknown field {field!r}; expected one of {list(PRICE_FIELDS)}")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        row = self._row(symbol)
        end = int(self._lengths[row])
        view = self._data[f, row, max(0, end - n) : end]
        view.flags.writeable = False
        return view
