"""Write the sample daily bars shipped in examples/data (deterministic).

Seeded geometric random walks with consistent OHLC (low <= open, close <= high),
integer volumes and prices in cents, on weekdays from 2018-01-02 to
2023-12-29. One symbol (DDD) lists late, in 2019, to show a universe whose
members start at different times. ``data/algoseek`` holds one more symbol, EEE,
in the Algoseek daily format, as traded: a 4-for-1 split (ex 2020-08-31) and a
quarterly cash dividend, with the vendor's factor columns. Only the standard
library is used, and ``random.Random.random`` is stable across Python versions,
so the files are the same byte for byte on every machine:

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


Bar = tuple[date, float, float, float, float, int]


def walk(
    seed: int, price: float, drift: float, vol: float, first: date, split: tuple[date, int] | None
) -> list[Bar]:
    """(day, open, high, low, close, volume) in cents; a split divides prices from its day on."""
    rng = random.Random(seed)
    bars = []
    close = price
    for day in weekdays(first, LAST_DAY):
        if split is not None and day == split[0]:
            close /= split[1]
        open_ = close * math.exp(vol * 0.3 * _normal(rng))
        close = open_ * math.exp(drift + vol * _normal(rng))
        high = max(open_, close) * (1.0 + abs(_normal(rng)) * vol * 0.4)
        low = min(open_, close) * (1.0 - abs(_normal(rng)) * vol * 0.4)
        o, h, lo, c = (round(x, 2) for x in (open_, high, low, close))
        h, lo = max(h, o, c), min(lo, o, c)  # rounding must not break the bar
        volume = int(1_000_000 * math.exp(0.3 * _normal(rng)))
        if split is not None and day >= split[0]:
            volume *= split[1]  # four times the shares trade after a 4-for-1 split
        bars.append((day, o, h, lo, c, volume))
        close = c
    return bars


def series(seed: int, price: float, drift: float, vol: float, first: date) -> str:
    lines = ["date,open,high,low,close,volume"]
    for day, o, h, lo, c, volume in walk(seed, price, drift, vol, first, None):
        lines.append(f"{day.isoformat()},{o:.2f},{h:.2f},{lo:.2f},{c:.2f},{volume}")
    return "\n".join(lines) + "\n"


# Algoseek daily format: unadjusted prices plus the vendor's factor columns.
ALGOSEEK_HEADER = (
    "TradeDate,Ticker,Open,High,Low,Close,MarketHoursVolume,CumulativePriceFactor,"
    "CumulativeVolumeFactor,AdjustmentFactor,AdjustmentReason,SecId"
)
EEE_SPLIT = (date(2020, 8, 31), 4)
EEE_DIVIDEND = 0.25  # per share before the split, 0.0625 after: paid quarterly
EEE_EX_DATES = {date(y, m, 15) for y in range(2018, 2024) for m in (2, 5, 8, 11)}


def algoseek_series() -> str:
    bars = walk(5, 200.0, 0.0004, 0.016, date(2018, 1, 2), EEE_SPLIT)
    lines = [ALGOSEEK_HEADER]
    price_factor, volume_factor = 1.0, 1.0
    pending = sorted(EEE_EX_DATES)
    previous_close = None
    for day, o, h, lo, c, volume in bars:
        factor, reason = "", ""
        if day == EEE_SPLIT[0]:
            factor, reason = repr(1 / EEE_SPLIT[1]), "Subdiv"
            price_factor *= EEE_SPLIT[1]
            volume_factor *= EEE_SPLIT[1]
        elif pending and day >= pending[0] and previous_close is not None:
            pending.pop(0)  # an ex-date on a weekend goes to the next session
            per_share = EEE_DIVIDEND / (EEE_SPLIT[1] if day > EEE_SPLIT[0] else 1)
            adjustment = 1 - per_share / previous_close
            factor, reason = repr(adjustment), "CashDiv"
            price_factor /= adjustment
        lines.append(
            f"{day.isoformat()} 00:00:00,EEE,{o},{h},{lo},{c},{volume},{price_factor!r},"
            f"{volume_factor!r},{factor},{reason},90001"
        )
        previous_close = c
    return "\n".join(lines) + "\n"


def write(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for symbol, params in SYMBOLS.items():
        path = out / f"{symbol}.csv"
        path.write_text(series(*params), encoding="utf-8")
        written.append(path)
    return written


def write_algoseek(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "us_equity_daily_2018_2023.csv"  # any name: files are indexed by content
    path.write_text(algoseek_series(), encoding="utf-8")
    return [path]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parent / "data"
    parser.add_argument("--out", type=Path, default=default, help="output folder")
    out = parser.parse_args().out
    for path in [*write(out / "sample"), *write_algoseek(out / "algoseek")]:
        print(path)


if __name__ == "__main__":
    main()
