"""The ``qtrader`` command."""

from __future__ import annotations

import atexit
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.table import Table

from qtrader.cli.data_commands import data_app
from qtrader.cli.output import (
    DEBUG,
    console,
    errors,
    fail,
    show_decisions,
    show_refusals,
    warn_anomalies,
)
from qtrader.cli.project_commands import check_lookahead, init, report, sweep

app = typer.Typer(
    name="qtrader",
    help="QTrader: event-driven backtests you can check by hand.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(data_app, name="data")
app.command()(sweep)
app.command()(init)
app.command()(report)
app.command(name="check-lookahead")(check_lookahead)
__all__ = ["app", "console", "errors", "main"]


def _fmt_metric(value: float | int | None, percent: bool = False) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:.2%}" if percent else f"{value:.4f}"


def _show_versions(asked: bool) -> None:
    if asked:
        from qtrader.cli.versions import package_versions  # here: --help stays light

        for name, number in package_versions().items():
            typer.echo(f"{name} {number}")
        raise typer.Exit


@app.callback()
def _main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of every error.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_versions,
            is_eager=True,
            help="Show the version of each QTrader distribution and exit.",
        ),
    ] = False,
) -> None:
    """QTrader command-line interface."""
    DEBUG["tracebacks"] = debug


LOG_LEVELS = ("debug", "info", "warning", "error")


@app.command()
def backtest(
    config: Annotated[Path, typer.Argument(help="The backtest config file (YAML).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Folder for the result files.")
    ] = None,
    log_level: Annotated[
        str,
        typer.Option(
            help="Show strategies' ctx.log lines at this level or above (debug, info, "
            "warning, error); log.txt in the results has them too."
        ),
    ] = "warning",
) -> None:
    """Run a backtest and print a summary; with --output, write the result files."""
    # Imported here, not at the top: `qtrader --help` must not pay for numpy and pandas.
    import logging

    from rich.logging import RichHandler
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from qtrader.cli.bootstrap import STRATEGY_LOGGER, run_backtest
    from qtrader.cli.config import load_config

    if log_level.lower() not in LOG_LEVELS:
        fail(f"--log-level {log_level!r}: expected one of {', '.join(LOG_LEVELS)}")
    level = getattr(logging, log_level.upper())
    shown = RichHandler(console=errors, show_time=False, show_path=False, level=level)
    shown.setFormatter(logging.Formatter("%(message)s"))
    strategy_logger = logging.getLogger(STRATEGY_LOGGER)
    strategy_logger.addHandler(shown)
    bar = Progress(
        TextColumn("[bold]backtest"),
        BarColumn(),
        TextColumn("{task.fields[at]}"),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
        disable=not errors.is_terminal,  # none when piped
    )
    try:
        cfg = load_config(config)
        days = max((cfg.end - cfg.start).days, 1)
        task = bar.add_task("bars", total=days, at="")

        def progress(at: datetime) -> None:
            done = min(max((at.date() - cfg.start).days, 0), days)
            bar.update(task, completed=done, at=at.date().isoformat())

        with bar:
            outcome = run_backtest(
                cfg,
                config.resolve().parent,
                output,
                progress=progress,
                log_level=min(level, logging.INFO),
                stream_records=True,
            )
    except ValueError as exc:  # every error of ours is a ValueError with a clear message
        fail(exc)
    finally:
        strategy_logger.removeHandler(shown)
    result, metrics = outcome.result, outcome.metrics
    warn_anomalies(errors, outcome.anomalies, written=output is not None)
    table = Table(title=f"Backtest {cfg.start} to {cfg.end}", show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("start equity", f"{result.equity[0].equity:,.2f}")
    table.add_row("end equity", f"{result.equity[-1].equity:,.2f}")
    for key in ("total_return", "cagr", "volatility", "max_drawdown"):
        table.add_row(key, _fmt_metric(metrics[key], percent=True))
    for key in ("sharpe", "sortino", "calmar", "num_trades", "num_fills"):
        table.add_row(key, _fmt_metric(metrics[key]))
    console.print(table)
    console.print(outcome.execution, soft_wrap=True, markup=False, highlight=False)
    show_decisions(console, outcome.decisions)
    show_refusals(console, outcome.refusals, written=output is not None)
    if output is not None:
        console.print(f"results written to {output}")


def main() -> NoReturn:
    """The ``qtrader`` console script: run the command, then end the process at once.

    A backtest leaves millions of objects behind, and an interpreter that exits normally
    frees them one by one (about 0.4 s after a 100 x 5,000 run) for nothing anyone sees.
    So once the command is done, the exit handlers have run and the output is flushed,
    the process ends with ``os._exit``, as mypy does. Only here: ``app`` itself (used
    as a library, or by ``typer.testing.CliRunner``) exits normally.
    """
    code: object = 0
    try:
        app()  # in standalone mode it ends with SystemExit
    except SystemExit as exit_:
        code = 0 if exit_.code is None else exit_.code
    if not isinstance(code, int):
        raise SystemExit(code)  # a message: the interpreter prints it and exits with 1
    atexit._run_exitfuncs()  # what a normal exit runs (a strategy file may register some)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # e.g. a closed pipe: the normal exit reports it
        raise SystemExit(code) from None
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
