"""Benchmark of the file formats: the same bars as CSV and as Parquet, loaded and streamed.

Not a test. Writes N symbols x M business days of seeded synthetic daily bars once
as ``SYMBOL.csv`` files and once as ``SYMBOL.parquet`` files (date32 dates, float64
prices, int64 volume), then, for each format, in a fresh child process each time
(so that one measurement's memory cannot hide in another's):

- load: the cold ``open_data_service(...).stream(...)`` call, which reads and
  validates every file (bars/s);
- stream: iterating every merged slice of the loaded data (bars/s);
- memory: the child's RSS before loading, after loading and its peak (VmHWM)
  after loading and after streaming, from /proc/self/status; "retained" is what
  loading added to RSS, per bar;
- ``parquet-chunked`` is the Parquet files read with ``chunk_rows`` (``--chunk-rows``):
  "load" is then the validation pre-pass (read, check, discard) and "stream" reads
  the files again chunk by chunk, so the peak after streaming is what streaming needs;
- with ``--traced``, also the peak traced Python allocations (tracemalloc) of
  each phase, in yet another child because tracing slows the code it watches.

Usage (from the workspace root):

    uv run --frozen python packages/qtrader-data/bench/bench_formats.py --symbols 50 --days 2520
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from qtrader.data import open_data_service
from qtrader.models import StreamRequest

FORMATS = ("csv", "parquet", "parquet-chunked")
MIB = 1024 * 1024


def write_universe(folder: Path, symbols: int, days: int, seed: int) -> list[str]:
    """Seeded random walks with consistent OHLC (low <= open, close <= high), 2 decimals,
    written as ``csv/SYMBOL.csv`` and ``parquet/SYMBOL.parquet``."""
    rng = np.random.default_rng(seed)
    sessions = pd.bdate_range("2000-01-03", periods=days)
    text_dates = sessions.strftime("%Y-%m-%d")
    day_dates = pa.array(sessions.to_numpy().astype("datetime64[D]"), pa.date32())
    (folder / "csv").mkdir()
    (folder / "parquet").mkdir()
    names = [f"S{i:04d}" for i in range(symbols)]
    for name in names:
        close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, days)))
        open_ = close * np.exp(rng.normal(0.0, 0.005, days))
        spread = np.abs(rng.normal(0.0, 0.01, days))
        # Rounding is monotone, so rounded high/low still bracket rounded open/close.
        columns = {
            "open": open_.round(2),
            "high": (np.maximum(open_, close) * (1 + spread)).round(2),
            "low": (np.minimum(open_, close) * (1 - spread)).round(2),
            "close": close.round(2),
            "volume": rng.integers(1_000, 1_000_000, days),
        }
        pd.DataFrame({"date": text_dates, **columns}).to_csv(
            folder / "csv" / f"{name}.csv", index=False
        )
        pq.write_table(
            pa.table({"date": day_dates, **columns}), folder / "parquet" / f"{name}.parquet"
        )
    return names


def _proc_status() -> dict[str, int]:
    """VmRSS and VmHWM of this process, in bytes."""
    found: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) * 1024
    return found


def _request(symbols: int) -> StreamRequest:
    names = tuple(f"S{i:04d}" for i in range(symbols))
    return StreamRequest(symbols=names, start=date(2000, 1, 3), end=date(2100, 1, 1))


def child(fmt: str, folder: Path, symbols: int, traced: bool, chunk_rows: int) -> dict[str, Any]:
    """One measurement in this (fresh) process; printed as JSON for the parent."""
    request = _request(symbols)
    source, _, chunked = fmt.partition("-")
    options: dict[str, Any] = {"path": folder}
    if chunked:
        options["chunk_rows"] = chunk_rows
    svc = open_data_service(source, options)
    before = _proc_status()
    if traced:
        tracemalloc.start()
    t0 = time.perf_counter()
    slices = svc.stream(request)
    t1 = time.perf_counter()
    loaded = _proc_status()
    result: dict[str, Any] = {"load_s": t1 - t0, "rss_before": before["VmRSS"]}
    result |= {"rss_loaded": loaded["VmRSS"], "hwm_loaded": loaded["VmHWM"]}
    # Arrow's allocator keeps freed pages for reuse: what it still holds is not live data.
    pool = pa.default_memory_pool()
    result |= {"arrow_live": pool.bytes_allocated(), "arrow_pool": pool.backend_name}
    if traced:
        result["traced_load_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        held = tracemalloc.get_traced_memory()[0]
    bars = 0
    t2 = time.perf_counter()
    for s in slices:
        bars += len(s)
    t3 = time.perf_counter()
    if traced:
        result["traced_stream_peak"] = tracemalloc.get_traced_memory()[1] - held
        tracemalloc.stop()
    result |= {"stream_s": t3 - t2, "bars": bars, "hwm_streamed": _proc_status()["VmHWM"]}
    return result


def measure(
    fmt: str, folder: Path, symbols: int, chunk_rows: int, traced: bool = False
) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", fmt, str(folder), "--symbols", str(symbols)]
    command += ["--chunk-rows", str(chunk_rows)]
    if traced:
        command.append("--traced")
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def report(
    fmt: str, size: int, m: dict[str, Any], t: dict[str, Any] | None, days: int, chunk_rows: int
) -> None:
    bars = m["bars"]
    symbols = bars // days
    retained = m["rss_loaded"] - m["rss_before"]
    name = f"parquet, chunk_rows={chunk_rows}" if fmt == "parquet-chunked" else fmt
    print(f"{name:8} files {size / MIB:7.1f} MiB")
    print(
        f"  load    {m['load_s']:6.2f} s  ({bars / m['load_s']:>11,.0f} bars/s, "
        f"{m['load_s'] / symbols * 1000:.1f} ms per file)"
    )
    print(f"  stream  {m['stream_s']:6.2f} s  ({bars / m['stream_s']:>11,.0f} bars/s)")
    print(
        f"  RSS     {m['rss_before'] / MIB:.0f} MiB before load, {m['rss_loaded'] / MIB:.0f} "
        f"after (retained {retained / MIB:.1f} MiB = {retained / bars:.0f} B/bar); peak "
        f"{m['hwm_loaded'] / MIB:.0f} MiB loading, {m['hwm_streamed'] / MIB:.0f} MiB after "
        "streaming"
    )
    print(
        f"  peak    {(m['hwm_streamed'] - m['rss_before']) / MIB:.1f} MiB above RSS before "
        "loading, over load and stream"
    )
    if fmt.startswith("parquet"):
        print(
            f"  arrow   {m['arrow_live'] / MIB:.1f} MiB still allocated after loading "
            f"({m['arrow_pool']} pool; RSS keeps pages it freed)"
        )
    if t is not None:
        print(
            f"  traced  load peak {t['traced_load_peak'] / MIB:.1f} MiB, stream "
            f"{t['traced_stream_peak'] / MIB:.2f} MiB above the loaded arrays"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--days", type=int, default=5040)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--traced", action="store_true", help="also measure with tracemalloc")
    parser.add_argument("--chunk-rows", type=int, default=1024, help="for parquet-chunked")
    parser.add_argument(
        "--formats", default=",".join(FORMATS), help=f"comma-separated, of {', '.join(FORMATS)}"
    )
    parser.add_argument("--child", nargs=2, metavar=("FORMAT", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        fmt, folder = args.child
        print(json.dumps(child(fmt, Path(folder), args.symbols, args.traced, args.chunk_rows)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        write_universe(root, args.symbols, args.days, args.seed)
        written = time.perf_counter() - t0
        bars = args.symbols * args.days
        print(
            f"universe  {args.symbols} symbols x {args.days} days = {bars:,} bars "
            f"(written in {written:.1f} s)"
        )
        for fmt in args.formats.split(","):
            folder = root / fmt.partition("-")[0]
            size = sum(p.stat().st_size for p in folder.iterdir())
            plain = measure(fmt, folder, args.symbols, args.chunk_rows)
            traced = (
                measure(fmt, folder, args.symbols, args.chunk_rows, traced=True)
                if args.traced
                else None
            )
            report(fmt, size, plain, traced, args.days, args.chunk_rows)


if __name__ == "__main__":
    main()
