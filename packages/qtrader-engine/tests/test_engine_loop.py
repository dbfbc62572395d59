"""The engine loop against the in-memory fakes of every other port.

Data (open, close) for AAA, worked by hand below:
    d1 2024-01-02 (10, 11)   d2 (12, 13)   d3 (14, 15)   d4 (16, 17)
"""

from __future__ import annotations

import gc
import weakref
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from qtrader.engine import BacktestEngine, EngineConfig, EngineError, StrategyError
from qtrader.engine.engine import SETTLE_EVERY
from qtrader.models import (
    BarSlice,
    CashDividend,
    OrderStatus,
    PriceAdjustment,
    SignalDirection,
    Split,
    StrategyContext,
)
from qtrader.models.testing import (
    FakeDataService,
    FakeExecutionService,
    FakePortfolioService,
    FakeRiskService,
    ScriptedStrategy,
    daily_slices,
    ny_close,
)

DAYS = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4), date(2024, 1, 5)]
AAA = [(10.0, 11.0), (12.0, 13.0), (14.0, 15.0), (16.0, 17.0)]


def make_engine(
    slices: list[BarSlice],
    script: ScriptedStrategy,
    *,
    symbols: tuple[str, ...] = ("AAA",),
    adjustment: PriceAdjustment = PriceAdjustment.UNADJUSTED,
    start: date = DAYS[0],
    warmup: int = 0,
) -> tuple[BacktestEngine, FakePortfolioService, FakeExecutionService, FakeRiskService]:
    portfolio = FakePortfolioService(Decimal(1000))
    execution = FakeExecutionService()
    risk = FakeRiskService()
    engine = BacktestEngine(
        EngineConfig(start=start, end=DAYS[-1], symbols=symbols, warmup_bars=warmup),
        data=FakeDataService(slices, adjustment),
        portfolio=portfolio,
        execution=execution,
        risk=risk,
        strategies={"s1": script},
    )
    return engine, portfolio, execution, risk


def buy_once(ctx: StrategyContext) -> None:
    if ctx.timestamp == ny_close(DAYS[0]):
        ctx.buy("AAA", 10)


def test_a_market_order_fills_at_the_next_open_and_equity_is_marked_at_each_close() -> None:
    strategy = ScriptedStrategy(buy_once)
    engine, portfolio, _, _ = make_engine(daily_slices(DAYS, {"AAA": AAA}), strategy)
    result = engine.run()

    # Decided at d1's close, filled at d2's open (12), never at d1's prices.
    assert [(f.price, f.quantity, f.timestamp.date()) for f in result.fills] == [
        (Decimal(12), Decimal(10), DAYS[1])
    ]
    assert result.fills[0].timestamp.hour == 9  # stamped at the session open
    # cash 1000 - 10 x 12 = 880; equity = 880 + 10 x close
    assert [(r.cash, r.equity) for r in result.equity] == [
        (Decimal(1000), Decimal(1000)),
        (Decimal(880), Decimal(1010)),
        (Decimal(880), Decimal(1030)),
        (Decimal(880), Decimal(1050)),
    ]
    assert [r.timestamp for r in result.equity] == [ny_close(d) for d in DAYS]
    assert strategy.calls == ["start", "bar", "fill", "bar", "bar", "bar", "end"]
    assert result.final_state.cash == Decimal(880)
    assert portfolio.position("AAA") == Decimal(10)
    assert len(result.orders) == 1
    assert result.orders[0].created_at == ny_close(DAYS[0])


def test_an_order_decided_on_the_last_bar_never_fills() -> None:
    def buy_last(ctx: StrategyContext) -> None:
        if ctx.timestamp == ny_close(DAYS[-1]):
            ctx.buy("AAA", 1)

    engine, *_ = make_engine(daily_slices(DAYS, {"AAA": AAA}), ScriptedStrategy(buy_last))
    result = engine.run()
    assert result.fills == ()
    assert [o.symbol for o in result.open_orders] == ["AAA"]


def test_warmup_bars_feed_history_but_are_never_traded_or_recorded() -> None:
    seen: list[list[float]] = []

    def look(ctx: StrategyContext) -> None:
        seen.append(list(ctx.history("AAA", "close", 10)))
        ctx.buy("AAA", 1)

    slices = daily_slices(DAYS, {"AAA": AAA}, warmup=2)
    strategy = ScriptedStrategy(look)
    engine, *_ = make_engine(slices, strategy, start=DAYS[2], warmup=2)
    result = engine.run()
    # on_bar only on d3 and d4; history already holds the two warmup closes
    assert seen == [[11.0, 13.0, 15.0], [11.0, 13.0, 15.0, 17.0]]
    assert [r.timestamp.date() for r in result.equity] == DAYS[2:]
    # the d3 order fills at d4's open (16); the d4 order never fills
    assert [(f.price, f.timestamp.date()) for f in result.fills] == [(Decimal(16), DAYS[3])]


def test_symbols_without_a_bar_do_not_advance_their_history() -> None:
    seen: dict[str, list[tuple[bool, int]]] = {"AAA": [], "BBB": []}

    def look(ctx: StrategyContext) -> None:
        for s in ctx.symbols:
            seen[s].append((ctx.has_bar(s), len(ctx.history(s, "close", 99))))

    bbb = [None, (5.0, 6.0), None, (7.0, 8.0)]
    slices = daily_slices(DAYS, {"AAA": AAA, "BBB": bbb})
    engine, *_ = make_engine(slices, ScriptedStrategy(look), symbols=("AAA", "BBB"))
    engine.run()
    assert seen["AAA"] == [(True, 1), (True, 2), (True, 3), (True, 4)]
    assert seen["BBB"] == [(False, 0), (True, 1), (False, 1), (True, 2)]


def test_risk_sees_every_intent_and_its_decisions_are_recorded() -> None:
    def ask(ctx: StrategyContext) -> None:
        if ctx.timestamp == ny_close(DAYS[0]):
            ctx.signal("AAA", SignalDirection.LONG)
            ctx.sell("AAA", 3)

    engine, _, _, risk = make_engine(daily_slices(DAYS, {"AAA": AAA}), ScriptedStrategy(ask))
    result = engine.run()
    assert len(risk.seen) == 2
    assert [d.approved for d in result.decisions] == [False, True]
    assert "does not size" in result.decisions[0].reason
    # the approved sell of 3 fills at d2's open: cash 1000 + 3 x 12
    assert result.final_state.cash == Decimal(1036)


def test_risk_is_told_of_orders_still_working() -> None:
    def rest_then_buy(ctx: StrategyContext) -> None:
        if ctx.timestamp == ny_close(DAYS[0]):
            ctx.buy("AAA", 1, limit_price=Decimal(1))  # never reached: rests
        elif ctx.timestamp == ny_close(DAYS[1]):
            ctx.buy("AAA", 2)

    engine, _, _, risk = make_engine(
        daily_slices(DAYS, {"AAA": AAA}), ScriptedStrategy(rest_then_buy)
    )
    engine.run()
    assert [[o.quantity for o in batch] for batch in risk.working_seen] == [[], [Decimal(1)]]


def test_cancel_reaches_execution_and_is_recorded() -> None:
    def limit_then_cancel(ctx: StrategyContext) -> None:
        if ctx.timestamp == ny_close(DAYS[0]):
            ctx.buy("AAA", 1, limit_price=Decimal(1))
        elif ctx.timestamp == ny_close(DAYS[1]):
            for order in ctx.open_orders():
                ctx.cancel(order.id)
            ctx.cancel("no-such-order")

    engine, *_ = make_engine(daily_slices(DAYS, {"AAA": AAA}), ScriptedStrategy(limit_then_cancel))
    result = engine.run()
    assert [(u.status, u.timestamp) for u in result.order_updates] == [
        (OrderStatus.CANCELLED, ny_close(DAYS[1]))
    ]
    assert result.open_orders == ()


def test_corporate_actions_reach_portfolio_on_an_unadjusted_feed() -> None:
    split = Split(symbol="AAA", ex_date=DAYS[1], ratio=Decimal(2))
    dividend = CashDividend(symbol="AAA", ex_date=DAYS[2], amount=Decimal("0.5"))
    slices = daily_slices(DAYS, {"AAA": AAA})
    slices[1] = BarSlice.from_bars([slices[1].bar("AAA")], actions=(split,))
    slices[2] = BarSlice.from_bars([slices[2].bar("AAA")], actions=(dividend,))
    engine, portfolio, *_ = make_engine(slices, ScriptedStrategy())
    engine.run()
    assert portfolio.actions == [split, dividend]


def test_an_action_is_stamped_at_the_opening_never_before_the_slice_ahead() -> None:
    # Daily bars: the split of day 2 is stamped at day 2's opening (09:30), before that
    # day's fills at the open, not at its 16:00 close. Intraday bars of two lengths: the
    # 10:30 slice holds AAA's 10:00-10:30 bar and GGG's 09:30-10:30 one; GGG's split goes at
    # 10:00, when the slice ahead closed (a fill of it may be stamped then), not at 09:30.
    stamped: list[datetime] = []

    class Recording(FakePortfolioService):
        def apply_action(self, action: Split | CashDividend, timestamp: datetime) -> None:
            stamped.append(timestamp)

    split = Split(symbol="AAA", ex_date=DAYS[1], ratio=Decimal(2))
    slices = daily_slices(DAYS, {"AAA": AAA})
    slices[1] = BarSlice.from_bars(
        [slices[1].bar("AAA")], opened_at=slices[1].opened_at, actions=(split,)
    )
    ten = ny_close(DAYS[0]).replace(hour=10)
    half_past = ten.replace(minute=30)
    intraday = [
        BarSlice(
            timestamp=ten, opened_at=ten - timedelta(minutes=30), symbols=("AAA",),
            open=np.array([10.0]), high=np.array([10.0]), low=np.array([10.0]),
            close=np.array([10.0]), volume=np.array([1.0]),
        ),
        BarSlice(
            timestamp=half_past, opened_at=half_past - timedelta(hours=1), symbols=("AAA", "GGG"),
            open=np.array([10.0, 20.0]), high=np.array([10.0, 20.0]), low=np.array([10.0, 20.0]),
            close=np.array([10.0, 20.0]), volume=np.array([1.0, 1.0]),
            bars_opened_at=(ten, half_past - timedelta(hours=1)),
            actions=(Split(symbol="GGG", ex_date=DAYS[0], ratio=Decimal(2)),),
        ),
    ]  # fmt: skip
    for data, symbols in ((slices, ("AAA",)), (intraday, ("AAA", "GGG"))):
        engine = BacktestEngine(
            EngineConfig(start=DAYS[0], end=DAYS[-1], symbols=symbols),
            data=FakeDataService(data),
            portfolio=Recording(Decimal(1000)),
            execution=FakeExecutionService(),
            risk=FakeRiskService(),
            strategies={"s1": ScriptedStrategy()},
        )
        engine.run()
    assert stamped == [ny_close(DAYS[1]).replace(hour=9, minute=30), ten]


@pytest.mark.parametrize(
    "adjustment", [PriceAdjustment.SPLIT_ADJUSTED, PriceAdjustment.TOTAL_RETURN]
)
def test_a_split_on_an_adjusted_feed_is_refused(adjustment: PriceAdjustment) -> None:
    split = Split(symbol="AAA", ex_date=DAYS[1], ratio=Decimal(4))
    slices = daily_slices(DAYS, {"AAA": AAA})
    slices[1] = BarSlice.from_bars([slices[1].bar("AAA")], actions=(split,))
    engine, *_ = make_engine(slices, ScriptedStrategy(), adjustment=adjustment)
    with pytest.raises(EngineError, match=r"split of AAA on 2024-01-03.*twice"):
        engine.run()


def test_a_dividend_is_paid_on_split_adjusted_prices_but_refused_on_total_return() -> None:
    # Split-adjusted prices do not include dividends: the cash must still be paid.
    dividend = CashDividend(symbol="AAA", ex_date=DAYS[2], amount=Decimal("0.5"))
    slices = daily_slices(DAYS, {"AAA": AAA})
    slices[2] = BarSlice.from_bars([slices[2].bar("AAA")], actions=(dividend,))
    engine, portfolio, *_ = make_engine(
        slices, ScriptedStrategy(), adjustment=PriceAdjustment.SPLIT_ADJUSTED
    )
    engine.run()
    assert portfolio.actions == [dividend]
    engine, *_ = make_engine(slices, ScriptedStrategy(), adjustment=PriceAdjustment.TOTAL_RETURN)
    with pytest.raises(EngineError, match=r"total_return.*cash_dividend of AAA on 2024-01-04"):
        engine.run()


def test_history_is_split_adjusted_as_of_each_bar_never_ahead() -> None:
    # A 2-for-1 split effective d3. Closes as traded: 11, 13, then 7.5 and 8.5 after it.
    # At d2 the strategy must see [11, 13] (the split has not happened); from d3 on it sees
    # the earlier closes halved, [5.5, 6.5, 7.5], and volumes (1000 each) doubled.
    split = Split(symbol="AAA", ex_date=DAYS[2], ratio=Decimal(2))
    slices = daily_slices(DAYS, {"AAA": [(10.0, 11.0), (12.0, 13.0), (7.0, 7.5), (8.0, 8.5)]})
    slices[2] = BarSlice.from_bars([slices[2].bar("AAA")], actions=(split,))
    seen: list[tuple[list[float], list[float]]] = []

    def record(ctx: StrategyContext) -> None:
        seen.append(
            (ctx.history("AAA", "close", 10).tolist(), ctx.history("AAA", "volume", 10).tolist())
        )

    engine, *_ = make_engine(slices, ScriptedStrategy(record))
    engine.run()
    volume = slices[0].volume[0]
    assert [closes for closes, _ in seen] == [
        [11.0],
        [11.0, 13.0],
        [5.5, 6.5, 7.5],
        [5.5, 6.5, 7.5, 8.5],
    ]
    assert seen[1][1] == [volume, volume]
    assert seen[2][1] == [2 * volume, 2 * volume, volume]


def test_no_bars_in_range_is_a_clear_error() -> None:
    engine, *_ = make_engine([], ScriptedStrategy())
    with pytest.raises(EngineError, match=r"no bars for \['AAA'\] between 2024-01-02"):
        engine.run()


def test_only_warmup_bars_is_a_clear_error() -> None:
    engine, *_ = make_engine(daily_slices(DAYS, {"AAA": AAA}, warmup=4), ScriptedStrategy())
    with pytest.raises(EngineError, match="no bars"):
        engine.run()


def test_an_engine_needs_a_strategy() -> None:
    with pytest.raises(EngineError, match="at least one strategy"):
        BacktestEngine(
            EngineConfig(start=DAYS[0], end=DAYS[-1], symbols=("AAA",)),
            data=FakeDataService([]),
            portfolio=FakePortfolioService(Decimal(1)),
            execution=FakeExecutionService(),
            risk=FakeRiskService(),
            strategies={},
        )


def test_engine_config_rejects_end_before_start_and_unknown_keys() -> None:
    with pytest.raises(ValueError, match="before start"):
        EngineConfig(start=DAYS[1], end=DAYS[0], symbols=("AAA",))
    with pytest.raises(ValueError, match="extra"):
        EngineConfig.model_validate(
            {"start": DAYS[0], "end": DAYS[1], "symbols": ["AAA"], "warmup": 3}
        )


def test_two_runs_give_identical_results() -> None:
    def run() -> object:
        engine, *_ = make_engine(daily_slices(DAYS, {"AAA": AAA}), ScriptedStrategy(buy_once))
        result = engine.run()
        return (result.fills, result.equity, result.orders)

    assert run() == run()


def test_a_run_restores_the_garbage_collector_even_when_it_fails() -> None:
    before = gc.get_threshold()
    seen: list[tuple[int, ...]] = []

    def look(ctx: StrategyContext) -> None:
        seen.append(gc.get_threshold())

    engine, *_ = make_engine(daily_slices(DAYS, {"AAA": AAA}), ScriptedStrategy(look))
    engine.run()
    assert seen[0][0] == 10_000  # fewer collections while the run allocates its records
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0

    def crash(ctx: StrategyContext) -> None:
        raise RuntimeError("a bug in the strategy")

    engine, *_ = make_engine(daily_slices(DAYS, {"AAA": AAA}), ScriptedStrategy(crash))
    with pytest.raises(StrategyError, match=r"RuntimeError in on_bar .*: a bug"):
        engine.run()
    assert (gc.get_threshold(), gc.get_freeze_count()) == (before, 0)


def test_every_few_bars_the_run_frees_cycles_and_freezes_what_survived() -> None:
    # A strategy that leaves one unreachable cycle behind per bar. After the settlement at
    # bar SETTLE_EVERY the first bars' cycles are gone (collected, not frozen), and more
    # objects are frozen than at bar 1; after the run nothing stays frozen.
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(SETTLE_EVERY + 2)]
    cycles: list[weakref.ref[object]] = []
    frozen: list[int] = []

    class Node:
        partner: object

    def leave_a_cycle(ctx: StrategyContext) -> None:
        node = Node()
        node.partner = node
        cycles.append(weakref.ref(node))
        frozen.append(gc.get_freeze_count())

    engine = BacktestEngine(
        EngineConfig(start=days[0], end=days[-1], symbols=("AAA",)),
        data=FakeDataService(daily_slices(days, {"AAA": [(10.0, 10.0)] * len(days)})),
        portfolio=FakePortfolioService(Decimal(1000)),
        execution=FakeExecutionService(),
        risk=FakeRiskService(),
        strategies={"s1": ScriptedStrategy(leave_a_cycle)},
    )
    engine.run()
    assert len(cycles) == SETTLE_EVERY + 2
    assert cycles[0]() is None
    assert frozen[SETTLE_EVERY] > frozen[0]  # bar SETTLE_EVERY + 1, after the settlement
    assert gc.get_freeze_count() == 0


def test_the_engine_takes_what_the_venue_has_not_reported_at_the_end() -> None:
    from qtrader.models import OrderStatus, OrderUpdate  # noqa: PLC0415

    class Venue(FakeExecutionService):
        def drain_updates(self) -> tuple[OrderUpdate, ...]:
            return (
                OrderUpdate(
                    order_id="late", status=OrderStatus.ACCEPTED, timestamp=ny_close(DAYS[-1])
                ),
            )

    slices = daily_slices(DAYS, {"AAA": [(10.0, 10.0)] * len(DAYS)})
    engine = BacktestEngine(
        EngineConfig(start=DAYS[0], end=DAYS[-1], symbols=("AAA",)),
        data=FakeDataService(slices),
        portfolio=FakePortfolioService(Decimal(1000)),
        execution=Venue(),
        risk=FakeRiskService(),
        strategies={"s1": ScriptedStrategy(buy_once)},
    )
    assert engine.run().order_updates[-1].order_id == "late"
