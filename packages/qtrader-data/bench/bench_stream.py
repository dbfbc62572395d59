"""Benchmark of CsvDataService: load (parse + validate) and streaming merge.

Not a test. Writes N symbols x M business days of synthetic daily CSV into a
temporary folder, then reports, for that data:

- load: seconds to read and validate every file (bars/s),
- stream: bars/s of the heap merge over all symbols, data already loaded,
- peak traced memory (tracemalloc) of each phase, measured in a second,
  separate pass because tracing slows the code it watches.

Usage (from the workspace root):

    uv run --frozen python packages/qtrader-data/bench/bench_stream.py --symbols 50 --days 2520
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from qtrader.data import CsvDataConfig, CsvDataService
from qtrader.models import StreamRequest


def write_universe(folder: Path, symbols: int, days: int, seed: int) -> list[str]:
    """Seeded random walks with consistent OHLC (low <= open, close <= high), 2 decimals."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2000-01-03", periods=days).strftime("%Y-%m-%d")
    names = [f"S{i:04d}" for i in range(symbols)]
    for name in names:
        close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, days)))
        open_ = close * np.exp(rng.normal(0.0, 0.005, days))
        spread = np.abs(rng.normal(0.0, 0.01, days))
        # Rounding is monotone, so rounded high/low still bracket rounded open/close.
        frame = pd.DataFrame(
            {
                "date": dates,
                "open": open_.round(2),
                "high": (np.maximum(open_, close) * (1 + spread)).round(2),
                "low": (np.minimum(open_, close) * (1 - spread)).round(2),
                "close": close.round(2),
                "volume": rng.integers(1_000, 1_000_000, days),
            }
        )
        frame.to_csv(folder / f"{name}.csv", index=False)
    return names


def run(folder: Path, names: list[str]) -> tuple[float, float, int]:
    """Seconds to load (the cold ``stream`` call reads and validates every file) and to stream."""
    svc = CsvDataService(CsvDataConfig(path=folder))
    t0 = time.perf_counter()
    slices = svc.stream(_everything(names))
    t1 = time.perf_counter()
    bars = 0
    for s in slices:
        bars += len(s)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, bars


def _everything(names: list[str]) -> StreamRequest:
    return StreamRequest(symbols=tuple(names), start=date(2000, 1, 3), end=date(2100, 1, 1))


def traced_peaks(folder: Path, names: list[str]) -> tuple[int, int]:
    svc = CsvDataService(CsvDataConfig(path=folder))
    tracemalloc.start()
    slices = svc.stream(_everything(names))
    load_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    loaded = tracemalloc.get_traced_memory()[0]
    for _ in slices:
        pass
    stream_peak = tracemalloc.get_traced_memory()[1] - loaded
    tracemalloc.stop()
    return load_peak, stream_peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--symbols", type=int, default=50)
    parser.add_argument("--days", type=int, default=2520)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        names = write_universe(folder, args.symbols, args.days, args.seed)
        size = sum(p.stat().st_size for p in folder.iterdir())
        load_s, stream_s, bars = run(folder, names)
        load_peak, stream_peak = traced_peaks(folder, names)
    mib = 1024 * 1024
    print(
        f"universe      {args.symbols} symbols x {args.days} days = {bars:,} bars "
        f"({size / mib:.1f} MiB of CSV)"
    )
    print(
        f"load          {load_s:.2f} s  ({bars / load_s:,.0f} bars/s, "
        f"{load_s / args.symbols * 1000:.1f} ms per file)"
    )
    print(
        f"stream        {stream_s:.2f} s  ({bars / stream_s:,.0f} bars/s, "
        f"{bars / args.symbols / stream_s:,.0f} slices/s)"
    )
    print(
        f"peak traced   load {load_peak / mib:.1f} MiB, "
        f"stream {stream_peak / mib:.2f} MiB above the loaded arrays"
    )


if __name__ == "__main__":
    main()
