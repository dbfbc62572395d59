"""HistoryMatrix and FakeStrategyContext.history_matrix / has_bars, worked by hand.

Three days (open, close); "-" = no bar:

    day   2024-01-02  01-03     01-04
    AAA   (1, 10)     (2, 11)   (3, 12)
    BBB   -           (4, 20)   -
    CCC   -           -         -

At day 3, the last 2 closes: AAA [11, 12] (count 2), BBB [NaN, 20] (count 1: it did not
advance on the days it skipped), CCC [NaN, NaN] (count 0). Only AAA has a bar at day 3.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from qtrader.models import HistoryMatrix, StrategyContext
from qtrader.models.testing import FakeStrategyContext, daily_slices

DAYS = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
SLICES = daily_slices(
    DAYS,
    {"AAA": [(1.0, 10.0), (2.0, 11.0), (3.0, 12.0)], "BBB": [None, (4.0, 20.0), None]},
)


def pushed(days: int = 3) -> FakeStrategyContext:
    ctx = FakeStrategyContext(("AAA", "BBB", "CCC"))
    for bars in SLICES[:days]:
        ctx.push(bars)
    return ctx


def rows(matrix: HistoryMatrix) -> list[list[float | None]]:
    return [[None if math.isnan(v) else v for v in row] for row in matrix.values.tolist()]


def test_the_fake_still_satisfies_the_port() -> None:
    assert isinstance(pushed(), StrategyContext)


def test_the_fake_matrix_is_right_aligned_with_counts() -> None:
    ctx = pushed()
    matrix = ctx.history_matrix("close", 2)
    assert matrix.symbols == ("AAA", "BBB", "CCC")
    assert matrix.field == "close"
    assert matrix.n == 2
    assert rows(matrix) == [[11.0, 12.0], [None, 20.0], [None, None]]
    assert matrix.counts.tolist() == [2, 1, 0]
    assert matrix.complete.tolist() == [True, False, False]
    assert matrix.valid.tolist() == [[True, True], [False, True], [False, False]]
    opens = ctx.history_matrix("open", 3)
    assert rows(opens) == [[1.0, 2.0, 3.0], [None, None, 4.0], [None, None, None]]
    assert ctx.history_matrix("close", 0).values.shape == (3, 0)


def test_each_row_is_what_history_returns() -> None:
    for days in range(4):
        ctx = pushed(days)
        for n in range(5):
            matrix = ctx.history_matrix("close", n)
            for symbol in ctx.symbols:
                assert np.array_equal(matrix.row(symbol), ctx.history(symbol, "close", n))


def test_has_bars_is_the_mask_of_the_current_slice() -> None:
    assert pushed(0).has_bars().tolist() == [False, False, False]
    assert pushed(2).has_bars().tolist() == [True, True, False]
    mask = pushed(3).has_bars()
    assert mask.tolist() == [True, False, False]
    with pytest.raises(ValueError, match="read-only"):
        mask[0] = False


def test_matrices_are_read_only_and_checked() -> None:
    matrix = pushed().history_matrix("close", 2)
    with pytest.raises(ValueError, match="read-only"):
        matrix.values[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        matrix.counts[0] = 1
    with pytest.raises(KeyError, match="unknown symbol 'ZZZ'"):
        matrix.row("ZZZ")
    ctx = pushed()
    with pytest.raises(KeyError, match="unknown field 'vwap'"):
        ctx.history_matrix("vwap", 1)
    with pytest.raises(ValueError, match="n must be >= 0"):
        ctx.history_matrix("close", -1)


def test_a_history_matrix_refuses_inconsistent_shapes() -> None:
    counts = np.zeros(2, dtype=np.int64)
    with pytest.raises(ValueError, match=r"values have shape \(3, 1\), expected \(2, n\)"):
        HistoryMatrix(("A", "B"), "close", np.zeros((3, 1)), counts)
    with pytest.raises(ValueError, match=r"values have shape \(2,\), expected \(2, n\)"):
        HistoryMatrix(("A", "B"), "close", np.zeros(2), counts)
    with pytest.raises(ValueError, match=r"counts have shape \(3,\), expected \(2,\)"):
        HistoryMatrix(("A", "B"), "close", np.zeros((2, 1)), np.zeros(3, dtype=np.int64))
