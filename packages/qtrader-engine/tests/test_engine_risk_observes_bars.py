"""A risk service that observes bars (``BarObserver``) is shown every slice, warmup
included, after the portfolio is marked at the slice's closes and before strategies act.

AAA (open, close): d1 2024-01-02 (10, 11), d2 (12, 13), d3 (14, 15); d1 is warmup.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from qtrader.engine import BacktestEngine, EngineConfig
from qtrader.models import BarObserver, BarSlice, PortfolioView, RiskService, StrategyContext
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


class ObservingRisk(FakeRiskService):
    def __init__(self) -> None:
        super().__init__()
        self.observed: list[tuple[date, bool, Decimal, Decimal]] = []

    def observe(self, bars: BarSlice, portfolio: PortfolioView) -> None:
        self.observed.append(
            (bars.timestamp.date(), bars.warmup, portfolio.equity, portfolio.position("AAA"))
        )


def test_every_slice_is_observed_after_the_mark() -> None:
    def buy_on_d2(ctx: StrategyContext) -> None:
        if ctx.timestamp == ny_close(DAYS[1]):
            ctx.buy("AAA", 10)

    risk = ObservingRisk()
    assert isinstance(risk, BarObserver)
    assert isinstance(risk, RiskService)
    engine = BacktestEngine(
        EngineConfig(start=DAYS[1], end=DAYS[-1], symbols=("AAA",), warmup_bars=1),
        data=FakeDataService(
            daily_slices(DAYS, {"AAA": [(10.0, 11.0), (12.0, 13.0), (14.0, 15.0)]}, warmup=1)
        ),
        portfolio=FakePortfolioService(Decimal(1000)),
        execution=FakeExecutionService(),
        risk=risk,
        strategies={"s1": ScriptedStrategy(buy_on_d2)},
    )
    engine.run()
    # d3: bought 10 at the open 14 (cash 860), marked at the close 15: 860 + 150 = 1010
    assert risk.observed == [
        (DAYS[0], True, Decimal(1000), Decimal(0)),
        (DAYS[1], False, Decimal(1000), Decimal(0)),
        (DAYS[2], False, Decimal(1010), Decimal(10)),
    ]


def test_a_risk_service_without_observe_is_not_asked() -> None:
    assert not isinstance(FakeRiskService(), BarObserver)
