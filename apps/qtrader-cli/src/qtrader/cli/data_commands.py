"""``qtrader data ...``: look at, check and fetch the data a backtest config points to.

Every command reads the ``data:`` block of a backtest config and opens its source by
name through ``qtrader.data`` (the app never names an adapter class). A user error
(bad config, bad data file) is one ``error:`` line on stderr and exit code 2.
"""

from __future__ import annotations

import webbrowser
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from qtrader.cli.output import (
    MAX_ANOMALIES_SHOWN,
    console,
    errors,
    fail,
    looks_like_split,
    plural,
    warn_anomalies,
)

if TYPE_CHECKING:  # the commands import these when they run, so `--help` stays fast
    from qtrader.cli.config import BacktestConfig
    from qtrader.data import HistoricalDataService, SymbolData, UpdateReport
    from qtrader.models import CashDividend, Split, StreamRequest

data_app = typer.Typer(
    name="data",
    help="Inspect, validate and fetch the data of a backtest config.",
    no_args_is_help=True,
)

ConfigArgument = Annotated[Path, typer.Argument(help="The backtest config file (YAML).")]


def _open(config: Path) -> tuple[BacktestConfig, HistoricalDataService]:
    from qtrader.cli.bootstrap import build_data
    from qtrader.cli.config import load_config

    try:
        cfg = load_config(config)
        return cfg, build_data(cfg, config.resolve().parent)
    except ValueError as exc:
        fail(exc)


def _source_line(cfg: BacktestConfig, data: HistoricalDataService) -> str:
    return (
        f"source {cfg.data.source}: {data.source.location} ({data.price_adjustment.value} prices)"
    )


def _day(day: date | None) -> str:
    return "-" if day is None else day.isoformat()


def _load_each(
    data: HistoricalDataService,
    symbols: Sequence[str],
    load: Callable[[str], SymbolData],
) -> tuple[dict[str, SymbolData], dict[str, str]]:
    """Load every symbol; a symbol that fails is kept with its message, not raised."""
    loaded: dict[str, SymbolData] = {}
    failed: dict[str, str] = {}
    for symbol in symbols:
        try:
            loaded[symbol] = load(symbol)
        except ValueError as exc:  # DataError and friends: a clear message, no traceback
            failed[symbol] = str(exc)
    return loaded, failed


def _report_failures(failed: dict[str, str]) -> None:
    for symbol, message in failed.items():
        errors.print(Text.assemble(("error: ", "bold red"), f"{symbol}: {message}"), soft_wrap=True)
    if failed:
        raise typer.Exit(code=2)


@data_app.command("sources")
def sources() -> None:
    """List the adapter names a config's data.source may use."""
    from qtrader.data import source_names, source_spec

    for name in source_names():
        try:
            summary = source_spec(name).summary
        except (ImportError, AttributeError, ValueError) as exc:  # a missing or broken adapter
            summary = f"(unavailable: {exc})"
        console.print(f"{name:<10} {summary}", soft_wrap=True, markup=False, highlight=False)


@data_app.command("list")
def list_symbols(config: ConfigArgument) -> None:
    """List every symbol of the source with its sessions and bars.

    Marks the config's universe; a fetching source lists what its cache holds.
    """
    cfg, data = _open(config)
    try:
        available = data.symbols()
    except ValueError as exc:
        fail(exc)
    universe = set(cfg.data.symbols)
    loaded, failed = _load_each(data, available, data.load)
    console.print(_source_line(cfg, data), soft_wrap=True, markup=False, highlight=False)
    table = Table(show_header=True)
    table.add_column("symbol")
    table.add_column("first")
    table.add_column("last")
    table.add_column("bars", justify="right")
    table.add_column("universe")
    for symbol in available:
        mark = "yes" if symbol in universe else ""
        if symbol in loaded:
            series = loaded[symbol].series
            first, last = _day(series.first_session), _day(series.last_session)
            table.add_row(symbol, first, last, str(len(series)), mark)
        else:
            table.add_row(symbol, "-", "-", "failed", mark)
    console.print(table)
    in_universe = sum(1 for s in available if s in universe)
    console.print(
        f"{plural(len(available), 'symbol', 'symbols')}, {in_universe} in the config's universe",
        soft_wrap=True,
    )
    missing = [s for s in cfg.data.symbols if s not in set(available)]
    if missing:
        errors.print(
            Text.assemble(
                ("warning: ", "bold yellow"),
                f"in the universe but not in the source: {', '.join(missing)}",
            ),
            soft_wrap=True,
        )
    _report_failures(failed)


def _describe_action(action: Split | CashDividend) -> tuple[str, str]:
    if action.kind == "split":
        from qtrader.models import split_fraction  # here: `--help` stays light

        new, old = split_fraction(action.ratio)
        kind = "split" if new >= old else "reverse split"
        return kind, f"{new}-for-{old} (ratio {action.ratio})"
    return "dividend", f"{action.amount} per share"


@data_app.command("info")
def info(
    config: ConfigArgument,
    symbol: Annotated[str, typer.Argument(help="The symbol to describe.")],
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="How many anomalies to list.")
    ] = MAX_ANOMALIES_SHOWN,
) -> None:
    """Show one symbol: sessions, corporate actions and anomalies."""
    cfg, data = _open(config)
    try:
        loaded = data.load(symbol)
    except ValueError as exc:
        fail(exc)
    series = loaded.series
    universe = "yes" if symbol in cfg.data.symbols else "no"
    for line in (
        f"{symbol}: {_source_line(cfg, data)}",
        f"sessions: {_day(series.first_session)} to {_day(series.last_session)}, "
        f"{len(series)} bars",
        f"in the config's universe: {universe}",
    ):
        console.print(line, soft_wrap=True, markup=False, highlight=False)
    if loaded.actions:
        table = Table(title=f"corporate actions ({len(loaded.actions)})", show_header=True)
        table.add_column("ex-date")
        table.add_column("kind")
        table.add_column("value")
        for action in loaded.actions:
            table.add_row(action.ex_date.isoformat(), *_describe_action(action))
        console.print(table)
    else:
        console.print("corporate actions: none")
    anomalies = [a for a in data.anomalies if a.symbol == symbol]
    console.print(f"anomalies: {len(anomalies) or 'none'}")
    for anomaly in anomalies[:limit]:
        console.print(f"  {anomaly}", soft_wrap=True, markup=False, highlight=False)
    if len(anomalies) > limit:
        console.print(f"  ... and {len(anomalies) - limit} more")


def _read_symbols(cfg: BacktestConfig) -> tuple[str, ...]:
    """What a backtest of ``cfg`` reads: its universe, then its benchmark and report symbol
    (a benchmark's bad rows move alpha and beta as surely as a traded symbol's move fills)."""
    extra = (s for s in (cfg.benchmark, cfg.report.symbol) if s)
    return tuple(dict.fromkeys((*cfg.data.symbols, *extra)))


def _request(cfg: BacktestConfig) -> StreamRequest:
    from qtrader.models import StreamRequest

    return StreamRequest(
        symbols=cfg.data.symbols, start=cfg.start, end=cfg.end, warmup_bars=cfg.warmup_bars
    )


@data_app.command("validate")
def validate(config: ConfigArgument) -> None:
    """Load what a backtest of the config reads (its universe, benchmark and report symbol)
    as the backtest would, and report anomalies.

    Exit 2 when a symbol fails to load; anomalies are warnings. A fetching source is
    checked on what its cache holds: nothing is fetched (that is `qtrader data update`).
    """
    from qtrader.data import AnomalyAction, fetch_window

    cfg, data = _open(config)
    first, last = fetch_window(_request(cfg))

    def load(symbol: str) -> SymbolData:
        return data.load(symbol) if data.fetches else data.load(symbol, first, last)

    symbols = _read_symbols(cfg)
    loaded, failed = _load_each(data, symbols, load)
    console.print(_source_line(cfg, data), soft_wrap=True, markup=False, highlight=False)
    if data.fetches:
        console.print("cached data only: `qtrader data update` fetches what is missing")
    # No vertical rules and collapsed padding: eight columns fit 80 characters.
    table = Table(show_header=True, box=box.SIMPLE_HEAD, collapse_padding=True)
    for name in ("symbol", "bars", "first", "last", "actions", "dropped", "widened", "reported"):
        table.add_column(name, justify="left" if name in ("symbol", "first", "last") else "right")
    for symbol in symbols:
        if symbol not in loaded:
            table.add_row(symbol, "failed", "-", "-", "-", "-", "-", "-")
            continue
        series = loaded[symbol].series
        mine = [a for a in data.anomalies if a.symbol == symbol]
        count = {kind: sum(1 for a in mine if a.action is kind) for kind in AnomalyAction}
        # Gaps that look like unrecorded splits are the reported anomalies that matter most.
        splits = any(looks_like_split(a) for a in mine)
        table.add_row(
            symbol,
            str(len(series)),
            _day(series.first_session),
            _day(series.last_session),
            str(len(loaded[symbol].actions)),
            str(count[AnomalyAction.DROPPED]),
            str(count[AnomalyAction.WIDENED]),
            Text(str(count[AnomalyAction.REPORTED]), style="bold red" if splits else ""),
        )
    console.print(table)
    anomalies = data.anomalies
    warn_anomalies(console, anomalies)
    _report_failures(failed)
    found = plural(len(anomalies), "anomaly", "anomalies")
    console.print(
        f"ok: {plural(len(loaded), 'symbol', 'symbols')} loaded, "
        + (f"{found} (warnings above)" if anomalies else "no anomalies"),
        soft_wrap=True,
    )


def run_update(
    data: HistoricalDataService,
    symbols: Sequence[str],
    window: tuple[date, date],
    out: Console,
) -> tuple[UpdateReport, ...]:
    """Fetch ``symbols`` over ``window``; a progress bar only on a terminal."""
    if not out.is_terminal:
        return data.update(symbols, *window)
    columns = (TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=out, transient=True) as progress:
        task = progress.add_task("fetching", total=len(symbols))

        def advance(symbol: str, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, description=symbol)

        return data.update(symbols, *window, progress=advance)


@data_app.command("update")
def update(config: ConfigArgument) -> None:
    """Fetch what a backtest of the config reads (its universe, benchmark and report symbol)
    into the source's cache (API sources).

    Covers start to end plus room for the warmup bars; a source of local files has
    nothing to fetch.
    """
    from qtrader.data import fetch_window

    cfg, data = _open(config)
    if not data.fetches:
        console.print(f"nothing to fetch: source '{cfg.data.source}' reads local files")
        return
    first, last = fetch_window(_request(cfg))
    symbols = _read_symbols(cfg)
    console.print(
        f"updating {plural(len(symbols), 'symbol', 'symbols')} from "
        f"{data.source.location}, {first} to {last}",
        soft_wrap=True,
        markup=False,
        highlight=False,
    )
    try:
        reports = run_update(data, symbols, (first, last), console)
    except ValueError as exc:
        fail(exc)
    table = Table(show_header=True)
    table.add_column("symbol")
    table.add_column("fetched", justify="right")
    table.add_column("cached", justify="right")
    table.add_column("first")
    table.add_column("last")
    for report in reports:
        table.add_row(
            report.symbol,
            str(report.fetched_rows),
            str(report.cached_rows),
            _day(report.first),
            _day(report.last),
        )
    console.print(table)
    fetched = sum(r.fetched_rows for r in reports)
    console.print(f"fetched {fetched} rows for {plural(len(reports), 'symbol', 'symbols')}")


@data_app.command("login")
def login(
    config: ConfigArgument,
    callback_url: Annotated[
        str | None,
        typer.Option(help="The app's registered callback URL (default: the source's)."),
    ] = None,
    show_url: Annotated[
        bool,
        typer.Option(
            "--show-url",
            help="Print the sign-in address instead of opening a browser (it holds your app key).",
        ),
    ] = False,
) -> None:
    """Sign in to the data source in a browser and store its tokens (Schwab).

    Opens the source's sign-in page; after you approve, the browser is sent to the
    callback URL (the page may fail to load: that is expected). Paste that whole
    address here; the code in it is traded for tokens, written to the token file.
    """
    from qtrader.cli.bootstrap import _validated
    from qtrader.cli.config import load_config
    from qtrader.data import parse_source_config, source_spec

    try:
        cfg = load_config(config)
        spec = source_spec(cfg.data.source)
        if spec.login is None:
            console.print(f"nothing to sign in to: source {spec.name!r} needs no login")
            return
        base_dir = config.resolve().parent
        options = cfg.data.options
        source_config = _validated(
            "data",
            lambda: parse_source_config(spec.name, options, base_dir=base_dir),
            cfg.as_written,
        )
        callback = callback_url or spec.login.default_callback_url
        address = spec.login.authorize_url(source_config, callback)
        if show_url:
            console.print(address, soft_wrap=True, markup=False, highlight=False)
        elif not webbrowser.open(address):
            fail("no browser could be opened here: run again with --show-url")
        redirect = typer.prompt(
            "Paste the address your browser was sent to", hide_input=True, err=True
        )
        spec.login.complete(source_config, redirect, callback)
    except ValueError as exc:
        fail(exc)
    console.print(f"signed in to {spec.name}: tokens stored (never printed)")
