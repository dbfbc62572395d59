"""A tiny dataset whose SMA(2)/SMA(3) crossover fills are worked out by hand.

AAA, 13 weekdays from 2024-01-02; open = close except where noted.

 day  date        close  sma2   sma3    signal at the close (fast vs slow, strict)
  1   01-02 Tue   10     -      -
  2   01-03       10     10     -
  3   01-04       10     10     10
  4   01-05        9     9.5    9.667   t-1 had 10 = 10: a tie is no cross
  5   01-08        8     8.5    9
  6   01-09        9     8.5    8.667
  7   01-10       11     10     9.333   8.5<8.667 then 10>9.333: cross above -> buy 100
  8   01-11       12     11.5   10.667  fill: open 11.75
  9   01-12       11     11.5   11.333
 10   01-15        9     10     10.667  11.5>11.333 then 10<10.667: cross below -> sell 100
 11   01-16        8     8.5    9.333   fill: open 8.25
 12   01-17        7     7.5    8
 13   01-18       10     8.5    8.333   7.5<8 then 8.5>8.333: cross above on the last bar:
                                        the order never fills

Cash 10,000. Day 8: cash 10,000 - 100 x 11.75 = 8,825, equity 8,825 + 1,200 = 10,025;
day 9: 8,825 + 1,100 = 9,925; day 10: 8,825 + 900 = 9,725; day 11: cash 8,825 + 825 =
9,650 = equity, to the end.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

CLOSES = [10, 10, 10, 9, 8, 9, 11, 12, 11, 9, 8, 7, 10]
OPENS = {8: 11.75, 11: 8.25}  # 1-based day -> open


def weekdays(first: date, n: int) -> list[date]:
    days, day = [], first
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


DAYS = weekdays(date(2024, 1, 2), len(CLOSES))


def write_csv(path: Path, rows: list[tuple[date, float, float]]) -> None:
    lines = ["date,open,high,low,close,volume"]
    for day, open_, close in rows:
        high, low = max(open_, close) + 0.5, min(open_, close) - 0.5
        lines.append(f"{day.isoformat()},{open_},{high},{low},{close},1000")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A folder with data/AAA.csv and config.yaml for sma_crossover(2, 3, 100)."""
    data = tmp_path / "data"
    data.mkdir()
    write_csv(
        data / "AAA.csv",
        [
            (d, float(OPENS.get(i + 1, c)), float(c))
            for i, (d, c) in enumerate(zip(DAYS, CLOSES, strict=True))
        ],
    )
    (tmp_path / "config.yaml").write_text(
        f"""
start: {DAYS[0]}
end: {DAYS[-1]}
initial_cash: 10000
data:
  source: csv
  path: data
  symbols: [AAA]
strategy:
  name: sma_crossover
  params: {{fast: 2, slow: 3, quantity: 100}}
execution:
  slippage: {{model: none}}
  commission: {{model: none}}
""",
        encoding="utf-8",
    )
    return tmp_path


@pytest.fixture
def tiny_closes() -> tuple[list[date], list[int]]:
    """The days and closes of the hand-worked dataset above."""
    return DAYS, CLOSES
