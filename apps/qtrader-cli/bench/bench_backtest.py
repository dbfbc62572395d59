"""Benchmark a full backtest through the public path (not a test; prints numbers).

Writes N symbols x M weekdays of synthetic daily CSV bars (seeded random walks, 6
decimals), then runs the built-in ``sma_crossover`` (10/30, 100 shares) with the default
services, full portfolio accounting and risk checks on, and prints data-load time, backtest
bars per second and the process's peak resident memory.

    uv run --package qtrader-cli python apps/qtrader-cli/bench/bench_backtest.py --symbols 10
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from qtrader.cli.bootstrap import bootstrap
from qtrader.cli.config import BacktestConfig


def write_data(folder: Path, symbols: int, days: int, seed: int = 7) -> tuple[date, date]:
    rng = np.random.default_rng(seed)
    dates: list[str] = []
    day = date(2000, 1, 3)
    while len(dates) < days:
        if day.weekday() < 5:
            dates.append(day.isoformat())
        day += timedelta(days=1)
    for s in range(symbols):
        steps = rng.normal(0.0002, 0.015, size=(days, 2))
        close = 50.0 * np.exp(np.cumsum(steps[:, 0]))
        open_ = np.concatenate(([50.0], close[:-1])) * np.exp(steps[:, 1] * 0.2)
        high = np.maximum(open_, close) * 1.005
        low = np.minimum(open_, close) * 0.995
        lines = ["date,open,high,low,close,volume"]
        lines += [
            f"{d},{o:.6f},{h:.6f},{lo:.6f},{c:.6f},{1000000 + i}"
            for i, (d, o, h, lo, c) in enumerate(zip(dates, open_, high, low, close, strict=True))
        ]
        (folder / f"S{s:04d}.csv").write_text("\n".join(lines) + "\n")
    return date.fromisoformat(dates[0]), date.fromisoformat(dates[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description="QTrader end-to-end backtest benchmark")
    parser.add_argument("--symbols", type=int, default=10)
    parser.add_argument("--days", type=int, default=2500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start, end = write_data(folder, args.symbols, args.days)
        config = BacktestConfig.model_validate(
            {
                "start": start,
                "end": end,
                "initial_cash": 1_000_000,
                "data": {
                    "source": "csv",
                    "path": str(folder),
                    "symbols": [f"S{s:04d}" for s in range(args.symbols)],
                },
                "strategy": {
                    "name": "sma_crossover",
                    "params": {"fast": 10, "slow": 30, "quantity": 100},
                },
            }
        )
        t0 = time.perf_counter()
        engine = bootstrap(config, folder).engine
        result = engine.run()
        elapsed = time.perf_counter() - t0
    # Peak resident memory of the whole process (Linux reports KiB); tracemalloc would
    # slow the run several times over and distort the timing.
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    bars = args.symbols * args.days
    print(f"symbols={args.symbols} days={args.days} bars={bars} fills={len(result.fills)}")
    print(f"run (load + backtest): {elapsed:.2f} s, {bars / elapsed:,.0f} bars/s")
    print(f"peak resident memory of the process: {peak_mib:.1f} MiB")


if __name__ == "__main__":
    main()
