"""Walk-forward: pick the best point of a grid in-sample, run it out-of-sample, stitch.

Windows are in calendar months from the config's ``start``: in-sample ``[a, b)`` then
out-of-sample ``[b, c)``, the next window starting ``test_months`` later. *Rolling*
windows keep the in-sample length; *anchored* ones all begin at ``start``. A window whose
out-of-sample part would pass the config's ``end`` is cut at ``end``; none starts after it.

In each window every point (after the constraint) is run on the in-sample dates, the best
by ``metric`` is chosen (ties: the earlier point in grid order), and that point alone is run
on the out-of-sample dates. The out-of-sample equity curves are stitched by compounding:
each window's curve is scaled so that it starts where the previous one ended, from the
config's initial cash. ``walkforward.csv`` has one row per window (dates, the chosen values,
the in-sample and out-of-sample metric and their gap); ``oos_equity.csv`` the stitched curve.
Every run is an ordinary backtest through the chosen executor; ``warmup_bars`` of the config
feed indicators before each window's first session.
"""

from __future__ import annotations

import calendar
import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from qtrader.cli.config import load_config
from qtrader.cli.sweep.executors import SweepExecutor
from qtrader.cli.sweep.grid import SweepError
from qtrader.cli.sweep.report import render_walk_forward
from qtrader.cli.sweep.runs import RunTask, execute, run_id, with_values, written_for
from qtrader.cli.sweep.sweep import (
    SweepSpec,
    _atomic_write,
    _check_metric,
    best_of,
    make_output_folder,
    points_of,
)


@dataclass(frozen=True, slots=True)
class Window:
    number: int
    in_start: date
    in_end: date
    out_start: date
    out_end: date


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def windows(
    start: date, end: date, train_months: int, test_months: int, anchored: bool
) -> list[Window]:
    if train_months < 1 or test_months < 1:
        raise SweepError("walk-forward needs --train-months and --test-months of at least 1")
    result = []
    k = 0
    while True:
        in_start = start if anchored else add_months(start, k * test_months)
        out_start = add_months(start, train_months + k * test_months)
        if out_start > end:
            break
        # From ``start`` again, not from ``out_start`` (maybe cut to a short month's end):
        # each period ends the day before the next begins.
        next_start = add_months(start, train_months + (k + 1) * test_months)
        out_end = min(next_start - timedelta(days=1), end)
        result.append(Window(k + 1, in_start, out_start - timedelta(days=1), out_start, out_end))
        k += 1
    if not result:
        raise SweepError(
            f"no walk-forward window fits {start} to {end} with {train_months} months in "
            f"sample: the first out-of-sample period would start after the end"
        )
    return result


@dataclass(frozen=True, slots=True)
class WindowResult:
    window: Window
    point: dict[str, Any] | None
    in_sample: float | None
    out_of_sample: float | None
    error: str = ""


@dataclass(frozen=True, slots=True)
class WalkForwardResult:
    windows: tuple[WindowResult, ...]
    equity: tuple[tuple[str, Decimal], ...]
    """The stitched out-of-sample equity: (timestamp, equity)."""


def walk_forward(
    spec: SweepSpec,
    executor: SweepExecutor,
    train_months: int,
    test_months: int,
    anchored: bool = False,
) -> WalkForwardResult:
    base = load_config(spec.config)
    base_dir = spec.config.resolve().parent
    document = base.model_dump(mode="json", exclude_none=True)
    points, _ = points_of(spec)
    make_output_folder(spec.output)
    results = []
    curve: list[tuple[str, Decimal]] = []
    for window in windows(base.start, base.end, train_months, test_months, anchored):
        span = {"start": str(window.in_start), "end": str(window.in_end)}
        tasks = [
            RunTask(
                i,
                run_id(p),
                p,
                with_values(document, {**p, **span}),
                str(base_dir),
                None,
                written_for(base.as_written, {**p, **span}),
            )
            for i, p in enumerate(points)
        ]
        records = sorted(executor.map_unordered(execute, tasks), key=lambda r: r.index)
        _check_metric(records, spec.metric, "the walk-forward stopped at its first window")
        best = best_of(records, spec.metric, spec.maximize)
        if best is None:
            errors = "; ".join(sorted({r.error for r in records if r.error}))[:300]
            results.append(WindowResult(window, None, None, None, errors or "no metric"))
            continue
        folder = spec.output / "windows" / f"{window.number:03d}"
        values = {**best.point, "start": str(window.out_start), "end": str(window.out_end)}
        out_task = RunTask(
            0,
            best.run_id,
            best.point,
            with_values(document, values),
            str(base_dir),
            str(folder),
            written_for(base.as_written, values),
        )
        (out,) = list(executor.map_unordered(execute, [out_task]))
        if out.status != "ok":
            results.append(
                WindowResult(window, best.point, _metric(best.metrics, spec), None, out.error)
            )
            continue
        rows = list(csv.DictReader((folder / "equity.csv").read_text().splitlines()))
        first = Decimal(rows[0]["equity"])
        start_value = curve[-1][1] if curve else Decimal(str(base.initial_cash))
        scale = start_value / first
        curve.extend((r["timestamp"], Decimal(r["equity"]) * scale) for r in rows)
        results.append(
            WindowResult(
                window, best.point, _metric(best.metrics, spec), _metric(out.metrics, spec)
            )
        )
    result = WalkForwardResult(tuple(results), tuple(curve))
    _write(spec, result)
    if results and all(w.point is None for w in results):
        raise SweepError(
            f"no window could choose parameters: every in-sample run failed or none has "
            f"{spec.metric!r}; the first window's: {results[0].error} (see "
            f"{spec.output / 'walkforward.csv'})"
        )
    return result


def _metric(metrics: dict[str, Any], spec: SweepSpec) -> float | None:
    value = metrics.get(spec.metric)
    return float(value) if isinstance(value, int | float) else None


def _write(spec: SweepSpec, result: WalkForwardResult) -> None:
    keys = [a.key for a in spec.axes]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(
        ["window", "in_sample_start", "in_sample_end", "out_of_sample_start",
         "out_of_sample_end", *keys, f"in_sample_{spec.metric}",
         f"out_of_sample_{spec.metric}", "gap", "error"]
    )  # fmt: skip
    for w in result.windows:
        gap = (
            None
            if w.in_sample is None or w.out_of_sample is None
            else w.out_of_sample - w.in_sample
        )
        writer.writerow(
            [w.window.number, w.window.in_start, w.window.in_end, w.window.out_start,
             w.window.out_end, *(("" if w.point is None else w.point[k]) for k in keys),
             _cell(w.in_sample), _cell(w.out_of_sample), _cell(gap), w.error]
        )  # fmt: skip
    _atomic_write(spec.output / "walkforward.csv", text.getvalue().encode())
    curve = io.StringIO()
    curve.write("timestamp,equity\n")
    for stamp, value in result.equity:
        curve.write(f"{stamp},{value.quantize(Decimal('0.01'))}\n")
    _atomic_write(spec.output / "oos_equity.csv", curve.getvalue().encode())
    page = render_walk_forward(spec, result.windows, result.equity)
    _atomic_write(spec.output / "walkforward.html", page.encode())


def _cell(value: float | None) -> str:
    return "" if value is None else repr(value)
