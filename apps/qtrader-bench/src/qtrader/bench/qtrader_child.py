"""Run the ``qtrader`` command in this process and report its phases and peak memory.

    python -m qtrader.bench.qtrader_child --json PHASES.json -- backtest CONFIG --output DIR

This is exactly what the ``qtrader`` console script does (``qtrader.cli.main:app`` with the
given arguments) plus a stopwatch: the data service built by the CLI's public builder
``build_data`` is timed while it is built and until its ``stream`` yields the first slice
(data loading), and ``run_backtest`` as a whole (loading + backtest + metrics + writing the
result files). ``backtest_seconds`` is the second minus the first. Peak RSS is this process's
``VmHWM`` just before it exits. Nothing of QTrader changes: no service, config or default is
replaced. It is the only module of ``qtrader.bench`` that imports QTrader.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from qtrader.bench.memory import peak_rss_kib
from qtrader.cli import bootstrap
from qtrader.cli import main as cli_main


def _timed_stream(
    stream: Callable[..., Iterator[Any]], phases: dict[str, float]
) -> Callable[..., Iterator[Any]]:
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        started = time.perf_counter()
        iterator = iter(stream(*args, **kwargs))
        first = next(iterator, None)
        phases["load_seconds"] += time.perf_counter() - started
        if first is None:
            return
        yield first
        yield from iterator

    return wrapper


def _install_stopwatch(phases: dict[str, float]) -> None:
    build_data = bootstrap.build_data
    run_backtest = bootstrap.run_backtest  # what qtrader.cli.main calls

    def timed_build_data(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        data = build_data(*args, **kwargs)
        phases["load_seconds"] += time.perf_counter() - started
        try:
            data.stream = _timed_stream(data.stream, phases)  # type: ignore[method-assign]
        except AttributeError:  # pragma: no cover - a slotted service: building is timed
            phases["stream_untimed"] = 1.0
        return data

    def timed_run_backtest(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return run_backtest(*args, **kwargs)
        finally:
            phases["run_seconds"] = time.perf_counter() - started

    bootstrap.build_data = timed_build_data
    bootstrap.run_backtest = timed_run_backtest  # main.py imports it when the command runs
    if "run_backtest" in vars(cli_main):  # or once, at the top of main.py
        vars(cli_main)["run_backtest"] = timed_run_backtest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path, required=True, help="where to write the phases")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then qtrader's arguments")
    args = parser.parse_args(argv)
    command: list[str] = args.command
    if command[:1] == ["--"]:
        command = command[1:]
    phases = {"load_seconds": 0.0, "run_seconds": 0.0}
    _install_stopwatch(phases)
    code: int
    try:
        cli_main.app(command, prog_name="qtrader")
        code = 0  # pragma: no cover - typer exits through SystemExit
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    if code == 0 and phases["run_seconds"] == 0.0:
        print("qtrader_child: the stopwatch never saw run_backtest run", file=sys.stderr)
        code = 3
    report = {
        "load_seconds": phases["load_seconds"],
        "backtest_seconds": max(phases["run_seconds"] - phases["load_seconds"], 0.0),
        "peak_rss_kib": peak_rss_kib(),
        "exit_code": code,
    }
    args.json.write_text(json.dumps(report) + "\n")
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
