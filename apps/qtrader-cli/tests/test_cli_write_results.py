"""Result files of an engine run: exact contents (atomic writes, the folder published in
one step and the umask are tested in qtrader-analytics)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from qtrader.analytics import RESULT_FILES, write_results
from qtrader.engine import BacktestEngine, EngineConfig
from qtrader.models import SignalDirection, StrategyContext
from qtrader.models.testing import (
    FakeDataService,
    FakeExecutionService,
    FakePortfolioService,
    FakeRiskService,
    ScriptedStrategy,
    daily_slices,
    ny_close,
)

DAYS = [date(2024, 7, 1), date(2024, 7, 2), date(2024, 7, 3)]


def run(tmp_path: Path, folder: str = "out", as_str: bool = False) -> Path:
    def trade(ctx: StrategyContext) -> None:
        if ctx.timestamp == ny_close(DAYS[0]):
            ctx.buy("AAA", 10)
            ctx.signal("AAA", SignalDirection.LONG)
        elif ctx.timestamp == ny_close(DAYS[1]):
            ctx.sell("AAA", 10, limit_price=Decimal("10.5"))

    slices = daily_slices(DAYS, {"AAA": [(10.0, 10.25), (10.5, 11.0), (11.25, 11.5)]})
    engine = BacktestEngine(
        EngineConfig(start=DAYS[0], end=DAYS[-1], symbols=("AAA",)),
        data=FakeDataService(slices),
        portfolio=FakePortfolioService(Decimal(1000)),
        execution=FakeExecutionService(),
        risk=FakeRiskService(),
        strategies={"s1": ScriptedStrategy(trade)},
    )
    out = tmp_path / folder
    write_results(engine.run(), str(out) if as_str else out, {"config.yaml": "a: 1\n"})
    return out


def test_every_result_file_is_written_and_no_temp_file_is_left(tmp_path: Path) -> None:
    out = run(tmp_path)
    assert sorted(p.name for p in out.iterdir()) == sorted([*RESULT_FILES, "config.yaml"])


def test_fills_and_equity_csv_contents(tmp_path: Path) -> None:
    out = run(tmp_path)
    # bought 10 at d2's open 10.5: cash 1000 - 105 = 895; equity 895 + 10 x close
    assert (out / "fills.csv").read_text() == (
        "timestamp,symbol,side,quantity,price,commission,order_id,fill_id,strategy_id,"
        "slippage_per_share,slippage_cost\n"
        "2024-07-02T09:30:00-04:00,AAA,buy,10,10.5,0,FAKE-1,FAKE-1-F,s1,0,0\n"
    )
    assert (out / "equity.csv").read_text() == (
        "timestamp,cash,equity\n"
        "2024-07-01T16:00:00-04:00,1000,1000\n"
        "2024-07-02T16:00:00-04:00,895,1005\n"
        "2024-07-03T16:00:00-04:00,895,1010\n"
    )


def test_orders_decisions_and_metrics_files(tmp_path: Path) -> None:
    out = run(tmp_path)
    orders = (out / "orders.csv").read_text().splitlines()
    assert orders[1].split(",")[:7] == [
        "2024-07-01T16:00:00-04:00", "FAKE-1", "s1", "AAA", "buy", "10", "market",
    ]  # fmt: skip
    assert orders[2].split(",")[6:8] == ["limit", "10.5"]
    decisions = (out / "risk_decisions.csv").read_text().splitlines()
    assert decisions[1].split(",")[3:6] == ["buy 10 market", "true", "buy"]
    assert decisions[2].split(",")[3:5] == ["signal long", "false"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["total_return"] == pytest.approx(0.01)
    assert metrics["num_fills"] == 1
    assert metrics["calmar"] is None  # no drawdown: undefined, written as null
    assert (out / "config.yaml").read_text() == "a: 1\n"
