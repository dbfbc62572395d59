"""Algoseek ex-date rows to corporate actions, and the bad-tick report (pure functions).

Every expected number is worked out by hand in the comment beside it, from the
vendor's rows quoted in /work/shared/reference-data/algoseek/README.md.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from qtrader.data import AnomalyAction, BarSeries
from qtrader.data._ticks import bad_ticks
from qtrader.data.algoseek._actions import (
    as_decimal,
    cash_dividend,
    per_adjusted_share,
    split_ratio,
)


def test_cash_dividend_is_one_minus_factor_times_previous_close_to_4_decimals() -> None:
    # AAPL 2020-08-07: (1 - 0.998200215) x 455.61 = 0.001799785 x 455.61 = 0.81999...
    # -> 0.8200, the $0.82 Apple paid.
    assert cash_dividend(0.998200215, 455.61) == Decimal("0.8200")
    # 1 - 0.99 = 0.01; x 102 = 1.02 exactly.
    assert cash_dividend(0.99, 102.0) == Decimal("1.0200")
    # Half a hundredth of a cent rounds up: (1 - 0.99999) x 5 = 0.00005 -> 0.0001.
    assert cash_dividend(0.99999, 5.0) == Decimal("0.0001")


@pytest.mark.parametrize(
    ("factor", "ratio"),
    [
        (0.25, Fraction(4)),  # AAPL Subdiv 2020-08-31: 4-for-1
        (0.14285714285714285, Fraction(7)),  # AAPL BonusSame 2014-06-09: 7-for-1
        (0.142857142857, Fraction(7)),  # the same, written with fewer digits
        (0.05, Fraction(20)),  # AMZN BonusSame 2022-06-06: 20-for-1
        (10.0, Fraction(1, 10)),  # Cons: a 1-for-10 reverse split
        (1500.0, Fraction(1, 1500)),  # 1-for-1500: beyond a denominator of 1000
        (1.3333333, Fraction(3, 4)),  # 3-for-4 (factor 4/3, written to 7 decimals)
        (0.0005, Fraction(2000)),  # 2000-for-1
        (2 / 3, Fraction(3, 2)),  # a 3-for-2 split
    ],
)
def test_split_ratio_is_the_rationalised_inverse_of_the_factor(
    factor: float, ratio: Fraction
) -> None:
    assert split_ratio(factor) == ratio


def test_ratios_become_exact_decimals_where_they_terminate() -> None:
    assert as_decimal(Fraction(1, 10)) == Decimal("0.1")
    assert as_decimal(Fraction(3, 2)) == Decimal("1.5")
    assert as_decimal(Fraction(20)) == Decimal(20)


def test_dividend_per_adjusted_share_is_exact_or_10_decimals() -> None:
    # 0.82 before a 4-for-1 split is 0.82 / 4 = 0.205 per adjusted share, exactly.
    assert str(per_adjusted_share(Decimal("0.8200"), Fraction(4))) == "0.205"
    # 0.82 / 7 = 0.117142857142857... -> 0.1171428571 (half-even at 10 decimals).
    assert per_adjusted_share(Decimal("0.82"), Fraction(7)) == Decimal("0.1171428571")
    # After a 1-for-10 reverse split one adjusted share is ten old ones: 1.5 x 10 = 15.
    assert str(per_adjusted_share(Decimal("1.5"), Fraction(1, 10))) == "15"


def _series(rows: list[tuple[float, float, float, float]]) -> BarSeries:
    n = len(rows)
    ohlcv = np.array([[*r, 100.0] for r in rows], dtype=np.float64)
    sessions = np.array([np.datetime64("2024-01-02") + i for i in range(n)], dtype="datetime64[D]")
    stamps = np.arange(n, dtype=np.int64) * 86_400 * 10**9
    return BarSeries(
        symbol="AAPL",
        path=Path("prices.csv"),
        timestamps=stamps,
        opened_at=stamps - 1,
        sessions=sessions,
        ohlcv=ohlcv,
        lines=np.arange(2, n + 2, dtype=np.int64),
    )


def test_bad_ticks_are_reported_with_file_and_line_and_prices_kept() -> None:
    series = _series(
        [
            (100.0, 101.0, 99.0, 100.5),  # normal
            (108.3, 115.0, 31.0, 113.66),  # AAPL 2008-09-30: 31 / 108.3 = 29% of the body low
            (177.6, 180.69, 117.05, 180.53),  # MSFT 2020-05-14: 117.05 / 177.6 = 66% < 2/3
            (100.0, 151.0, 99.0, 100.0),  # high 151 / 100 = 151% > 150%
            (100.0, 150.0, 67.0, 100.0),  # exactly at neither limit: 67% and 150%
        ]
    )
    found = bad_ticks(series)
    assert [(a.date, a.line, a.action) for a in found] == [
        ("2024-01-03", 3, AnomalyAction.REPORTED),
        ("2024-01-04", 4, AnomalyAction.REPORTED),
        ("2024-01-05", 5, AnomalyAction.REPORTED),
    ]
    assert "low 31 is 29% of min(open, close)" in found[0].problem
    assert "high 151 is 151% of max(open, close)" in found[2].problem
    assert str(found[0]).startswith("prices.csv, line 3: AAPL 2024-01-03: likely bad tick")
    assert series.ohlcv[1, 2] == 31.0


def test_a_bar_spiking_both_ways_names_both() -> None:
    (found,) = bad_ticks(_series([(100.0, 200.0, 10.0, 100.0)]))
    assert "low 10 is 10% of min(open, close) and high 200 is 200% of max(open, close)" in (
        found.problem
    )
    assert found.date == str(date(2024, 1, 2))
