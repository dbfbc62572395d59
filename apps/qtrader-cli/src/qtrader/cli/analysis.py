"""After a run: what analytics needs from the data (the benchmark's returns, the report
symbol's closes), the metrics, and the report. ``qtrader report`` rebuilds both from a
results folder."""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from qtrader.analytics import (
    HoldingTally,
    RecordTally,
    RoundTrip,
    RunFigures,
    TradeTally,
    metrics_from,
    round_trips,
)
from qtrader.analytics.report import PricePoint, ReportData, TradeMark, render_report
from qtrader.cli.config import BacktestConfig, ConfigError
from qtrader.data import DataError
from qtrader.models import (
    BacktestResult,
    CashDividend,
    DataService,
    EquityRow,
    Fill,
    LedgerEntryType,
    PriceAdjustment,
    Split,
    StreamRequest,
)

ZERO = Decimal(0)


@dataclass(frozen=True)
class MarketSeries:
    """The benchmark's daily total returns and the report symbol's closes."""

    benchmark: list[tuple[date, float]] | None
    prices: list[PricePoint]


def market_series(
    config: BacktestConfig,
    data: DataService,
    report_symbol: str | None,
    sessions: Iterable[date],
) -> MarketSeries:
    """One pass over the data for the benchmark and the report symbol (either may be
    missing). The benchmark's return of one of its sessions is ``(close + dividend) x
    split ratio / previous close - 1`` for the actions its feed does not already carry in
    its prices, from the last bar of each session; see ``_total_returns`` for how they
    are set beside the run's ``sessions`` (its equity rows' dates, in order)."""
    symbols = tuple(dict.fromkeys(s for s in (config.benchmark, report_symbol) if s))
    if not symbols:
        return MarketSeries(None, [])
    request = StreamRequest(symbols=symbols, start=config.start, end=config.end)
    adjustment = data.price_adjustment
    closes: dict[date, float] = {}
    factors: dict[date, tuple[float, float]] = {}  # session -> (split ratio, dividend)
    prices: list[PricePoint] = []
    try:
        for bars in data.stream(request):  # no warmup asked: every slice is in the window
            day = bars.timestamp.date()
            bench = config.benchmark
            if bench is not None:
                ratio, dividend = factors.get(day, (1.0, 0.0))
                for action in bars.actions:
                    if action.symbol != bench:
                        continue
                    if isinstance(action, Split) and adjustment is PriceAdjustment.UNADJUSTED:
                        ratio *= float(action.ratio)
                    elif isinstance(action, CashDividend) and adjustment is not (
                        PriceAdjustment.TOTAL_RETURN
                    ):
                        dividend += float(action.amount)
                factors[day] = (ratio, dividend)
                at = bars.index(bench)
                if at is not None:
                    closes[day] = float(bars.close[at])
            at = None if report_symbol is None else bars.index(report_symbol)
            if at is not None:
                prices.append(PricePoint(bars.timestamp, float(bars.close[at])))
    except DataError as exc:
        raise ConfigError(f"benchmark / report symbol: {exc}") from exc
    benchmark = None
    if config.benchmark is not None:
        if not closes:
            raise ConfigError(
                f"benchmark: no bars of {config.benchmark!r} between {config.start} and "
                f"{config.end}"
            )
        benchmark = _total_returns(closes, factors, sessions)
    return MarketSeries(benchmark, prices)


def _total_returns(
    closes: Mapping[date, float],
    factors: Mapping[date, tuple[float, float]],
    sessions: Iterable[date],
) -> list[tuple[date, float]]:
    """The benchmark's return over each of the run's sessions: from its close on the
    run's previous session to its close on this one. A session either close is missing
    from has none (a two-session return beside the run's one-session one would skew alpha
    and beta); benchmark sessions the run does not have are compounded into the next."""
    days = list(closes)
    place = {day: i for i, day in enumerate(days)}
    daily = [math.nan]  # return of each benchmark session since the one before it
    for previous, day in itertools.pairwise(days):
        ratio, dividend = factors.get(day, (1.0, 0.0))
        daily.append((closes[day] + dividend) * ratio / closes[previous] - 1.0)
    out = []
    run_sessions = list(dict.fromkeys(sessions))
    for previous, day in itertools.pairwise(run_sessions):
        start, end = place.get(previous), place.get(day)
        if start is None or end is None:
            continue
        if end == start + 1:
            out.append((day, daily[end]))
        else:
            out.append((day, math.prod(1.0 + r for r in daily[start + 1 : end + 1]) - 1.0))
    return out


def _sessions(equity: Iterable[EquityRow]) -> Iterator[date]:
    return (row.timestamp.date() for row in equity)


def report_symbol(config: BacktestConfig, fills: Iterable[Fill]) -> str | None:
    """The configured report symbol, else the one with the most fills (ties: by name)."""
    if config.report.symbol is not None:
        return config.report.symbol
    return _most_traded(fill.symbol for fill in fills)


def _most_traded(symbols: Iterable[str]) -> str | None:
    """The symbol that occurs most often (ties: the first by name); ``None`` for none."""
    counts: dict[str, int] = {}
    for symbol in symbols:
        counts[symbol] = counts.get(symbol, 0) + 1
    return _most_counted(counts)


def _most_counted(counts: Mapping[str, int]) -> str | None:
    return min(counts, key=lambda symbol: (-counts[symbol], symbol)) if counts else None


@dataclass(frozen=True)
class Analysis:
    trades: tuple[RoundTrip, ...]
    metrics: dict[str, float | int | None]
    report: str
    """``report.html``; empty when it was not asked for."""


def analyse(
    config: BacktestConfig,
    result: BacktestResult,
    data: DataService,
    models: Mapping[str, str],
    report: bool = True,
) -> Analysis:
    """Round trips, metrics (with the benchmark, when set) and, with ``report``, the report
    of a run (a run that writes no files, such as most runs of a sweep, skips the report
    and the pass over the report symbol's prices)."""
    trades = round_trips(result.ledger)
    tally = TradeTally(trades)
    tally.include(config.strategy_sections())
    symbol = report_symbol(config, result.fills) if report else None
    series = market_series(config, data, symbol, _sessions(result.equity))
    metrics = metrics_from(RunFigures.of(result), tally, series.benchmark)
    if not report:
        return Analysis(trades, metrics, "")
    fills = [f for f in result.fills if f.symbol == symbol]
    marks = [TradeMark(f.timestamp, f.side.value, float(f.quantity), float(f.price)) for f in fills]
    page = _render(config, result.equity, metrics, tally, models, symbol, series, marks)
    return Analysis(trades, metrics, page)


def analyse_streamed(
    config: BacktestConfig,
    result: BacktestResult,
    tally: RecordTally,
    data: DataService,
    models: Mapping[str, str],
    folder: Path | None,
) -> Analysis:
    """``analyse`` of a run whose records streamed: the figures and trips ``tally`` added
    up; with ``folder`` (its record tables, written and closed) the report too, the report
    symbol's fills read back from its ``fills.csv``. The metrics and report are those
    ``analyse`` gives."""
    symbol = None
    if folder is not None:
        symbol = config.report.symbol or _most_counted(tally.fills_by_symbol)
    series = market_series(config, data, symbol, _sessions(result.equity))
    figures = RunFigures.of(result, tally.fills, tally.holding)
    tally.trades.include(config.strategy_sections())
    metrics = metrics_from(figures, tally.trades, series.benchmark)
    if folder is None:
        return Analysis((), metrics, "")
    _, marks = fill_marks(folder, symbol)
    page = _render(config, result.equity, metrics, tally.trades, models, symbol, series, marks)
    return Analysis((), metrics, page)


def _render(
    config: BacktestConfig,
    equity: Sequence[EquityRow],
    metrics: Mapping[str, float | int | None],
    trades: TradeTally,
    models: Mapping[str, str],
    symbol: str | None,
    series: MarketSeries,
    marks: Sequence[TradeMark],
) -> str:
    return render_report(
        ReportData(
            title=_title(config),
            equity=[(row.timestamp, float(row.equity)) for row in equity],
            metrics=metrics,
            strategy_pnl=_strategy_pnl(config, trades),
            models=models,
            symbol=symbol,
            prices=series.prices,
            trades=marks,
        )
    )


def _title(config: BacktestConfig) -> str:
    ids = ", ".join(config.strategy_sections())
    return f"QTrader backtest: {ids}, {config.start} to {config.end}"


def _strategy_pnl(config: BacktestConfig, trades: TradeTally) -> dict[str, float]:
    pnl = dict.fromkeys(config.strategy_sections(), ZERO)
    for sid, (_, total) in trades.by_strategy.items():
        pnl[sid] = pnl.get(sid, ZERO) + total
    return {sid: float(value) for sid, value in pnl.items()}


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    return list(_each_row(folder, name))


def _decimal(row: Mapping[str, str], key: str, where: str) -> Decimal:
    try:
        return Decimal(row[key]) if row.get(key) else ZERO
    except ArithmeticError as exc:
        raise ConfigError(f"{where}: {key} {row.get(key)!r} is not a number") from exc


def _stamp(text: str, where: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{where}: {text!r} is not an ISO timestamp") from exc


def figures_from_files(folder: Path, initial_cash: Decimal) -> RunFigures:
    """The run's figures read back from ``equity.csv``, ``fills.csv`` and ``ledger.csv``:
    exactly what ``RunFigures.of`` takes from the run (the ledger's fee, financing and
    dividend entries are what the portfolio's totals add up)."""
    equity = []
    for line, row in enumerate(_rows(folder, "equity.csv"), start=2):
        where = f"{folder / 'equity.csv'} line {line}"
        equity.append(
            EquityRow(
                _stamp(row["timestamp"], where),
                _decimal(row, "cash", where),
                _decimal(row, "equity", where),
            )
        )
    notional = commission = ZERO
    fills = _rows(folder, "fills.csv")
    for line, row in enumerate(fills, start=2):
        where = f"{folder / 'fills.csv'} line {line}"
        notional += _decimal(row, "price", where) * _decimal(row, "quantity", where)
        commission += _decimal(row, "commission", where)
    paid = dict.fromkeys(LedgerEntryType, ZERO)
    received = ZERO
    holding = HoldingTally()
    for line, row in enumerate(_rows(folder, "ledger.csv"), start=2):
        where = f"{folder / 'ledger.csv'} line {line}"
        try:
            kind = LedgerEntryType(row["type"])
        except ValueError as exc:
            raise ConfigError(f"{where}: unknown entry type {row['type']!r}") from exc
        if row.get("symbol") and row.get("position_after"):
            holding.record(
                _stamp(row["timestamp"], where),
                row.get("strategy_id") or None,
                row["symbol"],
                _decimal(row, "position_after", where),
            )
        flow = _decimal(row, "cash_flow", where)
        if kind is LedgerEntryType.DIVIDEND and flow > 0:
            received += flow
        else:
            paid[kind] -= flow
    borrow, margin = paid[LedgerEntryType.BORROW_FEE], paid[LedgerEntryType.MARGIN_INTEREST]
    return RunFigures(
        equity=equity,
        num_fills=len(fills),
        notional=notional,
        commission=commission,
        fees=paid[LedgerEntryType.SEC_FEE] + paid[LedgerEntryType.FINRA_TAF],
        borrow_fees=borrow,
        margin_interest=margin,
        financing_costs=borrow + margin,
        dividends_received=received,
        dividends_paid=paid[LedgerEntryType.DIVIDEND],
        total_pnl=(equity[-1].equity - initial_cash) if equity else ZERO,
        holding=holding,
    )


def trades_from_file(folder: Path) -> list[RoundTrip]:
    trips = []
    for line, row in enumerate(_rows(folder, "trades.csv"), start=2):
        where = f"{folder / 'trades.csv'} line {line}"
        trips.append(
            RoundTrip(
                strategy_id=row["strategy_id"],
                symbol=row["symbol"],
                direction=row["direction"],
                quantity=_decimal(row, "quantity", where),
                entry_time=_stamp(row["entry_time"], where),
                entry_price=_decimal(row, "entry_price", where),
                exit_time=_stamp(row["exit_time"], where),
                exit_price=_decimal(row, "exit_price", where),
                pnl=_decimal(row, "pnl", where),
                commission=_decimal(row, "commission", where),
            )
        )
    return trips


def fill_marks(folder: Path, symbol: str | None) -> tuple[str | None, list[TradeMark]]:
    """The report symbol's fills from ``fills.csv`` (the symbol: as ``report_symbol``),
    read a row at a time."""
    if symbol is None:
        symbol = _most_traded(row["symbol"] for row in _each_row(folder, "fills.csv"))
    marks = []
    for line, row in enumerate(_each_row(folder, "fills.csv"), start=2):
        if row["symbol"] != symbol:
            continue
        where = f"{folder / 'fills.csv'} line {line}"
        marks.append(
            TradeMark(
                _stamp(row["timestamp"], where),
                row["side"],
                float(_decimal(row, "quantity", where)),
                float(_decimal(row, "price", where)),
            )
        )
    return symbol, marks


def _each_row(folder: Path, name: str) -> Iterator[dict[str, str]]:
    path = folder / name
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            yield from csv.DictReader(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror or exc})") from exc


def rebuild(
    folder: Path, config: BacktestConfig, data: DataService, models: Mapping[str, str]
) -> tuple[dict[str, float | int | None], str]:
    """Metrics and report of a results folder, from its files (``qtrader report``)."""
    figures = figures_from_files(folder, config.initial_cash)
    trades = TradeTally(trades_from_file(folder))
    trades.include(config.strategy_sections())
    symbol, marks = fill_marks(folder, config.report.symbol)
    series = market_series(config, data, symbol, _sessions(figures.equity))
    metrics = metrics_from(figures, trades, series.benchmark)
    report = _render(config, figures.equity, metrics, trades, models, symbol, series, marks)
    return metrics, report
