"""A strategy cancels only its own working orders; another's is left working, with a warning."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import pytest

from qtrader.engine import BacktestEngine, EngineConfig
from qtrader.models import OrderStatus, StrategyContext
from qtrader.models.testing import (
    FakeDataService,
    FakeExecutionService,
    FakePortfolioService,
    FakeRiskService,
    ScriptedStrategy,
    daily_slices,
)

DAYS = [date(2024, 7, 1), date(2024, 7, 2), date(2024, 7, 3)]


def test_cancelling_another_strategys_order_is_ignored_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def rest(ctx: StrategyContext) -> None:
        if ctx.timestamp.date() == DAYS[0]:
            ctx.buy("AAA", 10, limit_price=Decimal(1))  # rests (limit): FAKE-1, owner "a"

    def meddle(ctx: StrategyContext) -> None:
        if ctx.timestamp.date() == DAYS[1]:
            ctx.cancel("FAKE-1")

    engine = BacktestEngine(
        EngineConfig(start=DAYS[0], end=DAYS[-1], symbols=("AAA",)),
        data=FakeDataService(daily_slices(DAYS, {"AAA": [(10.0, 10.0)] * 3})),
        portfolio=FakePortfolioService(Decimal(1000)),
        execution=FakeExecutionService(),
        risk=FakeRiskService(),
        strategies={"a": ScriptedStrategy(rest), "b": ScriptedStrategy(meddle)},
    )
    with caplog.at_level(logging.WARNING, logger="qtrader.engine"):
        result = engine.run()
    assert [o.id for o in result.open_orders] == ["FAKE-1"]  # still working
    assert not [u for u in result.order_updates if u.status is OrderStatus.CANCELLED]
    assert "[b] cancel of FAKE-1 ignored: not a working order of this strategy" in caplog.text
