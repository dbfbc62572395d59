"""A history that keeps only ``keep`` bars per symbol answers like a full one within them.

Symbols: AAA has a bar every day; BBB every third day (it does not advance in between).
After each day the kept history's last_all(field, n) and last(symbol, field, n) must equal
the full history's for every n <= keep, whatever was dropped; a split rescales what is
kept exactly as it rescales the full history.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qtrader.engine import BarHistory
from qtrader.models import PRICE_FIELDS, BarSlice

T0 = datetime(2024, 1, 2, 21, 0, tzinfo=UTC)


def bars(day: int, symbols: tuple[str, ...]) -> BarSlice:
    values = np.array([100.0 * (i + 1) + day for i in range(len(symbols))])
    return BarSlice(
        timestamp=T0 + timedelta(days=day),
        opened_at=T0 + timedelta(days=day),
        symbols=symbols,
        open=values,
        high=values + 1,
        low=values - 1,
        close=values + 0.5,
        volume=values * 10,
    )


def same_answers(kept: BarHistory, full: BarHistory, keep: int) -> None:
    for field in PRICE_FIELDS:
        for n in range(keep + 1):
            got, got_counts = kept.last_all(field, n)
            want, want_counts = full.last_all(field, n)
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(got_counts, want_counts)
            for symbol in ("AAA", "BBB"):
                np.testing.assert_array_equal(
                    kept.last(symbol, field, n), full.last(symbol, field, n)
                )


@settings(max_examples=40, deadline=None)
@given(
    keep=st.integers(1, 9),
    days=st.lists(st.sampled_from(["both", "AAA", "BBB"]), min_size=1, max_size=60),
    split_at=st.integers(0, 60),
)
def test_kept_bars_answer_like_the_full_history(keep: int, days: list[str], split_at: int) -> None:
    kept = BarHistory(("AAA", "BBB"), keep=keep)
    full = BarHistory(("AAA", "BBB"))
    for day, who in enumerate(days):
        if day == split_at:
            kept.apply_split("AAA", 4.0)
            full.apply_split("AAA", 4.0)
        symbols = ("AAA", "BBB") if who == "both" else (who,)
        kept.append(bars(day, symbols))
        full.append(bars(day, symbols))
        same_answers(kept, full, keep)


def test_memory_stays_bounded_and_more_than_kept_is_refused() -> None:
    kept = BarHistory(("AAA", "BBB"), keep=31)
    for day in range(5_000):
        kept.append(bars(day, ("AAA", "BBB")))
    assert kept._data.shape[1] == 64  # max(2 x 31, 64) rows, however long the run
    # The last close of AAA: 100 + 4,999 + 0.5
    assert kept.last("AAA", "close", 1).tolist() == [5099.5]
    with pytest.raises(ValueError, match=r"asked for 32 bars of history; .* at most 31"):
        kept.last_all("close", 32)
    with pytest.raises(ValueError, match="keep must be at least 1"):
        BarHistory(("AAA",), keep=0)
