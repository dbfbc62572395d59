"""What the engine hands the venue besides new orders (replaces, after the cancels) and
what it records from it besides fills (orders the venue placed: a bracket's exits)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from qtrader.engine import BacktestEngine, EngineConfig
from qtrader.models import (
    BarSlice,
    ExecutionReport,
    Intent,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PortfolioView,
    RiskDecision,
    Side,
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

DAYS = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
AAA = [(10.0, 11.0), (12.0, 13.0), (14.0, 15.0)]


class ExitPlacingVenue(FakeExecutionService):
    """Fills market orders like the fake; for a filled bracket entry it reports a stop-loss
    exit it placed, as the simulated venue does."""

    def process(self, bars: BarSlice) -> ExecutionReport:
        report = super().process(bars)
        exits = []
        for fill in report.fills:
            entry = next(o for o in self.submitted if o.id == fill.order_id)
            if entry.stop_loss_price is not None:
                exits.append(
                    Order(
                        strategy_id=entry.strategy_id,
                        symbol=entry.symbol,
                        side=Side.SELL,
                        quantity=fill.quantity,
                        type=OrderType.STOP,
                        stop_price=entry.stop_loss_price,
                        id=f"{entry.id}-SL",
                        created_at=bars.timestamp,
                        parent_id=entry.id,
                    )
                )
        return ExecutionReport(fills=report.fills, updates=report.updates, orders=tuple(exits))


class CappedRisk(FakeRiskService):
    """Approves orders of at most ``cap`` shares; rejects larger ones."""

    def __init__(self, cap: Decimal) -> None:
        super().__init__()
        self.cap = cap

    def decide(
        self,
        intents: Sequence[Intent],
        portfolio: PortfolioView,
        prices: Mapping[str, Decimal],
        at: datetime,
        open_orders: Sequence[Order] = (),
    ) -> list[RiskDecision]:
        decisions = super().decide(intents, portfolio, prices, at, open_orders)
        return [
            RiskDecision(
                timestamp=at, intent=d.intent, order=None, approved=False, reason="over the cap"
            )
            if d.order is not None and d.order.quantity > self.cap
            else d
            for d in decisions
        ]


def run(
    script: ScriptedStrategy,
    execution: FakeExecutionService,
    risk: FakeRiskService | None = None,
) -> tuple[list[Order], list[OrderUpdate]]:
    engine = BacktestEngine(
        EngineConfig(start=DAYS[0], end=DAYS[-1], symbols=("AAA",)),
        data=FakeDataService(daily_slices(DAYS, {"AAA": AAA})),
        portfolio=FakePortfolioService(Decimal(1000)),
        execution=execution,
        risk=FakeRiskService() if risk is None else risk,
        strategies={"s1": script},
    )
    result = engine.run()
    return list(result.orders), list(result.order_updates)


def test_a_replace_passes_risk_as_the_order_it_would_make() -> None:
    # A resting buy of 1 replaced to 5 at a higher limit: risk sees a buy of 5 at 2 (with
    # the resting order itself left out of the working orders) and, capped at 3, rejects
    # it. The order stays as it was; a replace to 3 is checked the same way and sent.
    def rest_then_grow(ctx: StrategyContext) -> None:
        if ctx.timestamp == ny_close(DAYS[0]):
            ctx.buy("AAA", 1, limit_price=Decimal(1))  # never reached: rests
        elif ctx.timestamp == ny_close(DAYS[1]):
            (order,) = ctx.open_orders()
            ctx.replace(order.id, quantity=5, limit_price=Decimal(2))
            ctx.replace(order.id, quantity=3)

    venue, risk = FakeExecutionService(), CappedRisk(Decimal(3))
    _, updates = run(ScriptedStrategy(rest_then_grow), venue, risk)
    asked = [(i.quantity, i.limit_price) for i in risk.seen if isinstance(i, OrderRequest)]
    assert asked == [(1, 1), (5, 2), (3, 1)]
    assert risk.working_seen[1:] == [(), ()]  # the order replaced is not counted twice
    assert [(u.order_id, u.status, u.reason) for u in updates] == [
        ("FAKE-1", OrderStatus.REPLACED, "quantity 3")
    ]
    (working,) = venue.open_orders()
    assert (working.quantity, working.limit_price) == (3, 1)


def test_a_replace_reaches_the_venue_and_its_answer_is_recorded() -> None:
    def rest_then_move(ctx: StrategyContext) -> None:
        if ctx.timestamp == ny_close(DAYS[0]):
            ctx.buy("AAA", 1, limit_price=Decimal(1))  # never reached: rests
        elif ctx.timestamp == ny_close(DAYS[1]):
            (order,) = ctx.open_orders()
            ctx.replace(order.id, limit_price=Decimal("1.5"))
            ctx.replace("no-such-order", quantity=2)  # not working: no update

    venue = FakeExecutionService()
    _, updates = run(ScriptedStrategy(rest_then_move), venue)
    assert [(u.order_id, u.status, u.timestamp) for u in updates] == [
        ("FAKE-1", OrderStatus.REPLACED, ny_close(DAYS[1]))
    ]
    (working,) = venue.open_orders()
    assert working.limit_price == Decimal("1.5")


def test_orders_the_venue_placed_are_recorded_with_the_others() -> None:
    def enter(ctx: StrategyContext) -> None:
        if ctx.timestamp == ny_close(DAYS[0]):
            ctx.bracket("AAA", 10, stop_loss=Decimal(9), take_profit=Decimal(20))

    orders, _ = run(ScriptedStrategy(enter), ExitPlacingVenue())
    # The entry, recorded at its decision (d1); its exit, placed when it filled at d2.
    assert [(o.id, o.parent_id, o.created_at) for o in orders] == [
        ("FAKE-1", None, ny_close(DAYS[0])),
        ("FAKE-1-SL", "FAKE-1", ny_close(DAYS[1])),
    ]


def test_a_replace_that_only_takes_risk_off_is_not_put_to_risk() -> None:
    # A resting buy of 8 at 1 under a cap of 10. Less to fill (6) or a lower limit (0.5)
    # only takes risk off: sent without asking risk, which might refuse even that (a
    # tripped breaker refuses every buy) and so leave the larger order working. More to
    # fill (12) or a higher limit is put to risk: 12 is over the cap and not sent.
    def shrink_then_grow(ctx: StrategyContext) -> None:
        if ctx.timestamp == ny_close(DAYS[0]):
            ctx.buy("AAA", 8, limit_price=Decimal(1))  # never reached: rests
        elif ctx.timestamp == ny_close(DAYS[1]):
            (order,) = ctx.open_orders()
            ctx.replace(order.id, quantity=6)
            ctx.replace(order.id, limit_price=Decimal("0.5"))
            ctx.replace(order.id, quantity=12)
            ctx.replace(order.id, limit_price=Decimal(2))

    venue, risk = FakeExecutionService(), CappedRisk(Decimal(10))
    _, updates = run(ScriptedStrategy(shrink_then_grow), venue, risk)
    asked = [(i.quantity, i.limit_price) for i in risk.seen if isinstance(i, OrderRequest)]
    assert asked == [(8, 1), (12, Decimal("0.5")), (6, 2)]
    assert [u.reason for u in updates] == ["quantity 6", "limit_price 0.5", "limit_price 2"]
    (working,) = venue.open_orders()
    assert (working.quantity, working.limit_price) == (6, 2)
