"""Bad input gives a clear message naming the key, file or row, and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field
from typer.testing import CliRunner

from qtrader.cli.config import bool_misreads
from qtrader.cli.main import app

runner = CliRunner()


def run(config: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["backtest", str(config)])
    return result.exit_code, result.output


def edit(tiny: Path, old: str, new: str) -> Path:
    path = tiny / "config.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("initial_cash: 10000", "initial_cash: 10000\nintial_cash: 5", "intial_cash: unknown key"),
        ("initial_cash: 10000", "initial_cash: lots", "initial_cash:"),
        ("initial_cash: 10000", "initial_cash: -5", "initial_cash: Input should be greater than 0"),
        ("symbols: [AAA]", "symbols: []", "data.symbols:"),
        ("source: csv", "source: bloomberg", "data.source: unknown data source 'bloomberg'"),
        ("name: sma_crossover", "name: nope", "unknown strategy 'nope'"),
        # A check of the params together: named by their section (it was "strategy.params.:").
        ("{fast: 2,", "{fast: 5,", "strategy.params: Value error, fast (5) must be smaller than"),
        ("{fast: 2,", "{fats: 2,", "strategy.params.fats"),
        ("slippage: {model: none}", "slippage: {model: none, bps: 3}", "execution.slippage"),
        ("commission: {model: none}", "commission: {model: free}", "execution.commission"),
        ("start: 2024-01-02", "start: 2024-02-30", "start:"),
        ("start: 2024-01-02", "start: 2025-01-02", "end (2024-01-18) is before start"),
        ("execution:", "portfolio: {lot_matching: random}\nexecution:", "portfolio.lot_matching"),
        ("execution:", "risk: {cash_bufer: 0.1}\nexecution:", "risk.cash_bufer"),
        ("execution:", "risk: {preset: reckless}\nexecution:", "risk.preset"),
        # It would silently replace the top-level initial_cash (even by 0).
        (
            "execution:",
            "portfolio: {initial_cash: 0}\nexecution:",
            "portfolio: Value error, initial_cash is set by the top-level",
        ),
        # Pydantic's lax mode reads true as 1: a boolean given for a number is refused.
        ("{fast: 2,", "{fast: true,", "strategy.params.fast: expected a number, got a boolean"),
        ("initial_cash: 10000", "initial_cash: 10000\nwarmup_bars: yes", "warmup_bars: expected"),
        (
            "commission: {model: none}",
            "commission: {model: tiered, tiers: [{up_to: on, rate: 0.01}, {rate: 0.005}]}",
            "execution.commission.tiers.0.up_to: expected a number, got a boolean",
        ),
    ],
)
def test_bad_config_names_the_key(tiny: Path, old: str, new: str, message: str) -> None:
    code, output = run(edit(tiny, old, new))
    assert code == 2
    assert message in output.replace("\n", " ") or message in output, output
    assert "Traceback" not in output


def test_missing_config_file(tmp_path: Path) -> None:
    code, output = run(tmp_path / "nope.yaml")
    assert code == 2
    assert "no such config file" in output


@pytest.mark.parametrize("text", ["[1, 2]", "start: [unclosed"])
def test_config_that_is_not_a_mapping_or_not_yaml(tmp_path: Path, text: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    code, output = run(path)
    assert code == 2
    assert str(path) in output.replace("\n", "")


def test_a_yaml_error_is_one_line_with_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("start: 2024-01-02\nsymbols: [AAA, BBB\nend: 2024-02-01\n")
    result = runner.invoke(app, ["backtest", str(path)])
    assert result.exit_code == 2
    # It used to be eight lines about a "<unicode string>".
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {path}: not valid YAML: line 3, column ")


def test_a_config_that_is_not_text_or_not_readable_is_named(tmp_path: Path) -> None:
    binary = tmp_path / "c.yaml"
    binary.write_bytes(b"\xff\xfe\x00start")
    result = runner.invoke(app, ["backtest", str(binary)])
    assert (result.exit_code, result.stderr) == (
        2,
        f"error: {binary}: not UTF-8 text (invalid start byte at byte 0): expected a YAML file\n",
    )
    unreadable = Path("/proc/self/mem")  # a file no one can read as text (it was a traceback)
    result = runner.invoke(app, ["backtest", str(unreadable)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {unreadable}: cannot read it (")


def test_bad_params_of_a_listed_strategy_name_its_id_and_entry(tiny: Path) -> None:
    # Two sma_crossover entries: the message said "strategy 'sma_crossover':
    # strategy.params.fast", naming neither which one nor where it is in the list.
    listed = (
        "strategies:\n"
        "  - {id: quick, name: sma_crossover, params: {fast: 2, slow: 3}}\n"
        "  - {id: slow, name: sma_crossover, params: {fast: -1, slow: 3}}"
    )
    config = edit(
        tiny,
        "strategy:\n  name: sma_crossover\n  params: {fast: 2, slow: 3, quantity: 100}",
        listed,
    )
    result = runner.invoke(app, ["backtest", str(config)])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: strategy 'slow' (sma_crossover): strategies.1.params.fast: Input should be "
        "greater than or equal to 1\n"
    )


def test_strategy_and_strategies_are_exclusive(tiny: Path) -> None:
    code, output = run(edit(tiny, "strategy:", "strategies: [{name: buy_and_hold}]\nstrategy:"))
    assert code == 2
    assert "exactly one of 'strategy' or 'strategies'" in output


def test_duplicate_strategy_ids_are_refused(tiny: Path) -> None:
    path = edit(
        tiny,
        "strategy:\n  name: sma_crossover\n  params: {fast: 2, slow: 3, quantity: 100}",
        "strategies:\n  - {name: buy_and_hold}\n  - {name: buy_and_hold}",
    )
    code, output = run(path)
    assert code == 2
    assert "strategy ids must be unique" in output


def test_unknown_symbol_names_the_symbol(tiny: Path) -> None:
    code, output = run(edit(tiny, "symbols: [AAA]", "symbols: [AAA, ZZZ]"))
    assert code == 2
    assert "ZZZ" in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("2024-01-05,9.0,9.5,8.5,-9.0,1000", "close"),
        ("2024-01-05,9.0,8.0,9.5,9.0,1000", "high"),
        ("2024-01-05,9.0,9.5,8.5,9.0,-1", "volume"),
        ("2024-13-05,9.0,9.5,8.5,9.0,1000", "date"),
        ("2024-01-01,9.0,9.5,8.5,9.0,1000", "order"),
        ("2024-01-05,9.0,9.5,8.5,,1000", "close"),
    ],
)
def test_a_bad_data_row_names_the_file_and_line(tiny: Path, line: str, problem: str) -> None:
    path = tiny / "data" / "AAA.csv"
    lines = path.read_text().splitlines()
    lines[4] = line  # line 5 of the file: the 4th data row
    path.write_text("\n".join(lines) + "\n")
    code, output = run(tiny / "config.yaml")
    flat = output.replace("\n", "")
    assert code == 2, output
    assert "AAA.csv" in flat
    assert "5" in flat
    assert problem in flat.lower(), output
    assert "Traceback" not in output


def test_a_data_file_missing_a_column_names_it(tiny: Path) -> None:
    path = tiny / "data" / "AAA.csv"
    text = path.read_text().replace(
        "date,open,high,low,close,volume", "date,open,high,low,close,vol"
    )
    path.write_text(text)
    code, output = run(tiny / "config.yaml")
    assert code == 2
    assert "volume" in output
    assert "AAA.csv" in output.replace("\n", "")


def test_a_boolean_read_as_a_number_is_found_by_alias_in_sets_and_in_the_data_block(
    tiny: Path,
) -> None:
    class Params(BaseModel):
        model_config = ConfigDict(populate_by_name=True)
        lambda_: float = Field(default=0.0, alias="lambda")
        windows: set[int] = Field(default_factory=set)
        on: bool = False

    given = {"lambda": True, "windows": [True, 5], "on": True}
    assert bool_misreads(given, Params.model_validate(given), ("p",)) == [
        ("p", "lambda"),
        ("p", "windows"),
    ]
    # The data block is an adapter's config, checked as written too (it ran as 1 row a chunk).
    edit(tiny, "source: csv", "source: parquet")
    code, output = run(edit(tiny, "  path: data\n", "  path: data\n  chunk_rows: yes\n"))
    assert code == 2
    assert "data.chunk_rows: expected a number, got a boolean" in output, output
