"""``qtrader-bench``: QTrader against its peers on the same data, with identical fills.

For each size: write the data once (cached), compute the exact reference fills, then run
QTrader and every peer as child processes, alternated side by side (Q, A, B, C, Q, A, B, C,
...) ``--repeat`` times, check every run's fills against QTrader's (and QTrader's against
the reference) and print medians. A fill mismatch stops the benchmark with exit code 1 and
a diff of the first mismatches.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from qtrader.bench.data import Size, ensure_dataset, symbol_names
from qtrader.bench.envs import (
    LABELS,
    PEERS,
    PeerEnv,
    PeerUnavailableError,
    compile_qtrader_sources,
    ensure_env,
)
from qtrader.bench.fills import (
    Fill,
    FillsMismatchError,
    check_fills,
    read_fills,
    read_qtrader_fills,
    write_fills,
)
from qtrader.bench.reference import reference_fills
from qtrader.bench.report import Row, markdown_table, summarise
from qtrader.bench.runner import (
    CHILD_TIMEOUT_FACTOR,
    Measurement,
    RunFailedError,
    peer_command,
    qtrader_command,
    qtrader_config,
    run_child,
)

DEFAULT_SIZES = "10x5000,100x5000,500x5000"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="qtrader-bench", description=__doc__)
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="SYMBOLSxDAYS,... (%(default)s)")
    parser.add_argument(
        "--peers",
        default=",".join(PEERS),
        help="comma-separated peers among %(default)s, or 'none' (QTrader and the reference)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per library (median)")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=180.0,
        help="skip a peer whose run at a size is estimated (from its times at the smaller "
        "sizes, see estimate_seconds) to take longer; a run is killed after 3x this "
        "(%(default)s)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work-dir", type=Path, default=Path(".bench"), help="data and runs")
    parser.add_argument("--envs-dir", type=Path, default=Path(".bench-envs"), help="peer envs")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    try:
        args.sizes = [Size.parse(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError as exc:
        parser.error(str(exc))
    names = [] if args.peers.strip() == "none" else [p.strip() for p in args.peers.split(",")]
    unknown = [p for p in names if p not in PEERS]
    if unknown:
        parser.error(f"unknown peers {unknown}; known: {', '.join(PEERS)}")
    args.peers = names
    args.work_dir = args.work_dir.resolve()
    return args


def say(text: str = "") -> None:
    print(text, flush=True)


def prepare_peers(names: Sequence[str], envs_dir: Path) -> dict[str, PeerEnv]:
    ready: dict[str, PeerEnv] = {}
    for name in names:
        say(f"peer {LABELS[name]}: preparing its environment in {envs_dir / name} ...")
        try:
            ready[name] = ensure_env(name, envs_dir)
        except PeerUnavailableError as exc:
            say(f"peer {LABELS[name]}: SKIPPED, its environment cannot be made here: {exc}")
    return ready


def read_any_fills(library: str, path: Path) -> list[Fill]:
    return read_qtrader_fills(path) if library == "qtrader" else read_fills(path)


def estimate_seconds(measured: Sequence[tuple[int, float]], bars: int) -> float:
    """A run's time at ``bars``, from ``(bars, seconds)`` measured at smaller sizes.

    With one point, time is taken to grow with the bars. With two or more, as the power of
    the bars the last two show (at least linear): NautilusTrader took 35 s at 500,000 bars
    and more than 540 s at 2,500,000 (15x the time for 5x the bars), which a linear
    estimate (175 s) did not foresee.
    """
    last_bars, last_seconds = measured[-1]
    exponent = 1.0
    if len(measured) >= 2:
        first_bars, first_seconds = measured[-2]
        if first_bars != last_bars and first_seconds > 0 and last_seconds > 0:
            exponent = max(
                1.0, math.log(last_seconds / first_seconds) / math.log(last_bars / first_bars)
            )
    return float(last_seconds * (bars / last_bars) ** exponent)


def run_size(
    size: Size,
    args: argparse.Namespace,
    peers: dict[str, PeerEnv],
    previous: dict[str, list[tuple[int, float]]],
) -> list[Row]:
    data = ensure_dataset(args.work_dir / "data", size, args.seed)
    runs_dir = args.work_dir / "runs" / size.label
    runs_dir.mkdir(parents=True, exist_ok=True)
    reference = reference_fills(data, symbol_names(size.symbols))
    write_fills(runs_dir / "reference-fills.csv", reference.fills)
    say(
        f"\n== {size.label}: {size.bars:,} bars in {data}; reference: {len(reference.fills)} "
        f"fills, lowest cash {reference.min_cash:,.2f}, exact average ties {reference.ties}"
    )
    config = runs_dir / "qtrader.yaml"
    config.write_text(qtrader_config(data, size.symbols, size.days))

    libraries = ["qtrader"]
    skipped: dict[str, str] = {}
    for name in peers:
        if previous.get(name):
            estimate = estimate_seconds(previous[name], size.bars)
            if estimate > args.max_seconds:
                bars, seconds = previous[name][-1]
                skipped[name] = (
                    f"skipped: estimated {estimate:.0f} s a run (from {seconds:.1f} s at "
                    f"{bars:,} bars) > --max-seconds {args.max_seconds:.0f}"
                )
                say(f"{LABELS[name]}: {skipped[name]}")
                continue
        libraries.append(name)

    measured: dict[str, list[Measurement]] = {name: [] for name in libraries}
    expected: list[Fill] = reference.fills
    timeout = args.max_seconds * CHILD_TIMEOUT_FACTOR
    for round_ in range(args.repeat):
        for name in list(libraries):
            report, fills = runs_dir / f"{name}.json", runs_dir / f"{name}-fills.csv"
            if name == "qtrader":
                command = qtrader_command(config, runs_dir / "qtrader-output", report)
                fills = runs_dir / "qtrader-output" / "fills.csv"
            else:
                env = peers[name]
                command = peer_command(env.python, env.script, data, fills, report)
            try:
                run = run_child(LABELS[name], command, report, fills, timeout)
            except RunFailedError as exc:
                if name == "qtrader":
                    raise
                skipped[name] = f"skipped: {str(exc).splitlines()[0]}"
                say(f"{LABELS[name]}: {skipped[name]}")
                libraries.remove(name)
                del measured[name]
                continue
            got = read_any_fills(name, fills)
            check_fills("the reference" if name == "qtrader" else "QTrader", expected,
                        LABELS[name], got)  # fmt: skip
            measured[name].append(run)
            say(
                f"  run {round_ + 1}/{args.repeat} {LABELS[name]:<15} wall {run.wall_seconds:7.2f}"
                f" s  load {run.load_seconds:6.2f} s  backtest {run.backtest_seconds:7.2f} s"
                f"  peak RSS {run.peak_rss_mib:7.0f} MiB  fills {len(got)} equal"
            )
    rows = [
        summarise(size.label, size.bars, LABELS[name], runs, len(expected))
        for name, runs in measured.items()
    ]
    for name, row in zip(measured, rows, strict=True):
        previous.setdefault(name, []).append((size.bars, row.wall_seconds))
    for name, note in skipped.items():
        rows.append(Row(size.label, size.bars, LABELS[name], 0, 0.0, 0.0, 0.0, 0.0, 0, note))
    return rows


def machine() -> str:
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    say(f"qtrader-bench on {machine()}; sizes {', '.join(s.label for s in args.sizes)}; "
        f"{args.repeat} runs each, alternated; medians")  # fmt: skip
    peers = prepare_peers(args.peers, args.envs_dir)
    compile_qtrader_sources()
    rows: list[Row] = []
    previous: dict[str, list[tuple[int, float]]] = {}
    try:
        for size in args.sizes:
            rows += run_size(size, args, peers, previous)
            say()
            say(markdown_table([r for r in rows if r.size == size.label]))
    except FillsMismatchError as exc:
        say(f"\nFILLS DIFFER: {exc}")
        return 1
    except RunFailedError as exc:
        say(f"\nQTrader FAILED: {exc}")
        return 2
    say("\nAll sizes (speed-up = peer time / QTrader time; RSS ratio = QTrader / peer):")
    say(markdown_table(rows))
    say("fills: identical (date, symbol, side, quantity, price to 6 decimals) for every run")
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1) + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
