"""`qtrader sweep`, `qtrader init` and `qtrader check-lookahead` from the command line."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from qtrader.cli.main import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[3]


def test_sweep_writes_the_table_and_names_the_best_run(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = runner.invoke(
        app,
        ["sweep", str(tiny / "config.yaml"), "--grid", "strategy.params.fast=1,2",
         "--grid", "strategy.params.slow=3,4", "--output", str(out), "--executor", "serial",
         "--metric", "total_return"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "4 runs (0 failed, 0 skipped by --where, 0 already done)" in result.output
    assert "best total_return" in result.output
    rows = list(csv.DictReader((out / "results.csv").read_text().splitlines()))
    assert [r["strategy.params.fast"] + "/" + r["strategy.params.slow"] for r in rows] == [
        "1/3", "1/4", "2/3", "2/4",
    ]  # fmt: skip
    again = runner.invoke(
        app,
        ["sweep", str(tiny / "config.yaml"), "--grid", "strategy.params.fast=1,2",
         "--grid", "strategy.params.slow=3,4", "--output", str(out), "--executor", "serial",
         "--metric", "total_return"],
    )  # fmt: skip
    assert "4 already done" in again.output


def test_sweep_walk_forward_prints_the_windows(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["sweep", str(ROOT / "examples" / "sma_crossover.yaml"), "--grid",
         "strategy.params.fast=5,10", "--output", str(tmp_path / "wf"), "--executor",
         "serial", "--walk-forward", "--train-months", "36", "--test-months", "12",
         "--metric", "total_return"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Walk-forward: 2 windows" in result.output
    assert (tmp_path / "wf" / "oos_equity.csv").is_file()


def test_sweep_errors_are_one_line(tiny: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["sweep", str(tiny / "config.yaml"), "--grid", "strategy.params.fast",
         "--output", str(tmp_path / "s")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "error: --grid 'strategy.params.fast': expected KEY=VALUE1,VALUE2" in result.output
    bad = runner.invoke(
        app,
        ["sweep", str(tiny / "config.yaml"), "--grid", "strategy.params.fast=1",
         "--output", str(tmp_path / "s"), "--executor", "gpu"],
    )  # fmt: skip
    assert bad.exit_code == 2
    assert "expected serial, process or dask" in bad.output


def test_init_then_backtest(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert "next: qtrader backtest" in result.output
    run = runner.invoke(app, ["backtest", str(tmp_path / "p" / "config.yaml")])
    assert run.exit_code == 0, run.output
    refused = runner.invoke(app, ["init", str(tmp_path / "p")])
    assert refused.exit_code == 2
    assert "already exists" in refused.output


def test_check_lookahead_passes_a_built_in_and_flags_a_cheat(tmp_path: Path) -> None:
    clean = runner.invoke(
        app, ["check-lookahead", str(ROOT / "examples" / "sma_crossover.yaml"), "--points", "3"]
    )
    assert clean.exit_code == 0, clean.output
    assert "no look-ahead found" in clean.output
    data = tmp_path / "data"
    data.mkdir()
    rows = ["date,open,high,low,close,volume"]
    rows += [
        f"2024-01-{d:02d},{10 + d % 2},{11 + d % 2},{9 + d % 2},{10 + d % 2},100"
        for d in range(2, 31)
        if d not in (6, 7, 13, 14, 20, 21, 27, 28)
    ]
    (data / "AAA.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "cheat.py").write_text(
        "from qtrader.models import BaseStrategy\n"
        "class Cheat(BaseStrategy):\n"
        "    def __init__(self, data):\n"
        "        import csv, pathlib\n"
        "        text = (pathlib.Path(data) / 'AAA.csv').read_text()\n"
        "        rows = list(csv.DictReader(text.splitlines()))\n"
        "        self.next = {a['date']: float(b['close']) > float(a['close'])\n"
        "                     for a, b in zip(rows, rows[1:])}\n"
        "    def on_bar(self, ctx):\n"
        "        up = self.next.get(ctx.timestamp.date().isoformat())\n"
        "        if up is not None:\n"
        "            ctx.order_target_quantity('AAA', 10 if up else 0)\n"
    )
    (tmp_path / "config.yaml").write_text(
        "start: 2024-01-02\nend: 2024-01-30\ninitial_cash: 10000\n"
        "data: {source: csv, path: data, symbols: [AAA]}\n"
        f"strategy: {{name: 'cheat.py:Cheat', params: {{data: '{data}'}}}}\n"
    )
    flagged = runner.invoke(
        app, ["check-lookahead", str(tmp_path / "config.yaml"), "--points", "3"]
    )
    assert flagged.exit_code == 1, flagged.output
    assert "look-ahead: strategy 'cheat.py:Cheat'" in flagged.output
    assert "with the future:" in flagged.output
