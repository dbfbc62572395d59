"""Deterministic synthetic daily OHLCV: N symbols x M business days.

Each symbol is a seeded geometric random walk of its own (its generator is seeded with
``(seed, symbol index)``, so ``S0003`` is the same series at every number of symbols).
Prices are held as integer micro-units (6 decimals) and the closes are nudged by one
micro-unit wherever SMA(fast) would equal SMA(slow) exactly, so that no library's rounding
can turn a tie into a cross: ``fast == slow`` iff ``slow * sum(fast closes) ==
fast * sum(slow closes)``, which is checked in exact integer arithmetic.

Files: one ``SYMBOL.csv`` per symbol with ``date,open,high,low,close,volume`` (the format of
QTrader's ``source: csv``), plus ``manifest.json``, written last, that marks a complete set.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

GENERATOR_VERSION = 1
MICRO = 1_000_000
FIRST_DAY = date(2000, 1, 3)
FAST, SLOW = 10, 30

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Size:
    """A benchmark size: ``symbols`` x ``days`` daily bars."""

    symbols: int
    days: int

    @property
    def bars(self) -> int:
        return self.symbols * self.days

    @property
    def label(self) -> str:
        return f"{self.symbols}x{self.days}"

    @classmethod
    def parse(cls, text: str) -> Size:
        """``"100x5000"`` -> ``Size(100, 5000)``."""
        parts = text.strip().lower().split("x")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise ValueError(f"size {text!r}: expected SYMBOLSxDAYS, e.g. 100x5000")
        symbols, days = int(parts[0]), int(parts[1])
        if symbols < 1 or days < SLOW + 2:
            raise ValueError(f"size {text!r}: need at least 1 symbol and {SLOW + 2} days")
        return cls(symbols, days)


@dataclass(frozen=True)
class Series:
    """One symbol's bars; prices in integer micro-units."""

    symbol: str
    open: IntArray
    high: IntArray
    low: IntArray
    close: IntArray
    volume: IntArray


def symbol_names(count: int) -> list[str]:
    return [f"S{i:04d}" for i in range(count)]


def business_days(count: int, first: date = FIRST_DAY) -> list[date]:
    """``count`` consecutive weekdays from ``first`` (no holiday calendar)."""
    days: list[date] = []
    day = first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def tie_gaps(close: IntArray, fast: int = FAST, slow: int = SLOW) -> IntArray:
    """``slow * sum(last fast closes) - fast * sum(last slow closes)`` at each bar from
    ``slow - 1`` on, exactly (its sign is the sign of SMA(fast) - SMA(slow))."""
    csum = np.concatenate(([0], np.cumsum(close, dtype=np.int64)))
    n = len(close)
    ends = np.arange(slow, n + 1)
    fast_sum = csum[ends] - csum[ends - fast]
    slow_sum = csum[ends] - csum[ends - slow]
    gaps: IntArray = slow * fast_sum - fast * slow_sum
    return gaps


def remove_ties(close: IntArray, fast: int = FAST, slow: int = SLOW) -> IntArray:
    """Nudge closes up by one micro-unit where the averages would tie, until none do."""
    close = close.copy()
    while True:
        ties = np.flatnonzero(tie_gaps(close, fast, slow) == 0)
        if len(ties) == 0:
            return close
        close[ties[0] + slow - 1] += 1


def generate_series(index: int, days: int, seed: int) -> Series:
    rng = np.random.default_rng([seed, index])
    start = 10.0 + 10.0 * rng.random()
    steps = rng.normal(0.0, 0.012, size=days)
    gaps = rng.normal(0.0, 0.004, size=days)
    wicks = np.abs(rng.normal(0.0, 0.005, size=(days, 2)))
    close_f = start * np.exp(np.cumsum(steps))
    prev = np.concatenate(([start], close_f[:-1]))
    open_f = prev * np.exp(gaps)
    close = remove_ties(np.round(close_f * MICRO).astype(np.int64))
    open_ = np.round(open_f * MICRO).astype(np.int64)
    top = np.maximum(open_, close)
    bottom = np.minimum(open_, close)
    high = np.maximum(np.round(top * (1.0 + wicks[:, 0])).astype(np.int64), top)
    low = np.minimum(np.round(bottom * (1.0 - wicks[:, 1])).astype(np.int64), bottom)
    low = np.maximum(low, 1)
    volume = rng.integers(100_000, 2_000_000, size=days, dtype=np.int64)
    return Series(f"S{index:04d}", open_, high, low, close, volume)


def micro_text(value: int) -> str:
    return f"{value // MICRO}.{value % MICRO:06d}"


def series_csv(series: Series, days: Sequence[date]) -> str:
    lines = ["date,open,high,low,close,volume"]
    lines += [
        f"{d.isoformat()},{micro_text(o)},{micro_text(h)},{micro_text(lo)},{micro_text(c)},{v}"
        for d, o, h, lo, c, v in zip(
            days,
            series.open.tolist(),
            series.high.tolist(),
            series.low.tolist(),
            series.close.tolist(),
            series.volume.tolist(),
            strict=True,
        )
    ]
    return "\n".join(lines) + "\n"


def manifest(size: Size, seed: int) -> dict[str, object]:
    days = business_days(size.days)
    return {
        "generator_version": GENERATOR_VERSION,
        "symbols": size.symbols,
        "days": size.days,
        "seed": seed,
        "first_day": days[0].isoformat(),
        "last_day": days[-1].isoformat(),
    }


def ensure_dataset(root: Path, size: Size, seed: int) -> Path:
    """The folder of ``size``'s CSVs under ``root``, written once and reused while its
    manifest matches."""
    folder = root / f"{size.label}-seed{seed}"
    expected = manifest(size, seed)
    stamp = folder / "manifest.json"
    if stamp.exists() and json.loads(stamp.read_text()) == expected:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    days = business_days(size.days)
    for index in range(size.symbols):
        series = generate_series(index, size.days, seed)
        (folder / f"{series.symbol}.csv").write_text(series_csv(series, days))
    stamp.write_text(json.dumps(expected, indent=2) + "\n")
    return folder
