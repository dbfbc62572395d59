"""history_matrix and has_bars: every symbol at once, with history()'s semantics.

Data, worked by hand (open, close); "-" = no bar that day:

    day   2024-03-04  03-05     03-06     03-07     03-08
    AAA   (10, 10)    (11, 11)  (12, 12)  (13, 13)  (14, 14)
    BBB   (20, 21)    -         (22, 23)  -         (24, 25)

After day 5 AAA has 5 bars and BBB 3: the last 3 closes are AAA [12, 13, 14] and BBB
[21, 23, 25] (BBB did not advance on the days it skipped); the last 4 are AAA
[11, 12, 13, 14] and BBB [NaN, 21, 23, 25] with counts [4, 3].
"""

from __future__ import annotations

import logging
import math
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from qtrader.engine import BacktestEngine, BarHistory, EngineConfig, StrategyError
from qtrader.engine.context import EngineStrategyContext
from qtrader.models import BarSlice, HistoryMatrix, Split, StrategyContext
from qtrader.models.testing import (
    FakeDataService,
    FakeExecutionService,
    FakePortfolioService,
    FakeRiskService,
    FakeStrategyContext,
    ScriptedStrategy,
    daily_slices,
)

DAYS = [date(2024, 3, d) for d in (4, 5, 6, 7, 8)]
SLICES = daily_slices(
    DAYS,
    {
        "AAA": [(10.0, 10.0), (11.0, 11.0), (12.0, 12.0), (13.0, 13.0), (14.0, 14.0)],
        "BBB": [(20.0, 21.0), None, (22.0, 23.0), None, (24.0, 25.0)],
    },
)
NAN = math.nan


def context(
    symbols: tuple[str, ...] = ("AAA", "BBB"), days: int = 5, capacity: int = 2
) -> tuple[EngineStrategyContext, BarHistory]:
    history = BarHistory(("AAA", "BBB"), capacity=capacity)
    ctx = EngineStrategyContext(
        "s1",
        symbols,
        history,
        FakePortfolioService(Decimal(1000)).view(),
        FakeExecutionService(),
        logging.getLogger("t"),
    )
    for bars in SLICES[:days]:
        history.append(bars)
        ctx.set_bars(bars)
    return ctx, history


def rows(matrix: HistoryMatrix) -> list[list[float | None]]:
    """Values with NaN as None, so lists compare exactly."""
    return [[None if math.isnan(v) else v for v in row] for row in matrix.values.tolist()]


def test_the_context_still_satisfies_the_port() -> None:
    ctx, _ = context()
    assert isinstance(ctx, StrategyContext)


def test_the_last_n_of_every_symbol_right_aligned_and_nan_padded() -> None:
    ctx, _ = context()
    m3 = ctx.history_matrix("close", 3)
    assert m3.symbols == ("AAA", "BBB")
    assert m3.field == "close"
    assert m3.n == 3
    assert rows(m3) == [[12.0, 13.0, 14.0], [21.0, 23.0, 25.0]]
    assert m3.counts.tolist() == [3, 3]
    assert m3.complete.tolist() == [True, True]
    m4 = ctx.history_matrix("close", 4)
    assert rows(m4) == [[11.0, 12.0, 13.0, 14.0], [None, 21.0, 23.0, 25.0]]
    assert m4.counts.tolist() == [4, 3]
    assert m4.complete.tolist() == [True, False]
    assert m4.valid.tolist() == [[True, True, True, True], [False, True, True, True]]
    assert rows(ctx.history_matrix("open", 2)) == [[13.0, 14.0], [22.0, 24.0]]
    m0 = ctx.history_matrix("close", 0)
    assert m0.values.shape == (2, 0)
    assert m0.counts.tolist() == [0, 0]


def test_each_row_is_what_history_returns_for_every_field_and_n() -> None:
    for days in range(1, 6):
        ctx, _ = context(days=days)
        for field in ("open", "high", "low", "close", "volume"):
            for n in range(8):
                matrix = ctx.history_matrix(field, n)
                assert matrix.values.flags.c_contiguous
                for i, symbol in enumerate(ctx.symbols):
                    expected = ctx.history(symbol, field, n)
                    assert np.array_equal(matrix.row(symbol), expected)
                    assert matrix.counts[i] == len(expected)
                    assert np.isnan(matrix.values[i, : n - len(expected)]).all()


def test_the_fake_context_gives_the_same_matrices() -> None:
    fake = FakeStrategyContext(("AAA", "BBB"))
    history = BarHistory(("AAA", "BBB"))
    ctx = EngineStrategyContext(
        "s1", ("AAA", "BBB"), history, FakePortfolioService(Decimal(1)).view(),
        FakeExecutionService(), logging.getLogger("t"),
    )  # fmt: skip
    for bars in SLICES:
        fake.push(bars)
        history.append(bars)
        ctx.set_bars(bars)
        assert ctx.has_bars().tolist() == fake.has_bars().tolist()
        for n in (0, 1, 2, 4, 6):
            ours, theirs = ctx.history_matrix("close", n), fake.history_matrix("close", n)
            assert np.array_equal(ours.values, theirs.values, equal_nan=True)
            assert ours.counts.tolist() == theirs.counts.tolist()


def test_the_fake_context_split_adjusts_and_refuses_like_the_engine() -> None:
    # A 2-for-1 split of AAA on day 3 (10, 11, then 6 as traded): the engine halves the
    # closes before it; the fake kept [10, 11, 6], a 45% crash no real run shows. And it
    # answered n < 0 and unknown names with an empty array or a bare KeyError.
    split = Split(symbol="AAA", ex_date=DAYS[2], ratio=Decimal(2))
    slices = daily_slices(DAYS[:3], {"AAA": [(10.0, 10.0), (11.0, 11.0), (6.0, 6.0)]})
    slices[2] = BarSlice.from_bars([slices[2].bar("AAA")], actions=(split,))
    fake = FakeStrategyContext(("AAA",))
    history = BarHistory(("AAA",))
    for bars in slices:
        fake.push(bars)
        for action in bars.actions:
            history.apply_split("AAA", float(action.ratio))  # type: ignore[union-attr]
        history.append(bars)
    for field in ("close", "volume"):
        engine = history.last("AAA", field, 3).tolist()
        assert fake.history("AAA", field, 3).tolist() == engine
    assert fake.history("AAA", "close", 3).tolist() == [5.0, 5.5, 6.0]
    for engine_side in (history.last, fake.history):
        with pytest.raises(ValueError, match="n must be >= 0, got -1"):
            engine_side("AAA", "close", -1)
        with pytest.raises(KeyError, match="unknown symbol 'ZZZ'"):
            engine_side("ZZZ", "close", 1)
        with pytest.raises(KeyError, match="unknown field 'vwap'"):
            engine_side("AAA", "vwap", 1)


def test_one_common_length_and_different_lengths_give_the_same_layout() -> None:
    # Day 1: both symbols have one bar (one slice of the block); day 2: AAA 2, BBB 1 (gather).
    ctx, history = context(days=1)
    assert rows(ctx.history_matrix("close", 2)) == [[None, 10.0], [None, 21.0]]
    assert rows(ctx.history_matrix("close", 1)) == [[10.0], [21.0]]
    history.append(SLICES[1])
    ctx.set_bars(SLICES[1])
    assert rows(ctx.history_matrix("close", 2)) == [[10.0, 11.0], [None, 21.0]]
    assert ctx.history_matrix("close", 2).counts.tolist() == [2, 1]


def test_matrices_are_read_only_snapshots() -> None:
    ctx, history = context(days=4)
    before = ctx.history_matrix("close", 3)
    with pytest.raises(ValueError, match="read-only"):
        before.values[0, 0] = 0.0
    with pytest.raises(ValueError, match="read-only"):
        before.counts[0] = 0
    # a later bar and a later split never change what was handed out at T
    history.apply_split("AAA", 2.0)
    history.append(SLICES[4])
    assert rows(before) == [[11.0, 12.0, 13.0], [None, 21.0, 23.0]]
    assert rows(ctx.history_matrix("close", 3)) == [[6.0, 6.5, 14.0], [21.0, 23.0, 25.0]]


def test_a_split_rescales_the_matrix_like_history() -> None:
    ctx, history = context()
    history.apply_split("BBB", 4.0)
    assert rows(ctx.history_matrix("close", 4)) == [
        [11.0, 12.0, 13.0, 14.0],
        [None, 5.25, 5.75, 6.25],
    ]
    assert rows(ctx.history_matrix("volume", 1)) == [[1000.0], [4000.0]]


def test_unknown_fields_and_negative_n_are_refused() -> None:
    ctx, _ = context()
    with pytest.raises(KeyError, match="unknown field 'vwap'"):
        ctx.history_matrix("vwap", 1)
    with pytest.raises(ValueError, match="n must be >= 0"):
        ctx.history_matrix("close", -1)
    with pytest.raises(KeyError, match="unknown symbol 'ZZZ'"):
        ctx.history_matrix("close", 1).row("ZZZ")


def test_has_bars_is_a_read_only_mask_in_symbols_order() -> None:
    ctx, history = context(days=4)
    mask = ctx.has_bars()
    assert mask.tolist() == [True, False]  # day 4: BBB has no bar
    assert ctx.has_bars() is mask  # computed once per timestamp
    with pytest.raises(ValueError, match="read-only"):
        mask[1] = True
    history.append(SLICES[4])
    ctx.set_bars(SLICES[4])
    assert ctx.has_bars().tolist() == [True, True]
    fresh, _ = context(days=0)
    assert fresh.has_bars().tolist() == [False, False]
    assert fresh.history_matrix("close", 2).counts.tolist() == [0, 0]


def test_a_context_over_part_of_the_history_sees_its_own_symbols_in_its_order() -> None:
    ctx, _ = context(symbols=("BBB",), days=4)
    assert ctx.has_bars().tolist() == [False]
    assert rows(ctx.history_matrix("close", 3)) == [[None, 21.0, 23.0]]  # BBB: days 1, 3
    with pytest.raises(KeyError, match="not all in the history's universe"):
        context(symbols=("BBB", "ZZZ"))


def test_a_context_over_the_universe_in_another_order() -> None:
    ctx, _ = context(symbols=("BBB", "AAA"))
    assert rows(ctx.history_matrix("close", 4)) == [
        [None, 21.0, 23.0, 25.0],
        [11.0, 12.0, 13.0, 14.0],
    ]
    assert ctx.history_matrix("close", 4).counts.tolist() == [3, 4]
    ctx.set_bars(SLICES[3])
    assert ctx.has_bars().tolist() == [False, True]


def test_bar_history_gathers_and_masks_by_itself() -> None:
    history = BarHistory(("AAA", "BBB", "CCC"), capacity=1)
    values, counts = history.last_all("close", 2)
    assert values.shape == (3, 2)
    assert np.isnan(values).all()
    assert counts.tolist() == [0, 0, 0]
    for bars in SLICES:
        history.append(bars)
    values, counts = history.last_all("close", 2)
    assert np.array_equal(values, [[13.0, 14.0], [23.0, 25.0], [NAN, NAN]], equal_nan=True)
    assert counts.tolist() == [2, 2, 0]
    assert history.present(("CCC", "AAA")).tolist() == [True, False, True]
    assert history.symbols == ("AAA", "BBB", "CCC")
    empty = BarHistory(())
    assert empty.last_all("close", 3)[0].shape == (0, 3)


def test_through_the_engine_nothing_after_t_and_splits_point_in_time() -> None:
    # A 2-for-1 split of AAA effective day 3 (closes as traded 10, 11, then 6 and 6.5, 7).
    # At day 2 the matrix holds [10, 11] (no split yet); from day 3 on the earlier closes
    # are halved. BBB skips days 2 and 4, so its row does not advance on them.
    split = Split(symbol="AAA", ex_date=DAYS[2], ratio=Decimal(2))
    slices = daily_slices(
        DAYS,
        {
            "AAA": [(10.0, 10.0), (11.0, 11.0), (6.0, 6.0), (6.5, 6.5), (7.0, 7.0)],
            "BBB": [(20.0, 21.0), None, (22.0, 23.0), None, (24.0, 25.0)],
        },
    )
    slices[2] = BarSlice.from_bars([slices[2].bar("AAA"), slices[2].bar("BBB")], actions=(split,))
    seen: list[tuple[list[list[float | None]], list[int], list[bool]]] = []

    def record(ctx: StrategyContext) -> None:
        matrix = ctx.history_matrix("close", 3)
        seen.append((rows(matrix), matrix.counts.tolist(), ctx.has_bars().tolist()))

    engine = BacktestEngine(
        EngineConfig(start=DAYS[0], end=DAYS[-1], symbols=("AAA", "BBB")),
        data=FakeDataService(slices),
        portfolio=FakePortfolioService(Decimal(1000)),
        execution=FakeExecutionService(),
        risk=FakeRiskService(),
        strategies={"s1": ScriptedStrategy(record)},
    )
    engine.run()
    assert seen == [
        ([[None, None, 10.0], [None, None, 21.0]], [1, 1], [True, True]),
        ([[None, 10.0, 11.0], [None, None, 21.0]], [2, 1], [True, False]),
        ([[5.0, 5.5, 6.0], [None, 21.0, 23.0]], [3, 2], [True, True]),
        ([[5.5, 6.0, 6.5], [None, 21.0, 23.0]], [3, 2], [True, False]),
        ([[6.0, 6.5, 7.0], [21.0, 23.0, 25.0]], [3, 3], [True, True]),
    ]


def test_slices_in_universe_order_and_in_another_order_give_the_same_history() -> None:
    # Three days of full slices for (AAA, BBB): closes AAA 1, 2, 3 and BBB 10, 20, 30
    # (opens = closes). A slice in universe order is written as one row of the block, one
    # listing BBB first is scattered; both must store the same values, also across the
    # block's growth (capacity 1 -> 2 -> 4).
    full = daily_slices(
        DAYS[:3],
        {
            "AAA": [(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)],
            "BBB": [(10.0, 10.0), (20.0, 20.0), (30.0, 30.0)],
        },
    )
    in_order = BarHistory(("AAA", "BBB"), capacity=1)
    reordered = BarHistory(("AAA", "BBB"), capacity=1)
    for bars in full:
        assert bars.symbols == ("AAA", "BBB")
        in_order.append(bars)
        flipped = BarSlice(
            timestamp=bars.timestamp,
            opened_at=bars.opened_at,
            symbols=("BBB", "AAA"),
            open=bars.open[::-1],
            high=bars.high[::-1],
            low=bars.low[::-1],
            close=bars.close[::-1],
            volume=bars.volume[::-1],
        )
        reordered.append(flipped)
        assert reordered.present(flipped.symbols).tolist() == [True, True]
    for history in (in_order, reordered):
        values, counts = history.last_all("close", 2)
        assert values.tolist() == [[2.0, 3.0], [20.0, 30.0]]
        assert values.flags.c_contiguous
        assert counts.tolist() == [2, 2]
        assert history.last("BBB", "open", 5).tolist() == [10.0, 20.0, 30.0]
    assert in_order.present(("AAA", "BBB")).tolist() == [True, True]


def test_a_full_slice_after_a_partial_one_keeps_each_symbol_s_own_length() -> None:
    # Day 1 only AAA (close 1), day 2 both (AAA 2, BBB 20): AAA has 2 bars, BBB 1, so
    # the last 2 closes are AAA [1, 2] and BBB [NaN, 20] (right-aligned, NaN-padded).
    days = daily_slices(DAYS[:2], {"AAA": [(1.0, 1.0), (2.0, 2.0)], "BBB": [None, (20.0, 20.0)]})
    history = BarHistory(("AAA", "BBB"), capacity=1)
    for bars in days:
        history.append(bars)
    values, counts = history.last_all("close", 2)
    assert np.array_equal(values, [[1.0, 2.0], [NAN, 20.0]], equal_nan=True)
    assert counts.tolist() == [2, 1]
    assert (history.length("AAA"), history.length("BBB")) == (2, 1)


class Declaring(ScriptedStrategy):
    """A scripted strategy that declares how much history it reads."""

    def __init__(self, history_bars: int, script: Any) -> None:
        super().__init__(script)
        self.history_bars = history_bars


def test_a_strategy_may_not_read_more_than_it_declared_whatever_others_declared() -> None:
    # "greedy" declares 2 bars and asks for 3. Alone the history kept is 2 and it fails;
    # beside a strategy declaring 5 the history keeps 5, and it used to pass there: it must
    # fail the same, or a strategy checked in company breaks when run alone (in a sweep).
    def greedy(ctx: StrategyContext) -> None:
        ctx.history_matrix("close", 3)

    for company in ({}, {"wide": Declaring(5, None)}):
        engine = BacktestEngine(
            EngineConfig(start=DAYS[0], end=DAYS[-1], symbols=("AAA", "BBB")),
            data=FakeDataService(SLICES),
            portfolio=FakePortfolioService(Decimal(1000)),
            execution=FakeExecutionService(),
            risk=FakeRiskService(),
            strategies={"greedy": Declaring(2, greedy), **company},
        )
        with pytest.raises(StrategyError, match="asked for 3 bars of history") as raised:
            engine.run()
        assert "greedy" in str(raised.value)


def test_history_is_limited_to_what_the_strategy_declared() -> None:
    history = BarHistory(("AAA", "BBB"))
    limited = EngineStrategyContext(
        "s1", ("AAA", "BBB"), history, FakePortfolioService(Decimal(1000)).view(),
        FakeExecutionService(), logging.getLogger("t"), history_bars=2,
    )  # fmt: skip
    for bars in SLICES[:3]:
        history.append(bars)
        limited.set_bars(bars)
    assert limited.history("AAA", "close", 2).tolist() == [11.0, 12.0]
    with pytest.raises(ValueError, match="strategy 's1' declared at most 2 \\(history_bars\\)"):
        limited.history("AAA", "close", 3)
