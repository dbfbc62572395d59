"""The shipped examples: sample data reproducible, every example config runs."""

from __future__ import annotations

import csv
import json
import runpy
import sys
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qtrader.cli.main import app

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
runner = CliRunner()


def test_the_sample_data_script_reproduces_the_shipped_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["make_sample_data.py", "--out", str(tmp_path)])
    runpy.run_path(str(EXAMPLES / "make_sample_data.py"), run_name="__main__")
    shipped = sorted((EXAMPLES / "data").glob("*/*.csv"))
    assert [p.relative_to(EXAMPLES / "data").as_posix() for p in shipped] == [
        "algoseek/us_equity_daily_2018_2023.csv",
        "sample/AAA.csv",
        "sample/BBB.csv",
        "sample/CCC.csv",
        "sample/DDD.csv",
    ]
    for path in shipped:
        copy = tmp_path / path.relative_to(EXAMPLES / "data")
        assert copy.read_bytes() == path.read_bytes(), path.name


@pytest.mark.parametrize("config", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_config_runs(config: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["backtest", str(config), "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["num_fills"] > 0
    equity = (tmp_path / "equity.csv").read_text().splitlines()
    assert equity[1].startswith("2019-01-02T16:00:00-05:00")
    assert equity[-1].startswith("2023-12-29T16:00:00-05:00")


def test_buy_and_hold_example_buys_each_symbol_once_at_its_next_open(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["backtest", str(EXAMPLES / "buy_and_hold.yaml"), "--output", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    fills = [line.split(",") for line in (tmp_path / "fills.csv").read_text().splitlines()[1:]]
    # AAA, BBB, CCC decided on 2019-01-02, filled at the 2019-01-03 open; DDD lists on
    # 2019-07-01, so it is decided then and filled on 2019-07-02.
    assert [(f[1], f[0][:10], f[2], f[3]) for f in fills] == [
        ("AAA", "2019-01-03", "buy", "100"),
        ("BBB", "2019-01-03", "buy", "100"),
        ("CCC", "2019-01-03", "buy", "100"),
        ("DDD", "2019-07-02", "buy", "100"),
    ]
    opens = {}
    for symbol, day in (("AAA", "2019-01-03"), ("DDD", "2019-07-02")):
        rows = (EXAMPLES / "data" / "sample" / f"{symbol}.csv").read_text().splitlines()
        opens[symbol] = next(r.split(",")[1] for r in rows if r.startswith(day))
    prices = {f[1]: f[4] for f in fills}
    assert float(prices["AAA"]) == float(opens["AAA"])
    assert float(prices["DDD"]) == float(opens["DDD"])


def test_algoseek_example_applies_the_split_and_every_dividend(tmp_path: Path) -> None:
    # Worked from the vendor file independently of the adapter: 100 EEE bought at the
    # 2019-01-03 open; from the 2020-08-31 split on, 400 shares; each CashDiv row pays
    # round((1 - factor) x previous close, 4) per share held at the previous close.
    result = runner.invoke(
        app,
        ["backtest", str(EXAMPLES / "algoseek_buy_and_hold.yaml"), "--output", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    (vendor_file,) = (EXAMPLES / "data" / "algoseek").glob("*.csv")
    rows = list(csv.DictReader(vendor_file.read_text().splitlines()))
    by_day = {r["TradeDate"][:10]: r for r in rows}
    cash = Decimal(100_000) - 100 * Decimal(by_day["2019-01-03"]["Open"])
    shares = Decimal(100)
    previous_close = None
    for row in rows:
        day = row["TradeDate"][:10]
        if row["AdjustmentReason"] == "Subdiv" and day > "2019-01-03":
            shares *= 4
        if row["AdjustmentReason"] == "CashDiv" and day > "2019-01-03":
            owed = (1 - Decimal(row["AdjustmentFactor"])) * Decimal(previous_close or "0")
            cash += shares * owed.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        previous_close = row["Close"]
    equity = (tmp_path / "equity.csv").read_text().splitlines()
    last_cash, last_equity = (Decimal(x) for x in equity[-1].split(",")[1:3])
    assert shares == 400
    assert last_cash == cash
    assert last_equity == cash + shares * Decimal(rows[-1]["Close"])


def crossover_fills(
    rows: list[dict[str, str]], start: str, end: str, fast: int, slow: int, quantity: int
) -> list[tuple[str, str, int, Decimal]]:
    """SMA crossover fills of one symbol, in exact fractions (independent of the engine):
    (day, side, quantity, price). Bars before ``start`` only feed the averages."""
    closes = [Fraction(r["close"]) for r in rows]
    days = [r["date"] for r in rows]

    def sma(t: int, n: int) -> Fraction | None:
        return sum(closes[t - n + 1 : t + 1], Fraction(0)) / n if t + 1 >= n else None

    held, result = 0, []
    for t in range(1, len(rows) - 1):  # a decision on the last bar never fills
        if not start <= days[t] <= end or days[t + 1] > end:
            continue
        before = (sma(t - 1, fast), sma(t - 1, slow))
        now = (sma(t, fast), sma(t, slow))
        if before[1] is None or before[0] is None or now[0] is None or now[1] is None:
            continue
        target = held
        if before[0] < before[1] and now[0] > now[1]:
            target = quantity
        elif before[0] > before[1] and now[0] < now[1]:
            target = 0
        if target != held:
            side = "buy" if target > held else "sell"
            result.append((days[t + 1], side, abs(target - held), Decimal(rows[t + 1]["open"])))
            held = target
    return result


def test_multi_strategy_example_fills_and_cash_are_those_of_an_exact_replay(
    tmp_path: Path,
) -> None:
    # Both strategies replayed symbol by symbol in exact fractions from the sample files:
    # fast_cross SMA(5)/SMA(20) x 100 and slow_cross SMA(20)/SMA(50) x 200, 2019-2023,
    # with the 2018 bars as warmup; market orders at the next open, no costs.
    result = runner.invoke(
        app, ["backtest", str(EXAMPLES / "multi_strategy.yaml"), "--output", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    expected = []
    cash = Decimal(1_000_000)
    held: dict[str, int] = {}
    last_close: dict[str, Decimal] = {}
    for symbol in ("AAA", "BBB", "CCC", "DDD"):
        text = (EXAMPLES / "data" / "sample" / f"{symbol}.csv").read_text()
        rows = list(csv.DictReader(text.splitlines()))
        last_close[symbol] = Decimal(rows[-1]["close"])
        for sid, fast, slow, quantity in (("fast_cross", 5, 20, 100), ("slow_cross", 20, 50, 200)):
            for day, side, qty, price in crossover_fills(
                rows, "2019-01-02", "2023-12-29", fast, slow, quantity
            ):
                expected.append((day, symbol, sid, side, qty, price))
                sign = 1 if side == "buy" else -1
                cash -= sign * qty * price
                held[symbol] = held.get(symbol, 0) + sign * qty
    with (tmp_path / "fills.csv").open() as file:
        got = [
            (r["timestamp"][:10], r["symbol"], r["strategy_id"], r["side"], int(r["quantity"]),
             Decimal(r["price"]))
            for r in csv.DictReader(file)
        ]  # fmt: skip
    assert sorted(got) == sorted(expected)
    assert len(expected) > 100  # both strategies trade every symbol many times
    equity = (tmp_path / "equity.csv").read_text().splitlines()
    last_cash, last_equity = (Decimal(x) for x in equity[-1].split(",")[1:3])
    assert last_cash == cash
    assert last_equity == cash + sum(held[s] * last_close[s] for s in held)
