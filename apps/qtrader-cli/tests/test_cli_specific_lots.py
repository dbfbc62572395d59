"""Specific-lot matching end to end: a strategy reads its lots and sells the newest one.

AAA opens at 100, 110, 120, 130 on four sessions. The strategy buys 10 at the first two
closes (filled at the next opens: 10 @ 110 as F-000001, 10 @ 120 as F-000002), then at the
third close sells 10 naming its newest lot (filled at 130). Realized (130 - 120) x 10 = 100;
FIFO would have closed F-000001 for (130 - 110) x 10 = 200.
"""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from qtrader.cli.main import app

runner = CliRunner()

STRATEGY = """
from qtrader.models import BaseStrategy


class SellNewest(BaseStrategy):
    def __init__(self) -> None:
        self.bars = 0

    def on_bar(self, ctx):
        self.bars += 1
        if self.bars <= 2:
            ctx.buy("AAA", 10)
        elif self.bars == 3:
            newest = ctx.lots("AAA")[-1]
            ctx.sell("AAA", 10, close_lots=[newest.lot_id])
"""


def run(tmp_path: Path, source: str) -> tuple[object, Path]:
    """``source`` (a ``SellNewest``) run on AAA's four sessions, its results in ``out``."""
    data = tmp_path / "data"
    data.mkdir()
    days = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    rows = [
        f"{d},{p},{p + 1},{p - 1},{p},1000" for d, p in zip(days, (100, 110, 120, 130), strict=True)
    ]
    (data / "AAA.csv").write_text("date,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    (tmp_path / "newest.py").write_text(source)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"start: {days[0]}\nend: {days[-1]}\ninitial_cash: 10000\n"
        "data: {source: csv, path: data, symbols: [AAA]}\n"
        "strategy: {name: 'newest.py:SellNewest'}\n"
    )
    out = tmp_path / "out"
    return runner.invoke(app, ["backtest", str(config), "--output", str(out)]), out


def test_a_strategy_sells_the_lot_it_names(tmp_path: Path) -> None:
    result, out = run(tmp_path, STRATEGY)
    assert result.exit_code == 0, result.output
    ledger = list(csv.DictReader((out / "ledger.csv").read_text().splitlines()))
    sale = ledger[-1]
    assert (sale["quantity"], sale["price"]) == ("-10", "130")
    assert sale["lots_closed"] == "F-000002:10"
    assert sale["lots_named"] == "F-000002"


def test_naming_a_lot_the_strategy_does_not_hold_is_refused_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    # It used to reach the venue, fill, and stop the run when the portfolio refused the fill.
    result, out = run(tmp_path, STRATEGY.replace("[newest.lot_id]", '["F-999"]'))
    assert result.exit_code == 0, result.output
    assert "F-999 is not an open lot of newest.py:SellNewest in AAA" in " ".join(
        result.output.split()
    )
    ledger = list(csv.DictReader((out / "ledger.csv").read_text().splitlines()))
    assert [row["position_after"] for row in ledger] == ["10", "20"]  # no sale
