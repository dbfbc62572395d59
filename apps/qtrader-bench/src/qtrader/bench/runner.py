"""Run one library once, in a child process, and collect what it reports.

Whole-process wall time is measured here around the child (start to exit); the child
writes a JSON with its own data-loading time, backtest time and peak RSS (``VmHWM`` just
before it exits), and its fills as CSV.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from qtrader.bench.data import business_days, symbol_names

CHILD_TIMEOUT_FACTOR = 3  # a run is killed after this many times the --max-seconds budget


class RunFailedError(Exception):
    """A child exited with an error, timed out, or wrote no report."""


@dataclass(frozen=True)
class Measurement:
    library: str
    wall_seconds: float
    load_seconds: float
    backtest_seconds: float
    peak_rss_mib: float
    fills_path: Path


def qtrader_config(data_dir: Path, symbols: int, days: int) -> str:
    """The backtest config (JSON is YAML): the built-in sma_crossover, default services."""
    dates = business_days(days)
    config = {
        "start": dates[0].isoformat(),
        "end": dates[-1].isoformat(),
        "initial_cash": 1_000_000,
        "data": {
            "source": "csv",
            "path": str(data_dir.resolve()),
            "symbols": symbol_names(symbols),
        },
        "strategy": {"name": "sma_crossover", "params": {"fast": 10, "slow": 30, "quantity": 100}},
        "execution": {"slippage": {"model": "none"}, "commission": {"model": "none"}},
    }
    return json.dumps(config, indent=1) + "\n"


def qtrader_command(config: Path, output: Path, report: Path) -> list[str]:
    """``qtrader backtest CONFIG --output DIR`` in this environment, under the stopwatch."""
    return [
        sys.executable, "-m", "qtrader.bench.qtrader_child", "--json", str(report), "--",
        "backtest", str(config), "--output", str(output),
    ]  # fmt: skip


def peer_command(python: Path, script: Path, data: Path, fills: Path, report: Path) -> list[str]:
    return [str(python), str(script), "--data", str(data), "--fills", str(fills),
            "--json", str(report)]  # fmt: skip


def run_child(
    library: str, command: list[str], report: Path, fills: Path, timeout: float | None
) -> Measurement:
    report.unlink(missing_ok=True)
    fills.unlink(missing_ok=True)
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)  # each child runs in the environment of its own python
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, env=env
        )
    except subprocess.TimeoutExpired as exc:
        raise RunFailedError(f"{library}: killed after {timeout:.0f} s") from exc
    wall = time.perf_counter() - started
    if done.returncode != 0 or not report.exists() or not fills.exists():
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-20:])
        raise RunFailedError(f"{library}: exit code {done.returncode}\n{tail}")
    data = json.loads(report.read_text())
    return Measurement(
        library=library,
        wall_seconds=wall,
        load_seconds=float(data["load_seconds"]),
        backtest_seconds=float(data["backtest_seconds"]),
        peak_rss_mib=float(data["peak_rss_kib"]) / 1024,
        fills_path=fills,
    )
