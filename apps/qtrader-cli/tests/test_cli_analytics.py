"""Analytics after a run, end to end: alpha and beta against a benchmark symbol (its split
and dividend applied), report.html and metrics.json rebuilt from the files by `qtrader
report`, and two runs giving byte-identical folders, report included."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from qtrader.cli.main import app

runner = CliRunner()

# AAA is traded (buy and hold 100); BBB is only the benchmark: 2-for-1 on 01-06, a 0.50
# dividend on 01-08.
AAA = [100, 101, 99, 103, 104, 102]
BBB = [100, 102, 51.5, 52, 52.52, 53]
DAYS = ["2021-01-04", "2021-01-05", "2021-01-06", "2021-01-07", "2021-01-08", "2021-01-11"]
# BBB's daily total returns, by hand: 102/100 - 1; 51.5 x 2 / 102 - 1 (the split);
# 52/51.5 - 1; (52.52 + 0.5)/52 - 1 (the dividend); 53/52.52 - 1
BENCHMARK = [0.02, 103 / 102 - 1, 52 / 51.5 - 1, 53.02 / 52 - 1, 53 / 52.52 - 1]


def write_project(folder: Path, benchmark: str = "benchmark: BBB") -> Path:
    data = folder / "data"
    data.mkdir(parents=True)
    for symbol, closes in (("AAA", AAA), ("BBB", BBB)):
        lines = ["date,open,high,low,close,volume"]
        lines += [f"{d},{c},{c + 1},{c - 1},{c},1000" for d, c in zip(DAYS, closes, strict=True)]
        (data / f"{symbol}.csv").write_text("\n".join(lines) + "\n")
    (folder / "actions.csv").write_text(
        "date,symbol,type,value\n2021-01-06,BBB,split,2\n2021-01-08,BBB,dividend,0.5\n"
    )
    config = folder / "config.yaml"
    config.write_text(
        f"""
start: {DAYS[0]}
end: {DAYS[-1]}
initial_cash: 100000
data: {{source: csv, path: data, symbols: [AAA], actions: actions.csv}}
strategy: {{name: buy_and_hold, params: {{quantity: 100}}}}
{benchmark}
"""
    )
    return config


def backtest(config: Path, out: Path) -> None:
    result = runner.invoke(app, ["backtest", str(config), "--output", str(out)])
    assert result.exit_code == 0, result.output


def daily_returns(out: Path) -> np.ndarray:
    """The strategy's returns from ``equity.csv``, one per session after the first."""
    equity = [float(line.split(",")[2]) for line in (out / "equity.csv").read_text().split()[1:]]
    return np.array(equity[1:]) / np.array(equity[:-1]) - 1


def assert_against_the_benchmark(out: Path, r: np.ndarray, b: np.ndarray) -> None:
    """metrics.json's alpha, beta and benchmark return of the paired returns ``r`` and ``b``,
    by an independent formula (sample covariance over sample variance; the mean excess
    return annualised)."""
    metrics = json.loads((out / "metrics.json").read_text())
    beta = np.cov(r, b, ddof=1)[0, 1] / np.var(b, ddof=1)
    assert metrics["beta"] == pytest.approx(beta, rel=1e-9)
    assert metrics["alpha"] == pytest.approx((1 + np.mean(r - beta * b)) ** 252 - 1, rel=1e-9)
    assert metrics["benchmark_return"] == pytest.approx(np.prod(1 + b) - 1, rel=1e-12)


def without_day(csv_file: Path, day: str) -> None:
    lines = csv_file.read_text().splitlines(True)
    csv_file.write_text("".join(line for line in lines if day not in line))


def test_alpha_and_beta_against_the_benchmark_symbol(tmp_path: Path) -> None:
    out = tmp_path / "out"
    backtest(write_project(tmp_path), out)
    assert_against_the_benchmark(out, daily_returns(out), np.array(BENCHMARK))


def test_a_session_missing_from_the_benchmark_is_left_out_not_paired_with_two(
    tmp_path: Path,
) -> None:
    # BBB has no bar on 01-07: its 01-08 close is two sessions after its 01-06 one, so
    # neither 01-07 nor 01-08 has a benchmark return to set beside the strategy's one-day
    # return. Beta and alpha come from 01-05, 01-06 and 01-11 only.
    config = write_project(tmp_path)
    without_day(tmp_path / "data" / "BBB.csv", "2021-01-07")
    out = tmp_path / "out"
    backtest(config, out)
    r = daily_returns(out)[[0, 1, 4]]  # of 01-05 ... 01-11
    assert_against_the_benchmark(out, r, np.array([0.02, 103 / 102 - 1, 53 / 52.52 - 1]))


def test_a_benchmark_session_the_run_does_not_have_is_compounded_into_the_next(
    tmp_path: Path,
) -> None:
    # AAA has no bar on 01-07 (the run has no such session): the strategy's 01-08 return
    # spans two of BBB's sessions, and so does the benchmark return set beside it.
    config = write_project(tmp_path)
    without_day(tmp_path / "data" / "AAA.csv", "2021-01-07")
    out = tmp_path / "out"
    backtest(config, out)
    r = daily_returns(out)  # 01-05, 01-06, 01-08, 01-11
    b = np.array([0.02, 103 / 102 - 1, 53.02 / 51.5 - 1, 53 / 52.52 - 1])
    assert_against_the_benchmark(out, r, b)


def test_an_unknown_benchmark_symbol_is_a_config_error(tmp_path: Path) -> None:
    config = write_project(tmp_path, benchmark="benchmark: ZZZ")
    result = runner.invoke(app, ["backtest", str(config), "--output", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "ZZZ" in result.output
    assert not (tmp_path / "out").exists()


def test_report_rebuilds_metrics_and_report_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "out"
    backtest(write_project(tmp_path), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert b"<svg" in before["report.html"]
    (out / "report.html").unlink()
    (out / "metrics.json").write_text("{}")
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_two_runs_give_byte_identical_folders(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    backtest(config, tmp_path / "a")
    backtest(config, tmp_path / "b")
    a = {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()}
    b = {p.name: p.read_bytes() for p in (tmp_path / "b").iterdir()}
    assert "report.html" in a
    assert a == b


def test_report_of_a_folder_that_is_not_results_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a results folder" in result.output


def test_the_report_draws_the_chosen_symbol_or_the_most_traded_one(tmp_path: Path) -> None:
    backtest(write_project(tmp_path / "a"), tmp_path / "a" / "out")
    page = (tmp_path / "a" / "out" / "report.html").read_text()
    assert "Trades on AAA" in page  # the only symbol with fills
    assert page.count('class="buy"') == 1
    chosen = write_project(tmp_path / "b", benchmark="report: {symbol: BBB}")
    backtest(chosen, tmp_path / "b" / "out")
    page = (tmp_path / "b" / "out" / "report.html").read_text()
    assert "Trades on BBB" in page
    assert 'class="buy"' not in page  # BBB is not traded
    unknown = write_project(tmp_path / "c", benchmark="report: {symbol: ZZZ}")
    result = runner.invoke(app, ["backtest", str(unknown), "--output", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "report.symbol" in result.output


def test_round_trips_add_up_to_each_flat_books_cash_and_to_the_realized_pnl() -> None:
    # The multi-strategy example with a per-share commission. For every (strategy, symbol)
    # flat at the end, its trips' P&L is an independent sum: the cash its fills moved
    # (sales in, buys out, commissions out). Over all trips, P&L plus commissions is the
    # realized P&L of the lots they closed.
    import yaml  # noqa: PLC0415

    from qtrader.analytics import round_trips  # noqa: PLC0415
    from qtrader.cli import run_backtest  # noqa: PLC0415

    examples = Path(__file__).parents[3] / "examples"
    config = yaml.safe_load((examples / "multi_strategy.yaml").read_text())
    config["execution"]["commission"] = {"model": "per_share", "rate": "0.005", "minimum": "1"}
    run = run_backtest(config, base_dir=examples)
    result = run.result
    trips = round_trips(result.ledger)
    assert len(trips) > 50
    last = {(e.strategy_id, e.symbol): e.position_after for e in result.ledger}
    flat = {key for key, after in last.items() if after == 0}
    assert flat
    assert len(flat) < len(last)  # both kinds exist in this run
    for key in flat:
        cash = sum(f.cash_flow for f in result.fills if (f.strategy_id, f.symbol) == key)
        assert sum(t.pnl for t in trips if (t.strategy_id, t.symbol) == key) == cash
    closed = [
        lot
        for entry in result.ledger
        if (entry.strategy_id, entry.symbol) in flat
        for lot in entry.lots_closed
    ]
    flat_trips = [t for t in trips if (t.strategy_id, t.symbol) in flat]
    assert sum(t.pnl + t.commission for t in flat_trips) == sum(lot.realized_pnl for lot in closed)


def test_on_a_split_adjusted_feed_the_benchmark_takes_its_dividends_only(tmp_path: Path) -> None:
    # The same closes read as split-adjusted, with the dividend alone in the actions file:
    # the 01-06 fall of BBB is a real return now (51.5 / 102 - 1), the dividend still counts.
    config = write_project(tmp_path)
    (tmp_path / "actions.csv").write_text("date,symbol,type,value\n2021-01-08,BBB,dividend,0.5\n")
    config.write_text(
        config.read_text().replace("actions: actions.csv", "actions: actions.csv, "
                                   "price_adjustment: split_adjusted")
    )  # fmt: skip
    backtest(config, tmp_path / "out")
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    b = [0.02, 51.5 / 102 - 1, 52 / 51.5 - 1, 53.02 / 52 - 1, 53 / 52.52 - 1]
    assert metrics["benchmark_return"] == pytest.approx(np.prod(1 + np.array(b)) - 1, rel=1e-12)


def test_a_benchmark_without_bars_in_the_window_is_a_config_error(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    lines = (tmp_path / "data" / "BBB.csv").read_text().splitlines()
    (tmp_path / "data" / "BBB.csv").write_text(
        "\n".join([lines[0], lines[1].replace("2021-01-04", "2020-12-31")]) + "\n"
    )
    result = runner.invoke(app, ["backtest", str(config), "--output", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "benchmark: no bars of 'BBB' between 2021-01-04 and 2021-01-11" in result.output


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("equity.csv", "timestamp,cash,equity\n2021-01-04T16:00:00-05:00,1,x\n",
         "equity.csv line 2: equity 'x' is not a number"),
        ("equity.csv", "timestamp,cash,equity\nmonday,1,1\n",
         "equity.csv line 2: 'monday' is not an ISO timestamp"),
        ("ledger.csv", "sequence,type,cash_flow\n1,gift,5\n",
         "ledger.csv line 2: unknown entry type 'gift'"),
        ("trades.csv", None, "trades.csv: cannot read it"),
    ],
)  # fmt: skip
def test_report_names_the_file_and_line_it_cannot_read(
    tmp_path: Path, name: str, text: str | None, expected: str
) -> None:
    out = tmp_path / "out"
    backtest(write_project(tmp_path), out)
    if text is None:
        (out / name).unlink()
    else:
        (out / name).write_text(text)
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 2
    assert expected in " ".join(result.output.split())


def test_every_strategy_of_a_run_is_in_its_metrics_even_without_a_trip(tiny: Path) -> None:
    # buy_and_hold never closes a trip: its strategy.hold.* keys were missing, so a sweep's
    # columns changed from run to run and "--metric strategy.hold.pnl" found no run.
    config = tiny / "config.yaml"
    config.write_text(
        config.read_text().replace(
            "strategy:\n  name: sma_crossover\n  params: {fast: 2, slow: 3, quantity: 100}",
            "strategies:\n  - {id: hold, name: buy_and_hold, params: {quantity: 1}}\n"
            "  - {id: cross, name: sma_crossover, params: {fast: 2, slow: 3, quantity: 100}}",
        )
    )
    out = tiny / "out"
    backtest(config, out)
    metrics = json.loads((out / "metrics.json").read_text())
    assert {k: v for k, v in metrics.items() if k.startswith("strategy.")} == {
        "strategy.cross.num_trades": 1,
        "strategy.cross.pnl": -350.0,  # conftest.py: bought at 11.75, sold at 8.25
        "strategy.hold.num_trades": 0,
        "strategy.hold.pnl": 0.0,
    }
    before = (out / "metrics.json").read_bytes()
    (out / "metrics.json").write_text("{}")
    assert runner.invoke(app, ["report", str(out)]).exit_code == 0
    assert (out / "metrics.json").read_bytes() == before
