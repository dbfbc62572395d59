"""Real portfolio, execution and risk services through a split and a dividend.

Slices come from the fake data service (the CSV adapter carries no actions), worked by hand:

 day        AAA (open, close)   action
 d1 01-02   (500, 500)          buy 100 at market; rest a limit buy 10 @ 400
 d2 01-03   (500, 520)          buy fills at 500: cash 100,000 - 50,000 = 50,000;
                                equity 50,000 + 100 x 520 = 102,000
 d3 01-04   (130, 128)          4-for-1 split effective: 400 shares, cost 50,000 kept;
                                the resting limit becomes 40 @ 100 (d3 low 128: no fill);
                                equity 50,000 + 400 x 128 = 101,200
 d4 01-05   (129, 130)          0.25 dividend, ex d4: holders at d3's close (400) get 100;
                                cash 50,100; equity 50,100 + 400 x 130 = 102,100
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from qtrader.engine import BacktestEngine, EngineConfig
from qtrader.execution import ExecutionConfig, SimulatedExecutionService
from qtrader.models import BarSlice, CashDividend, Split, StrategyContext
from qtrader.models.testing import FakeDataService, ScriptedStrategy, daily_slices, ny_close
from qtrader.portfolio import LotPortfolioService, PortfolioConfig
from qtrader.risk import PreTradeRiskService, RiskConfig

DAYS = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4), date(2024, 1, 5)]


def test_split_and_dividend_through_the_real_services() -> None:
    slices = daily_slices(
        DAYS, {"AAA": [(500.0, 500.0), (500.0, 520.0), (130.0, 128.0), (129.0, 130.0)]}
    )
    split = Split(symbol="AAA", ex_date=DAYS[2], ratio=Decimal(4))
    dividend = CashDividend(symbol="AAA", ex_date=DAYS[3], amount=Decimal("0.25"))
    slices[2] = BarSlice.from_bars(
        [slices[2].bar("AAA")], opened_at=slices[2].opened_at, actions=(split,)
    )
    slices[3] = BarSlice.from_bars(
        [slices[3].bar("AAA")], opened_at=slices[3].opened_at, actions=(dividend,)
    )

    def trade(ctx: StrategyContext) -> None:
        if ctx.timestamp == ny_close(DAYS[0]):
            ctx.buy("AAA", 100)
            ctx.buy("AAA", 10, limit_price=Decimal(400))

    portfolio = LotPortfolioService(PortfolioConfig(initial_cash=Decimal(100_000)))
    execution = SimulatedExecutionService(ExecutionConfig())
    engine = BacktestEngine(
        EngineConfig(start=DAYS[0], end=DAYS[-1], symbols=("AAA",)),
        data=FakeDataService(slices),
        portfolio=portfolio,
        execution=execution,
        risk=PreTradeRiskService(RiskConfig()),
        strategies={"s1": ScriptedStrategy(trade)},
    )
    result = engine.run()

    assert [(f.quantity, f.price) for f in result.fills] == [(Decimal(100), Decimal(500))]
    assert [(row.cash, row.equity) for row in result.equity] == [
        (Decimal(100_000), Decimal(100_000)),
        (Decimal(50_000), Decimal(102_000)),
        (Decimal(50_000), Decimal(101_200)),
        (Decimal(50_100), Decimal(102_100)),
    ]
    assert portfolio.position("AAA") == Decimal(400)
    (position,) = result.final_state.positions
    assert position.quantity * position.average_price == Decimal(50_000)
    (resting,) = result.open_orders
    assert (resting.quantity, resting.limit_price) == (Decimal(40), Decimal(100))
