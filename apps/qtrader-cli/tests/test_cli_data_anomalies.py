"""Rows a `repair` policy drops are reported on the console and in data_anomalies.csv."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from qtrader.cli.main import app

runner = CliRunner()


def repair(tiny: Path, bad_lines: list[int]) -> None:
    config = tiny / "config.yaml"
    config.write_text(
        config.read_text().replace("  path: data\n", "  path: data\n  validation: repair\n")
    )
    data = tiny / "data" / "AAA.csv"
    lines = data.read_text().splitlines()
    for n in bad_lines:  # 1-based file lines; line 1 is the header
        fields = lines[n - 1].split(",")
        fields[4] = "-1"  # a negative close
        lines[n - 1] = ",".join(fields)
    data.write_text("\n".join(lines) + "\n")


def test_a_dropped_row_is_reported_and_written(tiny: Path) -> None:
    repair(tiny, [5])
    result = runner.invoke(
        app, ["backtest", str(tiny / "config.yaml"), "--output", str(tiny / "out")]
    )
    assert result.exit_code == 0, result.output
    assert "1 data rows were dropped or widened while loading" in result.output
    assert "AAA.csv, line 5: AAA 2024-01-05" in result.output
    rows = (tiny / "out" / "data_anomalies.csv").read_text().splitlines()
    assert rows[0] == "symbol,source,line,date,problem,action"
    assert len(rows) == 2
    assert rows[1].startswith("AAA,AAA.csv,5,2024-01-05,")
    assert rows[1].endswith(",dropped")


def test_many_anomalies_are_summarised(tiny: Path) -> None:
    repair(tiny, list(range(2, 14)))  # 12 of the 13 rows
    result = runner.invoke(app, ["backtest", str(tiny / "config.yaml")])
    assert result.exit_code == 0, result.output
    assert "12 data rows were dropped" in result.output
    assert "... and 2 more" in result.output


def test_clean_data_writes_an_empty_anomaly_table(tiny: Path) -> None:
    result = runner.invoke(
        app, ["backtest", str(tiny / "config.yaml"), "--output", str(tiny / "out")]
    )
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    assert (
        tiny / "out" / "data_anomalies.csv"
    ).read_text() == "symbol,source,line,date,problem,action\n"
