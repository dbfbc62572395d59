"""The built-in strategies on ctx.history_matrix / ctx.has_bars: same decisions as the
per-symbol loop they replace, bit for bit.

Hand-worked, SMA(2)/SMA(3), 13 weekdays from 2024-01-02. AAA has the closes of conftest.py
(crosses above on day 7, below on day 10, above on day 13). The others reuse those closes
in their own bar count (a symbol that skips a day does not advance):

- BBB: no bar on days 1, 2 and 6, then AAA's closes 1..10 on days 3, 4, 5, 7, ..., 13; its
  own bars 7 and 10 fall on days 10 and 13: above on day 10, below on day 13.
- CCC: always 10: equal averages are never a cross.
- DDD: AAA's closes without a bar on day 8 (the day after its cross above on day 7, when its
  history is unchanged: without the has_bars mask the cross would be seen again); its own
  bar 10 is day 11: below on day 11.

So: day 7 AAA buy, DDD buy; day 10 AAA sell, BBB buy (in symbols order); day 11 DDD sell;
day 13 AAA buy, BBB sell.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from qtrader.cli.strategies import BuyAndHold, BuyAndHoldParams, SmaCrossover, SmaCrossoverParams
from qtrader.cli.strategies.sma_crossover import averages
from qtrader.models import BarSlice, BaseStrategy, Side, StrategyContext
from qtrader.models.ports import BoolArray
from qtrader.models.testing import FakeStrategyContext, daily_slices

CLOSES = [10, 10, 10, 9, 8, 9, 11, 12, 11, 9, 8, 7, 10]


def weekdays(first: date, n: int) -> list[date]:
    days: list[date] = []
    day = first
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


DAYS = weekdays(date(2024, 1, 2), len(CLOSES))


class PerSymbolSmaCrossover(BaseStrategy):
    """The per-symbol loop sma_crossover was before history_matrix: the reference."""

    def __init__(self, params: SmaCrossoverParams) -> None:
        self.params = params

    def on_bar(self, ctx: StrategyContext) -> None:
        fast, slow = self.params.fast, self.params.slow
        for symbol in ctx.symbols:
            if not ctx.has_bar(symbol):
                continue
            closes = ctx.history(symbol, "close", slow + 1)
            if len(closes) < slow + 1:
                continue
            fast_now = closes[-fast:].sum() / fast
            fast_prev = closes[-fast - 1 : -1].sum() / fast
            slow_now = closes[-slow:].sum() / slow
            slow_prev = closes[:-1].sum() / slow
            if fast_prev < slow_prev and fast_now > slow_now:
                ctx.order_target_quantity(symbol, self.params.quantity)
            elif fast_prev > slow_prev and fast_now < slow_now:
                ctx.order_target_quantity(symbol, 0)


def decide(
    strategy: BaseStrategy,
    symbols: tuple[str, ...],
    slices: list[BarSlice],
    *,
    fill: bool = True,
) -> list[tuple[int, str, Side, Decimal]]:
    """Drive a strategy bar by bar; with ``fill`` every order "fills" at once so targets
    count it, else orders are forgotten (so every cross seen shows as an order)."""
    ctx = FakeStrategyContext(symbols)
    decisions = []
    for day, bars in enumerate(slices, start=1):
        ctx.push(bars)
        strategy.on_bar(ctx)
        for order in ctx.orders:
            decisions.append((day, order.symbol, order.side, order.quantity))
            if fill:
                ctx.positions[order.symbol] = ctx.position(order.symbol) + order.signed_quantity
        ctx.clear()
    return decisions


def hand_worked() -> list[BarSlice]:
    def bars(closes: list[float | None]) -> list[tuple[float, float] | None]:
        return [None if c is None else (c, c) for c in closes]

    aaa: list[float | None] = [float(c) for c in CLOSES]
    bbb: list[float | None] = [None, None, *aaa[:3], None, *aaa[3:10]]
    ddd: list[float | None] = [*aaa[:7], None, *aaa[7:12]]
    return daily_slices(
        DAYS,
        {"AAA": bars(aaa), "BBB": bars(bbb), "CCC": bars([10.0] * 13), "DDD": bars(ddd)},
    )


def test_sma_crossover_decides_every_symbol_at_once_as_worked_by_hand() -> None:
    params = SmaCrossoverParams(fast=2, slow=3, quantity=100)
    symbols = ("AAA", "BBB", "CCC", "DDD")
    expected = [
        (7, "AAA", Side.BUY, Decimal(100)),
        (7, "DDD", Side.BUY, Decimal(100)),
        (10, "AAA", Side.SELL, Decimal(100)),
        (10, "BBB", Side.BUY, Decimal(100)),
        (11, "DDD", Side.SELL, Decimal(100)),
        (13, "AAA", Side.BUY, Decimal(100)),
        (13, "BBB", Side.SELL, Decimal(100)),
    ]
    assert decide(SmaCrossover(params), symbols, hand_worked()) == expected
    assert decide(PerSymbolSmaCrossover(params), symbols, hand_worked()) == expected


def test_a_symbol_without_a_bar_at_t_is_not_decided_again() -> None:
    # Nothing fills and nothing is held, so every cross above seen is an order (and a cross
    # below asks for nothing). DDD has no bar on day 8: its history is that of day 7, which
    # crossed above, but it is not a cross at day 8.
    params = SmaCrossoverParams(fast=2, slow=3, quantity=100)
    symbols = ("AAA", "BBB", "CCC", "DDD")
    expected = [
        (7, "AAA", Side.BUY, Decimal(100)),
        (7, "DDD", Side.BUY, Decimal(100)),
        (10, "BBB", Side.BUY, Decimal(100)),
        (13, "AAA", Side.BUY, Decimal(100)),
    ]
    assert decide(SmaCrossover(params), symbols, hand_worked(), fill=False) == expected
    assert decide(PerSymbolSmaCrossover(params), symbols, hand_worked(), fill=False) == expected


def random_slices(seed: int, symbols: int, days: int) -> list[BarSlice]:
    """Random walks with 6 decimals; symbols list late, skip days and stop early."""
    rng = np.random.default_rng(seed)
    calendar = weekdays(date(2020, 1, 1), days)
    columns: dict[str, list[tuple[float, float] | None]] = {}
    for s in range(symbols):
        closes = np.round(50 * np.exp(np.cumsum(rng.normal(0, 0.02, days))), 6)
        present = rng.random(days) > 0.1
        present[: int(rng.integers(0, days // 4))] = False
        columns[f"S{s}"] = [
            (float(c), float(c)) if p else None for c, p in zip(closes, present, strict=True)
        ]
    columns["S0"] = [(50.0, 50.0)] * days  # keeps every day in the calendar
    return daily_slices(calendar, columns)


@pytest.mark.parametrize(("seed", "fast", "slow"), [(1, 10, 30), (2, 2, 3), (3, 1, 2), (4, 5, 7)])
def test_sma_crossover_decides_exactly_as_the_per_symbol_loop(
    seed: int, fast: int, slow: int
) -> None:
    slices = random_slices(seed, symbols=12, days=300)
    symbols = tuple(f"S{s}" for s in range(12))
    params = SmaCrossoverParams(fast=fast, slow=slow, quantity=7)
    ours = decide(SmaCrossover(params), symbols, slices)
    reference = decide(PerSymbolSmaCrossover(params), symbols, slices)
    assert len(reference) > 40
    assert ours == reference


def test_the_averages_are_bit_identical_to_the_per_symbol_ones() -> None:
    rng = np.random.default_rng(5)
    block = np.round(50 * np.exp(np.cumsum(rng.normal(0, 0.015, (60, 400)), axis=1)), 6)
    for fast, slow in ((10, 30), (2, 3), (1, 2), (8, 9), (9, 17), (50, 200)):
        for end in range(slow + 1, 400, 13):
            window = np.ascontiguousarray(block[:, end - slow - 1 : end])
            ours = averages(window, fast, slow)
            reference = np.array(
                [
                    [
                        closes[-fast - 1 : -1].sum() / fast,
                        closes[-fast:].sum() / fast,
                        closes[:-1].sum() / slow,
                        closes[-slow:].sum() / slow,
                    ]
                    for closes in window
                ]
            )
            assert all(np.array_equal(ours[k], reference[:, k]) for k in range(4))


def test_row_wise_sums_are_bit_identical_to_one_dimensional_sums() -> None:
    # What sma_crossover relies on: numpy reduces each row of a C-contiguous block with the
    # same pairwise summation as a 1-D array, so the averages (not just the decisions) match.
    rng = np.random.default_rng(11)
    block = np.round(50 * np.exp(np.cumsum(rng.normal(0, 0.015, (50, 200)), axis=1)), 6)
    for width in (2, 3, 7, 8, 9, 10, 11, 16, 17, 30, 31, 129, 200):
        window = np.ascontiguousarray(block[:, -width:])
        for lo, hi in ((0, width), (1, width), (0, width - 1)):
            rows = window[:, lo:hi].sum(axis=1) / (hi - lo)
            one_by_one = np.array([window[i, lo:hi].sum() / (hi - lo) for i in range(50)])
            assert np.array_equal(rows, one_by_one)


class CountingContext(FakeStrategyContext):
    """Counts has_bars() calls."""

    calls = 0

    def has_bars(self) -> BoolArray:
        self.calls += 1
        return super().has_bars()


def test_buy_and_hold_buys_on_the_mask_and_then_stops_looking() -> None:
    strategy = BuyAndHold(BuyAndHoldParams(quantity=7))
    ctx = CountingContext(("AAA", "BBB", "CCC"))
    slices = daily_slices(
        DAYS[:5],
        {
            "AAA": [(1.0, 1.0)] * 5,
            "BBB": [None, None, (2.0, 2.0), None, (2.0, 2.0)],
            "CCC": [None, (3.0, 3.0), (3.0, 3.0), (3.0, 3.0), (3.0, 3.0)],
        },
    )
    bought = []
    for bars in slices:
        ctx.push(bars)
        strategy.on_bar(ctx)
        bought.append([(o.symbol, o.quantity) for o in ctx.orders])
        ctx.clear()
    assert bought == [[("AAA", Decimal(7))], [("CCC", Decimal(7))], [("BBB", Decimal(7))], [], []]
    assert ctx.calls == 3  # all bought after day 3: the mask is not even asked for


def test_buy_and_hold_remembers_what_it_bought_when_the_universe_changes() -> None:
    strategy = BuyAndHold(BuyAndHoldParams(quantity=1))
    (day1,) = daily_slices(DAYS[:1], {"AAA": [(1.0, 1.0)], "BBB": [(2.0, 2.0)]})
    first = FakeStrategyContext(("AAA",))
    first.push(BarSlice.from_bars([day1.bar("AAA")]))
    strategy.on_bar(first)
    assert [o.symbol for o in first.orders] == ["AAA"]
    second = FakeStrategyContext(("BBB", "AAA"))
    second.push(day1)
    strategy.on_bar(second)
    assert [o.symbol for o in second.orders] == ["BBB"]
