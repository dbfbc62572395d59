"""The Python API: one call from a path, a dict or a model; pandas views equal the files."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import qtrader.cli
from qtrader.cli import BacktestRun, run_backtest
from qtrader.cli.config import ConfigError, load_config


def test_a_path_as_str_gives_the_hand_worked_fills_and_equity(tiny: Path) -> None:
    run = run_backtest(str(tiny / "config.yaml"))
    assert isinstance(run, BacktestRun)
    fills = run.fills
    assert fills[["symbol", "side", "quantity", "price"]].to_dict("records") == [
        {"symbol": "AAA", "side": "buy", "quantity": 100, "price": 11.75},
        {"symbol": "AAA", "side": "sell", "quantity": 100, "price": 8.25},
    ]
    assert fills["timestamp"].iloc[0] == pd.Timestamp("2024-01-11 14:30", tz="UTC")
    equity = run.equity
    assert equity["equity"].iloc[-1] == 9650.0
    assert equity.index[0] == pd.Timestamp("2024-01-02 21:00", tz="UTC")
    assert run.result.equity[-1].equity == Decimal(9650)  # exact records stay Decimal
    assert run.metrics["total_return"] == pytest.approx(9650 / 10000 - 1)
    assert len(run.trades) == 1


def test_a_dict_and_a_model_give_the_same_run_as_the_file(tiny: Path) -> None:
    from_file = run_backtest(tiny / "config.yaml")
    model = load_config(tiny / "config.yaml")
    from_model = run_backtest(model, base_dir=tiny)
    from_dict = run_backtest(model.model_dump(mode="json"), base_dir=str(tiny))
    for run in (from_model, from_dict):
        assert run.fills.equals(from_file.fills)
        assert run.metrics == from_file.metrics


def test_output_writes_the_result_files(tiny: Path, tmp_path: Path) -> None:
    run_backtest(tiny / "config.yaml", output=str(tmp_path / "out"))
    assert (tmp_path / "out" / "metrics.json").is_file()
    assert (tmp_path / "out" / "fills.csv").read_text().count("\n") == 3


def test_a_bad_dict_names_the_key() -> None:
    with pytest.raises(ConfigError, match="initial_cash"):
        run_backtest(
            {
                "start": date(2024, 1, 2),
                "end": date(2024, 1, 5),
                "initial_cash": -1,
                "data": {"source": "csv", "symbols": ["AAA"]},
                "strategy": {"name": "buy_and_hold"},
            }
        )


def test_an_unknown_table_lists_the_tables(tiny: Path) -> None:
    with pytest.raises(KeyError, match="the tables are equity, fills"):
        run_backtest(tiny / "config.yaml").table("nope")


def test_the_package_exposes_nothing_else() -> None:
    with pytest.raises(AttributeError):
        _ = qtrader.cli.nothing_here  # type: ignore[attr-defined]


def test_a_dict_with_a_boolean_for_a_number_is_refused() -> None:
    # Pydantic's lax mode reads True as 1: it would run with one bar of warm-up.
    with pytest.raises(ConfigError, match="warmup_bars: expected a number, got a boolean"):
        run_backtest(
            {
                "start": date(2024, 1, 2),
                "end": date(2024, 1, 5),
                "initial_cash": 1000,
                "warmup_bars": True,
                "data": {"source": "csv", "symbols": ["AAA"]},
                "strategy": {"name": "buy_and_hold"},
            }
        )


def test_tables_keep_names_as_written_and_parse_every_time(tiny: Path) -> None:
    # The ticker NA and the strategy id "null" were read as missing values, and orders'
    # created_at stayed text.
    (tiny / "data" / "AAA.csv").rename(tiny / "data" / "NA.csv")
    config = tiny / "config.yaml"
    text = config.read_text().replace("symbols: [AAA]", "symbols: [NA]")
    config.write_text(text.replace("  name: sma_crossover", '  id: "null"\n  name: sma_crossover'))
    run = run_backtest(config)
    assert run.fills[["symbol", "strategy_id"]].to_dict("records") == [
        {"symbol": "NA", "strategy_id": "null"},
        {"symbol": "NA", "strategy_id": "null"},
    ]
    assert run.orders["created_at"].iloc[0] == pd.Timestamp("2024-01-10 21:00", tz="UTC")
    assert run.orders["limit_price"].isna().all()  # an empty field is still missing


def test_a_relative_base_dir_writes_a_config_that_runs_again(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tiny.parent)
    model = load_config(tiny / "config.yaml").model_dump(mode="json")
    model["data"]["path"] = "data"  # relative to base_dir
    first = run_backtest(model, base_dir=tiny.name, output=str(tiny / "out"))
    again = run_backtest(tiny / "out" / "config.yaml")
    assert again.fills.equals(first.fills)


@pytest.mark.parametrize("config", [[1, 2], 5, None])
def test_a_config_that_is_no_mapping_is_named(config: object) -> None:
    with pytest.raises(ConfigError, match="expected a config file's path, a mapping of its keys"):
        run_backtest(config)  # type: ignore[arg-type]
