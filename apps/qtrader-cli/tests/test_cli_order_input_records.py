"""Issue 7, the new-user order bugs, through the engine (with the in-memory fakes):
float quantities rounded to the instruments' lots, targets that cancel the strategy's
working orders, and bad orders refused and recorded while the run goes on.

Data (open, close) for AAA, BBB:
    d1 2024-01-02 (10, 11), (20, 20)   d2 (12, 13), (21, 21)   d3 (14, 15), (22, 22)
    d4 (16, 17), (23, 23)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal

from qtrader.analytics import refusals, result_tables
from qtrader.engine import BacktestEngine, BacktestResult, EngineConfig
from qtrader.models import (
    BarSlice,
    ExecutionReport,
    Instrument,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    SignalDirection,
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
SLICES = daily_slices(
    DAYS,
    {
        "AAA": [(10.0, 11.0), (12.0, 13.0), (14.0, 15.0), (16.0, 17.0)],
        "BBB": [(20.0, 20.0), (21.0, 21.0), (22.0, 22.0), (23.0, 23.0)],
    },
)
D1 = "2024-01-02T16:00:00-05:00"
D = Decimal


class LotsDataService(FakeDataService):
    """The fake data with instruments of the given lot sizes."""

    def __init__(self, lots: dict[str, Decimal]) -> None:
        super().__init__(SLICES)
        self._lots = lots

    def instruments(self, symbols: Sequence[str]) -> list[Instrument]:
        return [Instrument(symbol=s, lot_size=self._lots.get(s, D(1))) for s in symbols]


def on_day(day: int, act: Callable[[StrategyContext], None]) -> ScriptedStrategy:
    """A strategy that does ``act`` at the close of day ``day`` (1-based) only."""

    def script(ctx: StrategyContext) -> None:
        if ctx.timestamp == ny_close(DAYS[day - 1]):
            act(ctx)

    return ScriptedStrategy(script)


def run(
    strategies: dict[str, ScriptedStrategy], data: FakeDataService | None = None
) -> tuple[BacktestResult, FakePortfolioService]:
    portfolio = FakePortfolioService(D(100_000))
    engine = BacktestEngine(
        EngineConfig(start=DAYS[0], end=DAYS[-1], symbols=("AAA", "BBB")),
        data=data or FakeDataService(SLICES),
        portfolio=portfolio,
        execution=FakeExecutionService(),
        risk=FakeRiskService(),
        strategies=strategies,
    )
    return engine.run(), portfolio


# -- 1. float quantities ----------------------------------------------------------------
def test_a_float_quantity_is_ordered_in_whole_shares_and_fills_once() -> None:
    result, portfolio = run({"s1": on_day(1, lambda ctx: ctx.buy("AAA", 10.3))})
    # 10.3 -> 10 shares (lot 1, toward zero), filled at d2's open 12
    (order,) = result.orders
    assert str(order.quantity) == "10"
    assert [(f.quantity, f.price) for f in result.fills] == [(D(10), D(12))]
    assert portfolio.position("AAA") == D(10)


def test_lot_sizes_come_from_the_data_services_instruments() -> None:
    def act(ctx: StrategyContext) -> None:
        ctx.buy("AAA", 2.7)  # lot 0.5: 5.4 lots -> 5 = 2.5
        ctx.buy("BBB", 2.7)  # lot 1 -> 2

    result, _ = run({"s1": on_day(1, act)}, LotsDataService({"AAA": D("0.5")}))
    assert [(o.symbol, o.quantity) for o in result.orders] == [("AAA", D("2.5")), ("BBB", D(2))]


# -- 2. targets --------------------------------------------------------------------------
def test_target_zero_while_flat_with_a_resting_buy_cancels_it_and_stays_flat() -> None:
    def script(ctx: StrategyContext) -> None:
        if ctx.timestamp == ny_close(DAYS[0]):
            ctx.buy("AAA", 100, limit_price=D(1))  # far below the market: rests
        elif ctx.timestamp == ny_close(DAYS[1]):
            ctx.order_target_quantity("AAA", 0)

    result, portfolio = run({"s1": ScriptedStrategy(script)})
    # d2: flat, target 0 -> the resting buy FAKE-1 is cancelled, nothing is sold
    # (before the fix: a market sell of 100 filled at d3's open 14, ending short 100)
    assert [o.id for o in result.orders] == ["FAKE-1"]
    assert [(u.order_id, u.status) for u in result.order_updates] == [
        ("FAKE-1", OrderStatus.CANCELLED)
    ]
    assert result.fills == ()
    assert portfolio.position("AAA") == 0
    assert result.open_orders == ()


def test_a_target_orders_from_the_position_after_cancelling_a_partial_commitment() -> None:
    def script(ctx: StrategyContext) -> None:
        if ctx.timestamp == ny_close(DAYS[0]):
            ctx.buy("AAA", 30)  # fills at d2's open 12
            ctx.sell("AAA", 5, limit_price=D(99))  # rests above the market
        elif ctx.timestamp == ny_close(DAYS[1]):
            ctx.order_target_quantity("AAA", 50)
            ctx.order_target_quantity("BBB", -4)

    result, portfolio = run({"s1": ScriptedStrategy(script)})
    # d2: AAA 30 held, the resting sell FAKE-2 cancelled -> buy 20 (fills at d3's open 14);
    # BBB flat -> sell 4 (fills at d3's open 22)
    assert [(o.id, o.symbol, o.side, o.quantity) for o in result.orders] == [
        ("FAKE-1", "AAA", Side.BUY, D(30)),
        ("FAKE-2", "AAA", Side.SELL, D(5)),
        ("FAKE-3", "AAA", Side.BUY, D(20)),
        ("FAKE-4", "BBB", Side.SELL, D(4)),
    ]
    assert [(u.order_id, u.status) for u in result.order_updates] == [
        ("FAKE-2", OrderStatus.CANCELLED)
    ]
    assert [(f.order_id, f.price) for f in result.fills] == [
        ("FAKE-1", D(12)),
        ("FAKE-3", D(14)),
        ("FAKE-4", D(22)),
    ]
    assert (portfolio.position("AAA"), portfolio.position("BBB")) == (D(50), D(-4))


def test_target_percent_with_a_limit_price_reaches_the_venue_as_a_limit_order() -> None:
    act = on_day(1, lambda ctx: ctx.order_target_percent("AAA", 0.1, limit_price=D("10.5")))
    result, _ = run({"s1": act})
    # equity 100,000 x 10% = 10,000 at d1's close 11 -> 909.09 -> 909 shares, limit 10.5
    (order,) = result.orders
    assert (order.side, order.quantity, order.type, order.limit_price) == (
        Side.BUY, D(909), OrderType.LIMIT, D("10.5"),
    )  # fmt: skip
    assert order.sizing_price == D(11)


# -- 3. bad orders --------------------------------------------------------------------------
def bad_orders(ctx: StrategyContext) -> None:
    ctx.buy("ZZZ", 1)
    ctx.buy("AAA", -5)
    ctx.sell("AAA", 1, limit_price=D("NaN"))
    ctx.buy("AAA", 5)  # a good one: still taken


def test_bad_orders_are_refused_with_reasons_and_the_run_goes_on() -> None:
    strategies = {
        "s1": on_day(1, bad_orders),
        "s2": on_day(2, lambda ctx: ctx.buy("BBB", 0.5)),
    }
    result, portfolio = run(strategies)
    assert [(r.id, r.strategy_id, r.symbol) for r in result.rejections] == [
        ("R-000001", "s1", "ZZZ"),
        ("R-000002", "s1", "AAA"),
        ("R-000003", "s1", "AAA"),
        ("R-000004", "s2", "BBB"),  # numbered across strategies
    ]
    assert [r.reason for r in result.rejections] == [
        f"'ZZZ' is not in the universe ['AAA', 'BBB'] (strategy 's1', buy ZZZ, bar {D1})",
        f"quantity must be positive, got -5 (strategy 's1', buy AAA, bar {D1})",
        f"limit_price must be a finite number, got NaN (strategy 's1', sell AAA, bar {D1})",
        "quantity 0.5 rounds to 0 at the lot size of 1 "
        "(strategy 's2', buy BBB, bar 2024-01-03T16:00:00-05:00)",
    ]
    rejected = [u for u in result.order_updates if u.status is OrderStatus.REJECTED]
    assert [(u.order_id, u.timestamp, u.reason) for u in rejected] == [
        (r.id, r.created_at, r.reason) for r in result.rejections
    ]
    # the good order of the same bar was taken and filled at d2's open 12
    assert [(o.symbol, o.quantity) for o in result.orders] == [("AAA", D(5))]
    assert portfolio.position("AAA") == D(5)
    assert len(result.equity) == len(DAYS)  # the run went to the end


def test_refused_orders_are_in_orders_csv_and_order_updates_csv() -> None:
    result, _ = run({"s1": on_day(1, bad_orders)})
    tables = result_tables(result)
    orders = tables["orders.csv"].splitlines()
    assert orders == [
        "created_at,order_id,strategy_id,symbol,side,quantity,type,limit_price,stop_price,"
        "time_in_force,tag,trail_amount,trail_percent,expire_at,stop_loss_price,"
        "take_profit_price,close_lots,parent_id",
        f"{D1},FAKE-1,s1,AAA,buy,5,market,,,gtc,,,,,,,,",
        f"{D1},R-000001,s1,ZZZ,buy,1,market,,,gtc,,,,,,,,",
        f"{D1},R-000002,s1,AAA,buy,-5,market,,,gtc,,,,,,,,",
        f"{D1},R-000003,s1,AAA,sell,1,limit,NaN,,gtc,,,,,,,,",
    ]
    updates = tables["order_updates.csv"].splitlines()
    assert updates[0] == "timestamp,order_id,status,reason"
    assert updates[1] == (
        f"{D1},R-000001,rejected,\"'ZZZ' is not in the universe ['AAA', 'BBB'] "
        f"(strategy 's1', buy ZZZ, bar {D1})\""
    )
    assert [line.split(",")[1:3] for line in updates[2:]] == [
        ["R-000002", "rejected"],
        ["R-000003", "rejected"],
    ]


def test_orders_csv_lists_refusals_in_time_order_among_the_orders() -> None:
    def script(ctx: StrategyContext) -> None:
        if ctx.timestamp == ny_close(DAYS[0]):
            ctx.buy("AAA", 0)
        elif ctx.timestamp == ny_close(DAYS[1]):
            ctx.buy("AAA", 1)
        elif ctx.timestamp == ny_close(DAYS[2]):
            ctx.buy("AAA", 0)

    result, _ = run({"s1": ScriptedStrategy(script)})
    ids = [line.split(",")[1] for line in result_tables(result)["orders.csv"].splitlines()[1:]]
    assert ids == ["R-000001", "FAKE-1", "R-000002"]


def test_refusals_in_on_start_and_on_end_are_recorded() -> None:
    class Hooks(ScriptedStrategy):
        def on_start(self, ctx: StrategyContext) -> None:
            ctx.buy("AAA", 0)

        def on_end(self, ctx: StrategyContext) -> None:
            ctx.sell("ZZZ", 1)

    result, _ = run({"s1": Hooks()})
    assert [(r.id, r.symbol, r.created_at) for r in result.rejections] == [
        ("R-000001", "AAA", ny_close(DAYS[0])),
        ("R-000002", "ZZZ", ny_close(DAYS[-1])),
    ]
    assert [u.order_id for u in result.order_updates] == ["R-000001", "R-000002"]


class RejectingVenue(FakeExecutionService):
    """The fake venue, refusing orders above 1,000 shares as the simulated venue refuses:
    at ``submit``, reported with the next bars."""

    def __init__(self) -> None:
        super().__init__()
        self._refused: list[OrderUpdate] = []

    def submit(self, request: OrderRequest, at: datetime) -> Order:
        order = super().submit(request, at)
        if order.quantity > 1000:
            self.cancel(order.id, at)
            self._refused.append(
                OrderUpdate(
                    order_id=order.id, status=OrderStatus.REJECTED, timestamp=at, reason="too big"
                )
            )
        return order

    def process(self, bars: BarSlice) -> ExecutionReport:
        report = super().process(bars)
        refused, self._refused = self._refused, []
        return ExecutionReport(fills=report.fills, updates=(*refused, *report.updates))


def test_refusals_lists_the_contexts_risks_and_the_venues_in_time_order() -> None:
    def script(ctx: StrategyContext) -> None:
        if ctx.timestamp == ny_close(DAYS[0]):
            ctx.buy("AAA", 5000)  # the venue refuses it
            ctx.signal("BBB", SignalDirection.LONG)  # the fake risk service refuses signals
            ctx.buy("ZZZ", 1)  # the context refuses it
        elif ctx.timestamp == ny_close(DAYS[1]):
            ctx.sell("BBB", 0)  # the context refuses it

    engine = BacktestEngine(
        EngineConfig(start=DAYS[0], end=DAYS[-1], symbols=("AAA", "BBB")),
        data=FakeDataService(SLICES),
        portfolio=FakePortfolioService(D(100_000)),
        execution=RejectingVenue(),
        risk=FakeRiskService(),
        strategies={"s1": ScriptedStrategy(script)},
    )
    found = refusals(engine.run())
    # d1: the context's refusal, then risk's, then the venue's (decided at d1, reported at
    # d2's processing but stamped at the decision); d2: the context's
    assert [(r.timestamp, r.strategy_id, r.symbol, r.by, r.reason) for r in found] == [
        (ny_close(DAYS[0]), "s1", "ZZZ", "context", "'ZZZ' is not in the universe ['AAA', 'BBB']"),
        (ny_close(DAYS[0]), "s1", "BBB", "risk", "the fake risk service does not size signals"),
        (ny_close(DAYS[0]), "s1", "AAA", "venue", "too big"),
        (ny_close(DAYS[1]), "s1", "BBB", "context", "quantity must be positive, got 0"),
    ]
