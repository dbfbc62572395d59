"""Result files: exact contents, atomic writes, and valid JSON."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from qtrader.engine import RESULT_FILES, BacktestEngine, EngineConfig, write_results
from qtrader.engine.output import atomic_write_text
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


def run(tmp_path: Path) -> Path:
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
    out = tmp_path / "out"
    write_results(engine.run(), out, {"config.yaml": "a: 1\n"})
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


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "metrics.json"
    target.write_text("old")
    # a lone surrogate cannot be encoded as UTF-8: the write fails half-way
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(target, "new \udcff")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_atomic_write_cleans_up_its_temp_file_on_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "fills.csv"
    target.write_text("old")

    def fail(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("qtrader.engine.output.os.replace", fail)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["fills.csv"]
