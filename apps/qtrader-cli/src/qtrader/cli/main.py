"""The ``qtrader`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from qtrader.cli.data_commands import data_app
from qtrader.cli.output import console, errors, fail, warn_anomalies

app = typer.Typer(
    name="qtrader",
    help="QTrader: event-driven backtests you can check by hand.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(data_app, name="data")
__all__ = ["app", "console", "errors"]


def _fmt_metric(value: float | int | None, percent: bool = False) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:.2%}" if percent else f"{value:.4f}"


@app.callback()
def _main() -> None:
    """QTrader command-line interface."""


@app.command()
def backtest(
    config: Annotated[Path, typer.Argument(help="The backtest config file (YAML).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Folder for the result files.")
    ] = None,
) -> None:
    """Run a backtest and print a summary; with --output, write the result files."""
    # Imported here, not at the top: `qtrader --help` must not pay for numpy and pandas.
    from qtrader.cli.bootstrap import run_backtest
    from qtrader.cli.config import load_config

    try:
        cfg = load_config(config)
        outcome = run_backtest(cfg, config.resolve().parent, output)
    except ValueError as exc:  # every error of ours is a ValueError with a clear message
        fail(exc)
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
    console.print("fills: market orders at the next bar's open; decisions at the bar's close")
    if output is not None:
        console.print(f"results written to {output}")


if __name__ == "__main__":  # pragma: no cover
    app()
