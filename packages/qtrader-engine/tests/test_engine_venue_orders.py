"""What the engine hands the venue besides new orders (replaces, after the cancels) and
what it records from it besides fills (orders the venue placed: a bracket's exits)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from qtrader.engine import BacktestEngine, EngineConfig
from qtrader.models import (
    BarSlice,
    ExecutionReport,
    Order,
    OrderStatus,
    OrderType,
    OrderUpdate,
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


def run(
    script: ScriptedStrategy, execution: FakeExecutionService
) -> tuple[list[Order], list[OrderUpdate]]:
    engine = BacktestEngine(
        EngineConfig(start=DAYS[0], end=DAYS[-1], symbols=("AAA",)),
        data=FakeDataService(daily_slices(DAYS, {"AAA": AAA})),
        portfolio=FakePortfolioService(Decimal(1000)),
        execution=execution,
        risk=FakeRiskService(),
        strategies={"s1": script},
    )
    result = engine.run()
    return list(result.orders), list(result.order_updates)


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
