"""Unadjusted data with its corporate actions, end to end through the `qtrader` command.

AAA as traded around a 4-for-1 split (ex 2020-08-31) and a 0.205 dividend (ex 2020-09-01),
buy and hold 100 shares, 100,000 cash, no costs. Worked by hand:

 day         open   close   what happens                                cash      equity
 08-26 Wed   500    500     buy 100 decided at the close                100,000   100,000
 08-27 Thu   502    504     fill 100 @ 502: cash 100,000 - 50,200        49,800   100,200
 08-28 Fri   505    508                                                  49,800   100,600
 08-31 Mon   127    129     split: 400 shares, cost 50,200 kept          49,800   101,400
 09-01 Tue   130    131     dividend 400 x 0.205 = 82 (held at 08-31)    49,882   102,282
 09-02 Wed   130    130.5                                                49,882   102,082

Without the actions file the same prices would show 100 x 127 on 08-31: a "loss" of 38,100.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from qtrader.cli.bootstrap import bootstrap
from qtrader.cli.config import load_config
from qtrader.cli.main import app

runner = CliRunner()
ROWS = [
    ("2020-08-26", 500, 500),
    ("2020-08-27", 502, 504),
    ("2020-08-28", 505, 508),
    ("2020-08-31", 127, 129),
    ("2020-09-01", 130, 131),
    ("2020-09-02", 130, 130.5),
]


def write_case(
    folder: Path,
    *,
    strategy: str,
    actions: str | None,
    rows: list[tuple[str, float, float]] = ROWS,
) -> Path:
    data = folder / "data"
    data.mkdir(parents=True)
    lines = ["date,open,high,low,close,volume"]
    for day, open_, close in rows:
        lines.append(f"{day},{open_},{max(open_, close) + 1},{min(open_, close) - 1},{close},1000")
    (data / "AAA.csv").write_text("\n".join(lines) + "\n")
    if actions is not None:
        (folder / "actions.csv").write_text("date,symbol,type,value\n" + actions)
    config = folder / "config.yaml"
    config.write_text(
        f"""
start: {rows[0][0]}
end: {rows[-1][0]}
initial_cash: 100000
data:
  source: csv
  path: data
  symbols: [AAA]
{"  actions: actions.csv" if actions is not None else ""}
strategy: {strategy}
"""
    )
    return config


BUY_AND_HOLD = "{name: buy_and_hold, params: {quantity: 100}}"
ACTIONS = "2020-08-31,AAA,split,4\n2020-09-01,AAA,dividend,0.205\n"


def test_buy_and_hold_across_a_split_and_a_dividend_to_the_cent(tmp_path: Path) -> None:
    config = write_case(tmp_path, strategy=BUY_AND_HOLD, actions=ACTIONS)
    result = runner.invoke(app, ["backtest", str(config), "--output", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output  # the 508 -> 127 gap is a recorded split
    equity = (tmp_path / "out" / "equity.csv").read_text().splitlines()
    assert [tuple(row.split(",")[1:]) for row in equity[1:]] == [
        ("100000", "100000"),
        ("49800", "100200"),
        ("49800", "100600"),
        ("49800", "101400"),
        ("49882", "102282"),
        ("49882", "102082"),
    ]
    backtest = bootstrap(load_config(config), tmp_path)
    (position,) = backtest.engine.run().final_state.positions
    assert (position.symbol, position.quantity) == ("AAA", Decimal(400))
    assert position.quantity * position.average_price == Decimal(50_200)


def test_without_the_actions_the_split_is_reported_not_silent(tmp_path: Path) -> None:
    config = write_case(tmp_path, strategy=BUY_AND_HOLD, actions=None)
    result = runner.invoke(app, ["backtest", str(config)])
    assert result.exit_code == 0, result.output
    assert "unrecorded 4-for-1 split" in result.output


def test_sma_crossover_does_not_trade_on_a_split(tmp_path: Path) -> None:
    # Closes as traded: 100..104, then 105/4 = 26.25, 26.5, 26.75, 27 after a 4-for-1 split.
    # Split-adjusted as of each bar this is one straight rising line (25, 25.25, ..., 27), on
    # which SMA(2) stays above SMA(3): never a cross. Unadjusted, the split day would look like
    # a crash (fast 65.125 < slow 77.75) and three bars later a "cross above" would buy.
    closes = [100.0, 101.0, 102.0, 103.0, 104.0, 26.25, 26.5, 26.75, 27.0]
    days = ["2020-08-24", "2020-08-25", "2020-08-26", "2020-08-27", "2020-08-28", "2020-08-31",
            "2020-09-01", "2020-09-02", "2020-09-03"]  # fmt: skip
    rows = [(d, c, c) for d, c in zip(days, closes, strict=True)]
    strategy = "{name: sma_crossover, params: {fast: 2, slow: 3, quantity: 10}}"
    for actions, fills in (("2020-08-31,AAA,split,4\n", 0), (None, 1)):
        folder = tmp_path / ("with" if actions else "without")
        config = write_case(folder, strategy=strategy, actions=actions, rows=rows)
        out = folder / "out"
        result = runner.invoke(app, ["backtest", str(config), "--output", str(out)])
        assert result.exit_code == 0, result.output
        assert len((out / "fills.csv").read_text().splitlines()) - 1 == fills


SELL_AFTER_SPLIT = """\
from qtrader.models import BaseStrategy


class BuyThenSellAll(BaseStrategy):
    def on_bar(self, ctx):
        day = ctx.timestamp.date().isoformat()
        if day == "2020-08-26":
            ctx.buy("AAA", 100)
        elif day == "2020-08-31":
            ctx.sell("AAA", 400)  # all of it, in post-split shares
"""


def test_a_trip_across_a_split_is_one_trip_matching_the_portfolio(tmp_path: Path) -> None:
    # Bought 100 at 502 (08-27 open), 4-for-1 on 08-31, sold 400 at the 09-01 open of 130:
    # one long trip of 400 from 502 / 4 = 125.5 to 130: 400 x 4.5 = +1,800 = the
    # portfolio's realized P&L (cash 49,800 + 52,000 + the 82 dividend = 101,882, minus
    # the 100,000 start and the dividend: 1,800). Before: -36,200 and a phantom short.
    (tmp_path / "sell.py").write_text(SELL_AFTER_SPLIT)
    config = write_case(tmp_path, strategy="{name: 'sell.py:BuyThenSellAll'}", actions=ACTIONS)
    result = runner.invoke(app, ["backtest", str(config), "--output", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    (row,) = csv.DictReader((tmp_path / "out" / "trades.csv").read_text().splitlines())
    assert (row["direction"], row["quantity"], row["entry_price"], row["exit_price"]) == (
        "long", "400", "125.5", "130")  # fmt: skip
    assert row["pnl"] == "1800"
    equity = (tmp_path / "out" / "equity.csv").read_text().splitlines()
    assert equity[-1].split(",")[1:] == ["101882", "101882"]


BUY_ON_THE_EX_DATE = """\
from qtrader.models import BaseStrategy


class BuyTwice(BaseStrategy):
    def on_bar(self, ctx):
        day = ctx.timestamp.date().isoformat()
        if day == "2020-08-26":
            ctx.buy("AAA", 100)  # filled 08-27 at 502
        elif day == "2020-08-28":
            ctx.buy("AAA", 10)  # filled 08-31 (the ex-date): 40 post-split shares at 127
"""


def test_the_ledger_never_goes_back_in_time_on_an_ex_date(tmp_path: Path) -> None:
    # The split of 08-31 is booked before that day's 09:30 fill (the fill is of post-split
    # shares), so it is stamped at the bar's opening, not at its 16:00 close: stamped at the
    # close it came before a fill stamped 6.5 hours earlier.
    (tmp_path / "buy.py").write_text(BUY_ON_THE_EX_DATE)
    config = write_case(tmp_path, strategy="{name: 'buy.py:BuyTwice'}", actions=ACTIONS)
    result = runner.invoke(app, ["backtest", str(config), "--output", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "out" / "ledger.csv").read_text().splitlines()))
    assert [(row["type"], row["timestamp"], row["position_after"]) for row in rows] == [
        ("fill", "2020-08-27T09:30:00-04:00", "100"),
        ("split", "2020-08-31T09:30:00-04:00", "400"),
        ("fill", "2020-08-31T09:30:00-04:00", "440"),
        ("dividend", "2020-09-01T09:30:00-04:00", "440"),
    ]


SELL_ACROSS_A_SPLIT = """\
from qtrader.models import BaseStrategy


class SellAcross(BaseStrategy):
    def on_bar(self, ctx):
        day = ctx.timestamp.date().isoformat()
        if day == "2020-08-26":
            ctx.buy("AAA", 100)  # 100 at 502 on 08-27
        elif day == "2020-08-27":
            ctx.sell("AAA", 50)  # 50 at 505 on 08-28, before the split
        elif day == "2020-08-31":
            ctx.sell("AAA", 200)  # the 50 left are 200 after the 4-for-1: at 130 on 09-01
"""


def test_a_trip_closed_partly_before_a_split_counts_post_split_shares(tmp_path: Path) -> None:
    # 50 sold before the split are 200 post-split shares: one trip of 400 at 502 / 4 =
    # 125.5, out at (50 x 505 + 200 x 130) / 400 = 128.125, P&L 50 x 3 + 200 x 4.5 = 1050.
    # It was a trip of 250 "shares" (50 + 200 added as if alike) at 200.8 and 205.
    (tmp_path / "sell.py").write_text(SELL_ACROSS_A_SPLIT)
    config = write_case(tmp_path, strategy="{name: 'sell.py:SellAcross'}", actions=ACTIONS)
    result = runner.invoke(app, ["backtest", str(config), "--output", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    (row,) = csv.DictReader((tmp_path / "out" / "trades.csv").read_text().splitlines())
    assert (row["quantity"], row["entry_price"], row["exit_price"], row["pnl"]) == (
        "400", "125.5", "128.125", "1050")  # fmt: skip
