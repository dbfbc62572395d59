"""Vectorised checks of bar values and of timestamp order.

Each check is a boolean mask over all rows; Python only runs over the rows
that fail, to word their message. A row gets one problem: the first check it
fails, in the order below, so a row with a bad date is not also called
unsorted.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from qtrader.data.series import CLOSE, HIGH, LOW, OPEN, VOLUME, IntArray
from qtrader.models import FloatArray

BoolArray = npt.NDArray[np.bool_]
_NAMES = ("open", "high", "low", "close", "volume")


def _note(problems: dict[int, str], mask: BoolArray, word: Callable[[int], str]) -> None:
    for row in np.flatnonzero(mask):
        problems.setdefault(int(row), word(int(row)))


def value_problems(values: FloatArray, tolerance: float, problems: dict[int, str]) -> None:
    """Add the first value problem of each row to ``problems`` (rows already there keep theirs)."""
    o, h, lo, c, v = (values[:, i] for i in (OPEN, HIGH, LOW, CLOSE, VOLUME))
    missing = np.isnan(values)

    def missing_word(row: int) -> str:
        names = [_NAMES[j] for j in np.flatnonzero(missing[row])]
        return f"missing value for {', '.join(names)}"

    def first_bad(mask: npt.NDArray[np.bool_], row: int) -> int:
        return int(np.flatnonzero(mask[row])[0])

    _note(problems, np.asarray(missing.any(axis=1)), missing_word)
    infinite = np.isinf(values)
    _note(
        problems,
        np.asarray(infinite.any(axis=1)),
        lambda r: f"{_NAMES[first_bad(infinite, r)]} is not a finite number",
    )
    non_positive = values[:, :VOLUME] <= 0
    _note(
        problems,
        np.asarray(non_positive.any(axis=1)),
        lambda r: (
            f"{_NAMES[first_bad(non_positive, r)]} {_num(values[r, first_bad(non_positive, r)])} "
            "is not a positive price"
        ),
    )
    _note(problems, h < lo, lambda r: f"high {_num(h[r])} is below low {_num(lo[r])}")
    upper = h * (1.0 + tolerance)
    lower = lo * (1.0 - tolerance)
    beyond = f" beyond the tolerance of {tolerance:.4g}" if tolerance else ""

    def outside(name: str, x: FloatArray) -> Callable[[int], str]:
        return lambda r: (
            f"{name} {_num(x[r])} is outside [low {_num(lo[r])}, high {_num(h[r])}]{beyond}"
        )

    for name, x in (("open", o), ("close", c)):
        _note(problems, (x > upper) | (x < lower), outside(name, x))
    _note(problems, v < 0, lambda r: f"volume {_num(v[r])} is negative")


def widen_within_tolerance(values: FloatArray, rows: IntArray) -> dict[int, str]:
    """Widen [low, high] of the given valid rows to contain their open and close.

    Only rows whose open/close lie outside the range (within tolerance) change;
    returns a description per changed row. ``values`` is modified in place.
    """
    sub = values[rows]
    o, h, lo, c = sub[:, OPEN], sub[:, HIGH], sub[:, LOW], sub[:, CLOSE]
    new_high = np.maximum(h, np.maximum(o, c))
    new_low = np.minimum(lo, np.minimum(o, c))
    changed = np.flatnonzero((new_high != h) | (new_low != lo))
    notes: dict[int, str] = {}
    for k in changed:
        parts = []
        for name, x in (("open", o[k]), ("close", c[k])):
            if x > h[k]:
                parts.append(f"{name} {_num(x)} is above high {_num(h[k])} by {_pct(x / h[k] - 1)}")
            elif x < lo[k]:
                parts.append(
                    f"{name} {_num(x)} is below low {_num(lo[k])} by {_pct(1 - x / lo[k])}"
                )
        moves = []
        if new_high[k] != h[k]:
            moves.append(f"high raised to {_num(new_high[k])}")
        if new_low[k] != lo[k]:
            moves.append(f"low lowered to {_num(new_low[k])}")
        notes[int(rows[k])] = f"{'; '.join(parts)} (within tolerance): {', '.join(moves)}"
    values[rows, HIGH] = new_high
    values[rows, LOW] = new_low
    return notes


def _num(value: float) -> str:
    """A price as the file would show it: ``repr`` of a Python float, not ``np.float64(...)``."""
    return repr(float(value))


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.4g}%"


def order_problems(
    timestamps: IntArray,
    rows: IntArray,
    lines: IntArray,
    date: Callable[[int], str],
    what: str,
    problems: dict[int, str],
) -> None:
    """Flag rows (among ``rows``, in file order) not strictly after every earlier row.

    The kept rows are exactly the running maxima, so dropping the flagged ones
    (``repair``) leaves a strictly increasing series, and each message names
    the earlier line that the row collides with or precedes.
    """
    if len(rows) < 2:
        return
    t = timestamps[rows]
    running = np.maximum.accumulate(t)
    before = np.concatenate(([np.iinfo(np.int64).min], running[:-1]))
    bad = t <= before
    holder = np.maximum.accumulate(np.where(~bad, np.arange(len(t)), 0))
    for k in np.flatnonzero(bad):
        ref = int(rows[holder[k]])
        row = int(rows[k])
        if t[k] == t[holder[k]]:
            problems[row] = f"duplicate {what} (already on line {lines[ref]})"
        else:
            problems[row] = f"{what} out of order: not after {date(ref)} on line {lines[ref]}"
