"""Write the sample daily bars shipped in examples/data/sample (deterministic).

Seeded geometric random walks with consistent OHLC (low <= open, close <= high),
integer volumes and prices in cents, on weekdays from 2018-01-02 to
2023-12-29. One symbol (DDD) lists late, in 2019, to show a universe whose
members start at different times. Only the standard library is used, and
``random.Random.random`` is stable across Python versions, so the files are
the same byte for byte on every machine:

    python examples/make_sample_data.py [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import random
from datetime import date, timedelta
from pathlib import Path

SYMBOLS = {  # symbol: (seed, first price, daily drift, daily volatility, first day)
    "AAA": (1, 50.0, 0.0004, 0.015, date(2018, 1, 2)),
    "BBB": (2, 120.0, 0.0002, 0.020, date(2018, 1, 2)),
    "CCC": (3, 25.0, -0.0001, 0.025, date(2018, 1, 2)),
    "DDD": (4, 80.0, 0.0003, 0.018, date(2019, 7, 1)),
}
LAST_DAY = date(2023, 12, 29)


def _normal(rng: random.Random) -> float:
    # Box-Muller on random() alone: stable across Python versions.
    u1 = 1.0 - rng.random()
    u2 = rng.random()
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def weekdays(first: date, last: date) -> list[date]:
    days, day = [], first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def series(seed: int, price: float, drift: float, vol: float, first: date) -> str:
    rng = random.Random(seed)
    lines = ["date,open,high,low,close,volume"]
    close = price
    for day in weekdays(first, LAST_DAY):
        open_ = close * math.exp(vol * 0.3 * _normal(rng))
        close = open_ * math.exp(drift + vol * _normal(rng))
        high = max(open_, close) * (1.0 + abs(_normal(rng)) * vol * 0.4)
        low = min(open_, close) * (1.0 - abs(_normal(rng)) * vol * 0.4)
        o, h, lo, c = (round(x, 2) for x in (open_, high, low, close))
        h, lo = max(h, o, c), min(lo, o, c)  # rounding must not break the bar
        volume = int(1_000_000 * math.exp(0.3 * _normal(rng)))
        lines.append(f"{day.isoformat()},{o:.2f},{h:.2f},{lo:.2f},{c:.2f},{volume}")
        close = c
    return "\n".join(lines) + "\n"


def write(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for symbol, params in SYMBOLS.items():
        path = out / f"{symbol}.csv"
        path.write_text(series(*params), encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parent / "data" / "sample"
    parser.add_argument("--out", type=Path, default=default, help="output folder")
    for path in write(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    main()
