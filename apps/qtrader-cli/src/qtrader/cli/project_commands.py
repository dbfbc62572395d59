"""``qtrader sweep``, ``qtrader init``, ``qtrader report`` and ``qtrader check-lookahead``.

Heavy modules are imported when a command runs, so ``qtrader --help`` stays fast. A user
error is one ``error:`` line on stderr and exit code 2 (``fail``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from qtrader.cli.output import console, errors, fail

if TYPE_CHECKING:
    from qtrader.cli.sweep import RunRecord


def sweep(
    config: Annotated[Path, typer.Argument(help="The backtest config file (YAML).")],
    grid: Annotated[
        list[str],
        typer.Option("--grid", help="KEY=V1,V2,... (a dotted config key); repeat per key."),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder of the sweep.")],
    where: Annotated[
        str | None,
        typer.Option(
            help="Skip points where this is false, e.g. 'strategy.params.fast < "
            "strategy.params.slow'."
        ),
    ] = None,
    random: Annotated[
        int | None, typer.Option("--random", help="Run N points drawn from the grid.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of --random.")] = 0,
    executor: Annotated[
        str, typer.Option(help="serial (debugging), process (all cores) or dask.")
    ] = "process",
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: one per core).")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address (tcp://host:8786); none: a LocalCluster."),
    ] = None,
    metric: Annotated[str, typer.Option(help="The metric that ranks runs.")] = "sharpe",
    minimize: Annotated[bool, typer.Option(help="Lower --metric is better.")] = False,
    keep: Annotated[
        int | None, typer.Option(help="Keep the full results of the K best runs only.")
    ] = None,
    walk_forward: Annotated[
        bool, typer.Option("--walk-forward", help="Walk-forward instead of one sweep.")
    ] = False,
    train_months: Annotated[int, typer.Option(help="Walk-forward in-sample months.")] = 24,
    test_months: Annotated[int, typer.Option(help="Walk-forward out-of-sample months.")] = 6,
    anchored: Annotated[
        bool, typer.Option(help="Walk-forward in-sample windows all begin at start.")
    ] = False,
) -> None:
    """Run a parameter sweep (or a walk-forward) of a backtest config."""
    from qtrader.cli.sweep import SweepSpec, make_executor, parse_axis, run_sweep
    from qtrader.cli.sweep.walkforward import walk_forward as run_walk_forward

    try:
        spec = SweepSpec(
            config=config,
            axes=tuple(parse_axis(g) for g in grid),
            output=output,
            where=where,
            random=random,
            seed=seed,
            keep=keep,
            metric=metric,
            maximize=not minimize,
        )
        pool = make_executor(executor, workers=workers, scheduler=scheduler)
    except ValueError as exc:
        fail(exc)
    try:
        if walk_forward:
            result = run_walk_forward(spec, pool, train_months, test_months, anchored)
            table = Table(title=f"Walk-forward: {len(result.windows)} windows")
            for column in ("window", "out of sample", "chosen", f"IS {metric}", f"OOS {metric}"):
                table.add_column(column)
            for w in result.windows:
                chosen = (
                    "" if w.point is None else ", ".join(f"{k}={v}" for k, v in w.point.items())
                )
                table.add_row(
                    str(w.window.number),
                    f"{w.window.out_start} to {w.window.out_end}",
                    chosen,
                    _num(w.in_sample),
                    w.error or _num(w.out_of_sample),
                )
            console.print(table)
            console.print(
                f"results in {output} (walkforward.csv, oos_equity.csv, walkforward.html)"
            )
            return
        with _progress() as bar:
            task = bar.add_task("runs", total=None, best="")

            def progress(done: int, total: int, failed: int, best: RunRecord | None) -> None:
                shown = "" if best is None else f"best {metric} {_num(best.metrics.get(metric))}"
                bar.update(task, completed=done, total=total, best=f"{failed} failed  {shown}")

            outcome = run_sweep(spec, pool, progress)
    except ValueError as exc:
        fail(exc)
    finally:
        pool.close()
    console.print(
        f"{len(outcome.records)} runs ({outcome.failed} failed, {outcome.skipped} skipped by "
        f"--where, {outcome.resumed} already done)"
    )
    if outcome.best is not None:
        values = ", ".join(f"{k}={v}" for k, v in outcome.best.point.items())
        console.print(f"best {metric}: {_num(outcome.best.metrics.get(metric))} at {values}")
    console.print(f"results in {output} (results.csv, results.parquet, sweep.html)")


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]sweep"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[best]}"),
        console=errors,
        transient=False,
        disable=not errors.is_terminal,  # no bar when piped
    )


def _num(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "n/a" if value is None else str(value)


def init(
    folder: Annotated[Path, typer.Argument(help="The folder of the new project.")],
) -> None:
    """Make a new project (config, strategy, sample data, README) that runs as it is."""
    from qtrader.cli.scaffold import scaffold

    try:
        files = scaffold(folder)
    except ValueError as exc:
        fail(exc)
    for path in files:
        console.print(f"  {path}")
    console.print(f"next: qtrader backtest {folder / 'config.yaml'} --output {folder / 'results'}")


def report(
    folder: Annotated[Path, typer.Argument(help="A results folder of `qtrader backtest`.")],
) -> None:
    """Rebuild report.html and metrics.json of a results folder from its files."""
    from qtrader.cli.bootstrap import rebuild_report

    try:
        metrics = rebuild_report(folder)
    except ValueError as exc:
        fail(exc)
    console.print(f"wrote {folder / 'report.html'} and {folder / 'metrics.json'}", highlight=False)
    console.print(
        f"total return {_num(metrics.get('total_return'))}, sharpe {_num(metrics.get('sharpe'))}, "
        f"trades {_num(metrics.get('num_trades'))}",
        highlight=False,
    )


def check_lookahead(
    config: Annotated[Path, typer.Argument(help="The backtest config file (YAML).")],
    points: Annotated[
        int, typer.Option(help="Sessions (bars, on intraday data) after which the data is cut.")
    ] = 10,
) -> None:
    """Re-run on data cut at several sessions; exit 1 if any decision used the future."""
    from datetime import datetime

    from qtrader.cli.config import load_config
    from qtrader.cli.lookahead import check_lookahead as run_check

    try:
        cfg = load_config(config)
        with _progress() as bar:
            task = bar.add_task("cuts", total=points, best="")
            report = run_check(
                cfg,
                config.resolve().parent,
                points,
                lambda done, total, cut: bar.update(
                    task, completed=done, total=total, best=str(cut)
                ),
            )
    except ValueError as exc:
        fail(exc)
    if report.clean:
        console.print(
            f"no look-ahead found: {report.decisions} decisions unchanged with the data cut "
            f"after each of {len(report.cuts)} "
            f"{'bars' if any(isinstance(c, datetime) for c in report.cuts) else 'sessions'}"
        )
        return
    first = report.findings[0]
    console.print(f"[bold red]look-ahead[/]: strategy {first.strategy_id!r}", highlight=False)
    console.print(first.describe(), markup=False, highlight=False)
    if len(report.findings) > 1:
        console.print(f"... and {len(report.findings) - 1} more cut(s) changed decisions")
    raise typer.Exit(code=1)
