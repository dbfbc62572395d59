"""`bollinger_mean_reversion` and `monthly_rebalance` end to end, on tiny datasets whose fills
are worked out by hand below (independently of the strategies' code)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from typer.testing import CliRunner

from qtrader.cli.main import app

runner = CliRunner()


def weekdays(first: date, n: int) -> list[date]:
    days, day = [], first
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def write_csv(path: Path, rows: list[tuple[date, float, float]]) -> None:
    """Daily rows (day, open, close); high and low 0.5 beyond them, volume 1,000."""
    lines = ["date,open,high,low,close,volume"]
    for day, open_, close in rows:
        high, low = max(open_, close) + 0.5, min(open_, close) - 0.5
        lines.append(f"{day.isoformat()},{open_},{high},{low},{close},1000")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(folder: Path, strategy: str, params: str, symbols: list[str], days: list[date]) -> Path:
    (folder / "config.yaml").write_text(
        f"""
start: {days[0]}
end: {days[-1]}
initial_cash: {CASH}
data: {{source: csv, path: data, symbols: [{", ".join(symbols)}]}}
strategy: {{name: {strategy}, params: {params}}}
execution: {{slippage: {{model: none}}, commission: {{model: none}}}}
""",
        encoding="utf-8",
    )
    out = folder / "out"
    result = runner.invoke(app, ["backtest", str(folder / "config.yaml"), "--output", str(out)])
    assert result.exit_code == 0, result.output
    return out


def fills(out: Path) -> list[list[str]]:
    return [line.split(",")[:5] for line in (out / "fills.csv").read_text().splitlines()[1:]]


CASH = 10000

# Bollinger(window 3, k 1, quantity 10), one symbol AAA; open = close except where noted.
#  day close  window     mean   population sd            lower = mean - sd  decision (close)
#   1   10
#   2   10
#   3   10    10 10 10   10     0                        10      10 < 10? no
#   4    7    10 10 7    9      sqrt((1+1+4)/3) = 1.414  7.586   flat, 7 < 7.586: buy 10
#   5    8    10 7 8     8.333                                   long, 8 > 8.333? no
#        (fill: open 7.5)
#   6    9    7 8 9      8                                       long, 9 > 8: sell
#   7    9    8 9 9      8.667  sqrt((.444+.111+.111)/3)  8.195  flat, 9 < 8.195? no
#        (fill: open 9.5)       = 0.471
#   8    6    9 9 6      8      1.414                    6.586   flat, 6 < 6.586: buy 10
#   9    6    9 6 6      7                                       long, 6 > 7? no
#        (fill: open 6.5)
#  10    7    6 6 7      6.333                                   long, 7 > 6.333: sell
#  11    7    (fill: open 7.25)
BOLLINGER_CLOSES = [10, 10, 10, 7, 8, 9, 9, 6, 6, 7, 7]
BOLLINGER_OPENS = {5: 7.5, 7: 9.5, 9: 6.5, 11: 7.25}


def test_bollinger_mean_reversion_fills_are_the_hand_worked_ones(tmp_path: Path) -> None:
    days = weekdays(date(2024, 1, 2), len(BOLLINGER_CLOSES))
    (tmp_path / "data").mkdir()
    write_csv(
        tmp_path / "data" / "AAA.csv",
        [
            (d, float(BOLLINGER_OPENS.get(i + 1, c)), float(c))
            for i, (d, c) in enumerate(zip(days, BOLLINGER_CLOSES, strict=True))
        ],
    )
    out = run(
        tmp_path, "bollinger_mean_reversion", "{window: 3, k: 1, quantity: 10}", ["AAA"], days
    )
    assert fills(out) == [
        [f"{days[4]}T09:30:00-05:00", "AAA", "buy", "10", "7.5"],
        [f"{days[6]}T09:30:00-05:00", "AAA", "sell", "10", "9.5"],
        [f"{days[8]}T09:30:00-05:00", "AAA", "buy", "10", "6.5"],
        [f"{days[10]}T09:30:00-05:00", "AAA", "sell", "10", "7.25"],
    ]
    # 10,000 - 75 + 95 - 65 + 72.5
    assert (out / "equity.csv").read_text().splitlines()[-1].endswith(",10027.5,10027.5")


# monthly_rebalance(invested 0.95), AAA and BBB, 2024-01-30 (Tue) to 2024-02-05 (Mon):
#  01-30  closes AAA 10, BBB 20; first bar of the run: equity 10,000, each symbol targets
#         0.475 x 10,000 = 4,750: AAA 4,750 / 10 = 475 shares, BBB 4,750 / 20 = 237.5 -> 237
#  01-31  fills at the opens AAA 10.2, BBB 19.8: cash 10,000 - 4,845 - 4,692.6 = 462.4;
#         closes AAA 10.5, BBB 20; still January: nothing
#  02-01  first session of February; closes AAA 11, BBB 19: equity 462.4 + 475 x 11 +
#         237 x 19 = 10,190.4; target 0.475 x 10,190.4 = 4,840.44: AAA 4,840.44 / 11 =
#         440.04 -> 440 (sell 35), BBB 4,840.44 / 19 = 254.76 -> 254 (buy 17)
#  02-02  fills at the opens AAA 11.1, BBB 18.9: cash 462.4 + 388.5 - 321.3 = 529.6
#  02-05  February again: nothing. Equity at the closes AAA 11.1, BBB 18.9:
#         529.6 + 440 x 11.1 + 254 x 18.9 = 529.6 + 4,884 + 4,800.6 = 10,214.2
MONTHLY = {  # day -> (AAA open, AAA close, BBB open, BBB close)
    date(2024, 1, 30): (10, 10, 20, 20),
    date(2024, 1, 31): (10.2, 10.5, 19.8, 20),
    date(2024, 2, 1): (10.5, 11, 20, 19),
    date(2024, 2, 2): (11.1, 11.1, 18.9, 18.9),
    date(2024, 2, 5): (11.1, 11.1, 18.9, 18.9),
}


def test_monthly_rebalance_fills_are_the_hand_worked_ones(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    days = list(MONTHLY)
    write_csv(tmp_path / "data" / "AAA.csv", [(d, v[0], v[1]) for d, v in MONTHLY.items()])
    write_csv(tmp_path / "data" / "BBB.csv", [(d, v[2], v[3]) for d, v in MONTHLY.items()])
    out = run(tmp_path, "monthly_rebalance", "{invested: 0.95}", ["AAA", "BBB"], days)
    assert fills(out) == [
        ["2024-01-31T09:30:00-05:00", "AAA", "buy", "475", "10.2"],
        ["2024-01-31T09:30:00-05:00", "BBB", "buy", "237", "19.8"],
        ["2024-02-02T09:30:00-05:00", "AAA", "sell", "35", "11.1"],
        ["2024-02-02T09:30:00-05:00", "BBB", "buy", "17", "18.9"],
    ]
    assert (out / "equity.csv").read_text().splitlines()[-1].endswith(",529.6,10214.2")
