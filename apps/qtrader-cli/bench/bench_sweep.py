"""Benchmark sweeps (not a test; prints numbers): runs per second of one grid on the serial
executor, a process pool of 1, 2 and all cores, and a 2-worker Dask LocalCluster.

The grid: sma_crossover fast in {5, 10, 15, 20} x slow in {30, 40, 50, 60} (16 runs) on
``--symbols`` x ``--days`` synthetic daily bars. Each pool keeps its data loaded per worker,
so the rate after the first run of a worker is the steady rate.

    uv run --package qtrader-cli --extra dask python apps/qtrader-cli/bench/bench_sweep.py
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_backtest import write_data

from qtrader.cli.sweep import SweepSpec, make_executor, parse_axis, run_sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=10)
    parser.add_argument("--days", type=int, default=1000)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        (folder / "data").mkdir()
        first, last = write_data(folder / "data", args.symbols, args.days)
        symbols = ", ".join(f"S{i:04d}" for i in range(args.symbols))
        config = folder / "config.yaml"
        config.write_text(
            f"start: {first}\nend: {last}\ninitial_cash: 1000000\n"
            f"data: {{source: csv, path: data, symbols: [{symbols}]}}\n"
            "strategy: {name: sma_crossover, params: {fast: 10, slow: 30, quantity: 100}}\n"
        )
        axes = (
            parse_axis("strategy.params.fast=5,10,15,20"),
            parse_axis("strategy.params.slow=30,40,50,60"),
        )
        print(f"sweep of 16 runs, {args.symbols} symbols x {args.days} bars, {cores} cores")
        setups = [("serial", None), ("process", 1), ("process", 2), ("process", cores), ("dask", 2)]
        for number, (name, workers) in enumerate(setups):
            try:
                executor = make_executor(name, workers=workers)
            except ValueError as exc:
                print(f"{name:>8} {workers or '':>3}: skipped ({exc})")
                continue
            started = time.perf_counter()
            try:
                result = run_sweep(SweepSpec(config, axes, folder / f"out-{number}"), executor)
            finally:
                executor.close()
            seconds = time.perf_counter() - started
            runs = len(result.records)
            label = f"{name} x{workers}" if workers else name
            label += " (all cores)" if name == "process" and workers == cores else ""
            print(f"{label:>12}: {runs} runs in {seconds:6.2f} s = {runs / seconds:6.2f} runs/s")


if __name__ == "__main__":
    main()
