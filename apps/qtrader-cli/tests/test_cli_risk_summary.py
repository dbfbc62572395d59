"""The console summary says what risk did with the strategies' intents, with top reasons."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from qtrader.cli.main import app
from qtrader.risk import reason_kind

runner = CliRunner()


def test_rejections_by_a_position_limit_are_counted_with_their_reason(tiny: Path) -> None:
    # The hand-worked run's buys of 100 at the 01-10 close of 11 (1,100 of 10,000 equity,
    # 11%) and at the 01-18 close of 10 (10%) both breach a 5% position limit: 2 intents,
    # none approved; the cross below in between finds nothing held (no intent).
    config = tiny / "config.yaml"
    config.write_text(config.read_text() + "risk: {max_position_pct: 0.05}\n")
    result = runner.invoke(app, ["backtest", str(config)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "risk: 2 intents: 0 approved (0 resized), 2 rejected; top reasons: " in text
    assert text.split("top reasons: ")[1].startswith("max_position_pct (2)")
    assert "0 trades" not in text


def test_reasons_of_one_kind_differ_only_in_numbers_and_names() -> None:
    a = reason_kind("position in 'AAA' would be 11% of equity, above 5%; resized 100 to 45")
    b = reason_kind("position in 'BBB' would be 10.5% of equity, above 5%")
    assert a == b == "position in '…' would be # of equity, above #"
    assert reason_kind("max_position_pct: buy 100 AAA takes the position from 0 to 100") == (
        "max_position_pct"
    )
