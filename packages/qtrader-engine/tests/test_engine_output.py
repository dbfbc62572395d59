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


def test_results_replace_a_previous_run_in_one_step(tmp_path: Path) -> None:
    out = run(tmp_path)
    (out / "config.yaml").write_text("previous run\n")
    run(tmp_path)  # into the same folder: replaced whole
    assert (out / "config.yaml").read_text() == "a: 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folder left


def test_a_failed_write_leaves_the_previous_complete_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = run(tmp_path)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    written: list[str] = []
    real = Path.write_text

    def fail_on_the_third(self: Path, text: str, *args: object, **kwargs: object) -> int:
        written.append(self.name)
        if len(written) == 3:
            raise OSError("disk full")
        return real(self, text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", fail_on_the_third)
    with pytest.raises(OSError, match="disk full"):
        run(tmp_path)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # never a mix
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_folder_of_other_files_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(
        ValueError, match=r"holds files that are not results of a run \(notes.txt\)"
    ):
        run(tmp_path)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["notes.txt"]


def test_result_files_respect_the_umask_and_a_str_path_is_accepted(tmp_path: Path) -> None:
    import os  # noqa: PLC0415

    old = os.umask(0o027)
    try:
        out = run(tmp_path)
        atomic_write_text(tmp_path / "single.txt", "x")
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o750
    assert {p.stat().st_mode & 0o777 for p in out.iterdir()} == {0o640}
    assert (tmp_path / "single.txt").stat().st_mode & 0o777 == 0o640
    run(tmp_path, folder="as_str", as_str=True)
    assert (tmp_path / "as_str" / "metrics.json").is_file()
