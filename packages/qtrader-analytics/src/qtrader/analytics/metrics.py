"""Performance metrics, following empyrical's definitions.

Conventions: daily simple returns of the equity at each session's last row (on daily bars
one row per session; on intraday bars the session's close, as empyrical and pyfolio expect,
so an hourly curve is not annualised as if each hour were a day), 252 sessions a year,
risk-free rate 0, ``cagr`` empyrical's ``annual_return``. ``max_drawdown`` (a negative
fraction) uses every row of the curve; ``max_drawdown_sessions`` is the most sessions
spent below a previous peak in any drawdown (the longest, not always the deepest). Undefined
figures (e.g. Sharpe with zero volatility) are ``None``, written as JSON ``null``.

Trade figures come from the round trips: ``win_rate``, ``profit_factor`` (gross wins /
gross losses), ``avg_win`` and ``avg_loss`` (money per trip). ``exposure`` is the fraction
of sessions that closed holding a position (from the ledger's positions, not from equity
differing from cash); ``turnover`` the money traded
(every fill's price x quantity) over the average session-close equity. Per strategy:
``strategy.<id>.num_trades`` and ``strategy.<id>.pnl`` (its round trips' P&L).

Costs and income, from the portfolio's final state (money, amounts paid >= 0):
``total_commission`` (every fill's), ``total_fees`` (regulatory fees on sales),
``total_borrow_fees`` (shorts), ``total_margin_interest`` (negative cash),
``total_financing_costs`` (their sum), ``dividends_received``, ``dividends_paid`` (by
shorts); ``total_pnl`` is the final equity minus the initial cash.

Against a benchmark (its daily returns, keyed by session date; the app passes those of the
config's ``benchmark:`` symbol): ``beta`` and ``alpha`` as empyrical's ``beta`` and
``alpha`` (risk-free 0: ``beta = cov(r, b) / var(b)``, ``alpha = (1 + mean(r - beta b))
** 252 - 1``) over the sessions both have a return for; ``benchmark_return`` the
benchmark's total return over those sessions.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import numpy as np

from qtrader.analytics.trades import RoundTrip, round_trips
from qtrader.models import BacktestResult, EquityRow, Fill, LedgerEntry

ZERO = Decimal(0)

PERIODS_PER_YEAR = 252


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def returns_from_equity(equity: Sequence[float]) -> np.ndarray:
    values = np.asarray(equity, dtype=np.float64)
    if values.size < 2:
        return np.empty(0)
    return values[1:] / values[:-1] - 1.0


def total_return(returns: np.ndarray) -> float:
    return float(np.prod(1.0 + returns) - 1.0) if returns.size else 0.0


def cagr(returns: np.ndarray, periods: int = PERIODS_PER_YEAR) -> float:
    if returns.size == 0:
        return math.nan
    years = returns.size / periods
    return float((1.0 + total_return(returns)) ** (1.0 / years) - 1.0)


def volatility(returns: np.ndarray, periods: int = PERIODS_PER_YEAR) -> float:
    if returns.size < 2:
        return math.nan
    return float(np.std(returns, ddof=1) * math.sqrt(periods))


def sharpe(returns: np.ndarray, periods: int = PERIODS_PER_YEAR) -> float:
    if returns.size < 2:
        return math.nan
    std = float(np.std(returns, ddof=1))
    return float(np.mean(returns)) / std * math.sqrt(periods) if std > 0 else math.nan


def downside_risk(returns: np.ndarray, periods: int = PERIODS_PER_YEAR) -> float:
    if returns.size == 0:
        return math.nan
    downside = np.minimum(returns, 0.0)
    return float(math.sqrt(float(np.mean(downside**2))) * math.sqrt(periods))


def sortino(returns: np.ndarray, periods: int = PERIODS_PER_YEAR) -> float:
    risk = downside_risk(returns, periods)
    if not risk > 0:
        return math.nan
    return float(np.mean(returns)) * periods / risk


def max_drawdown(returns: np.ndarray) -> float:
    if returns.size == 0:
        return 0.0
    wealth = np.concatenate(([100.0], 100.0 * np.cumprod(1.0 + returns)))
    peaks = np.maximum.accumulate(wealth)
    return float(np.min((wealth - peaks) / peaks))


def calmar(returns: np.ndarray, periods: int = PERIODS_PER_YEAR) -> float:
    mdd = max_drawdown(returns)
    return cagr(returns, periods) / abs(mdd) if mdd < 0 else math.nan


def trade_stats(trades: Iterable[RoundTrip]) -> dict[str, float | int | None]:
    return TradeTally(trades).stats()


class TradeTally:
    """What the metrics need of the round trips, added up a part at a time (a run that
    streams its records keeps no trip): wins, losses, and each strategy's trips."""

    def __init__(self, trades: Iterable[RoundTrip] = ()) -> None:
        self.count = 0
        # 8 bytes a trip, not a float object each; summed in the same order as a list
        self._wins = array("d")
        self._losses = array("d")
        self.by_strategy: dict[str, tuple[int, Decimal]] = {}
        """Each strategy's number of trips and their P&L, in the order they first closed."""
        self.add(trades)

    def include(self, strategy_ids: Iterable[str]) -> None:
        """Count these strategies with no trip yet: their ``strategy.<id>.*`` figures are
        then 0, not missing (a run's metrics name every strategy it ran)."""
        for sid in strategy_ids:
            self.by_strategy.setdefault(sid, (0, ZERO))

    def add(self, trades: Iterable[RoundTrip]) -> None:
        by_strategy = self.by_strategy
        for trip in trades:
            self.count += 1
            pnl = trip.pnl
            if pnl > 0:
                self._wins.append(float(pnl))
            elif pnl < 0:
                self._losses.append(float(pnl))
            count, total = by_strategy.get(trip.strategy_id, (0, ZERO))
            by_strategy[trip.strategy_id] = (count + 1, total + pnl)

    def stats(self) -> dict[str, float | int | None]:
        wins, losses, count = self._wins, self._losses, self.count
        gross_loss = -sum(losses)
        stats: dict[str, float | int | None] = {
            "num_trades": count,
            "win_rate": len(wins) / count if count else None,
            "profit_factor": _finite(sum(wins) / gross_loss) if gross_loss > 0 else None,
            "avg_win": sum(wins) / len(wins) if wins else None,
            "avg_loss": sum(losses) / len(losses) if losses else None,
        }
        for sid in sorted(self.by_strategy):
            own, pnl = self.by_strategy[sid]
            stats[f"strategy.{sid}.num_trades"] = own
            stats[f"strategy.{sid}.pnl"] = float(pnl)
        return stats


def max_drawdown_sessions(equity: Sequence[float], sessions: Sequence[date]) -> int:
    """The most sessions spent below a previous peak of the curve (every row counts;
    a drawdown not recovered by the end lasts to the end)."""
    longest = 0
    peak = -math.inf
    since: date | None = None
    seen: set[date] = set()
    for value, session in zip(equity, sessions, strict=True):
        if value >= peak:
            peak = value
            since = None
            seen = set()
            continue
        if since is None:
            since = session
        seen.add(session)
        longest = max(longest, len(seen))
    return longest


class FillTotals:
    """The fills' number, notional (price x quantity) and commission, added up a part at
    a time."""

    def __init__(self, fills: Iterable[Fill] = ()) -> None:
        self.count = 0
        self.notional = ZERO
        self.commission = ZERO
        self.add(fills)

    def add(self, fills: Iterable[Fill]) -> None:
        for fill in fills:
            self.count += 1
            self.notional += fill.price * fill.quantity
            self.commission += fill.commission


class HoldingTally:
    """When the run held any position, from each ledger entry's ``position_after`` (the
    strategy's position in the symbol after it), added up a part at a time: the times it
    went from holding nothing to holding something, and back. Equity equal to cash is no
    sign of it: a long and a short of the same value leave equity at cash."""

    def __init__(self, entries: Iterable[LedgerEntry] = ()) -> None:
        self._open: set[tuple[str | None, str]] = set()
        self.changes: list[tuple[datetime, bool]] = []
        """``(time, holds something from then on)`` at each change, in time order."""
        self.add(entries)

    def add(self, entries: Iterable[LedgerEntry]) -> None:
        for entry in entries:
            if entry.symbol is not None and entry.position_after is not None:
                self.record(entry.timestamp, entry.strategy_id, entry.symbol, entry.position_after)

    def record(
        self, at: datetime, strategy_id: str | None, symbol: str, position_after: Decimal
    ) -> None:
        """One entry's position after it (``add``; ``qtrader report`` reads ``ledger.csv``)."""
        held = bool(self._open)
        if position_after:
            self._open.add((strategy_id, symbol))
        else:
            self._open.discard((strategy_id, symbol))
        if bool(self._open) != held:
            self.changes.append((at, not held))

    def held_at(self, stamps: Sequence[datetime]) -> list[bool]:
        """Whether anything was held at each of ``stamps`` (in time order), an entry at the
        same time included."""
        changes, held, out = self.changes, False, []
        k = 0
        for stamp in stamps:
            while k < len(changes) and changes[k][0] <= stamp:
                held = changes[k][1]
                k += 1
            out.append(held)
        return out


@dataclass(frozen=True)
class RunFigures:
    """What the metrics are computed from, beside the round trips: the equity curve, the
    fills' totals and the money the portfolio paid and received (amounts paid >= 0).
    ``RunFigures.of(result)`` takes them from a run; ``qtrader report`` from its files."""

    equity: Sequence[EquityRow]
    num_fills: int = 0
    notional: Decimal = ZERO
    commission: Decimal = ZERO
    fees: Decimal = ZERO
    borrow_fees: Decimal = ZERO
    margin_interest: Decimal = ZERO
    financing_costs: Decimal = ZERO
    dividends_received: Decimal = ZERO
    dividends_paid: Decimal = ZERO
    total_pnl: Decimal = ZERO
    holding: HoldingTally | None = None
    """When positions were held (``exposure``; ``None``: not known, no exposure)."""

    @classmethod
    def of(
        cls,
        result: BacktestResult,
        fills: FillTotals | None = None,
        holding: HoldingTally | None = None,
    ) -> RunFigures:
        """The figures of ``result``; ``fills`` and ``holding``: its fills' totals and when
        it held positions, added up as they streamed (needed when the result holds no
        records)."""
        if fills is None or holding is None:
            if result.records_streamed:
                raise ValueError(
                    "the result's records were streamed: give the fills' totals and holdings"
                )
            fills = FillTotals(result.fills) if fills is None else fills
            holding = HoldingTally(result.ledger) if holding is None else holding
        state = result.final_state
        return cls(
            equity=result.equity,
            holding=holding,
            num_fills=fills.count,
            notional=fills.notional,
            commission=fills.commission,
            fees=state.fees,
            borrow_fees=state.borrow_fees,
            margin_interest=state.margin_interest,
            financing_costs=state.financing_costs,
            dividends_received=state.dividends_received,
            dividends_paid=state.dividends_paid,
            total_pnl=state.total_pnl,
        )


def session_closes(rows: Sequence[EquityRow]) -> tuple[list[float], list[datetime], list[date]]:
    """Equity and time at each session's last row, and every row's session date."""
    closes: dict[date, tuple[float, datetime]] = {}
    sessions = []
    for row in rows:
        day = row.timestamp.date()
        sessions.append(day)
        closes[day] = (float(row.equity), row.timestamp)
    return [e for e, _ in closes.values()], [t for _, t in closes.values()], sessions


def alpha_beta(returns: np.ndarray, factor: np.ndarray) -> tuple[float, float]:
    """empyrical's ``alpha_beta_aligned`` with risk-free 0, on aligned daily returns."""
    if returns.size < 2:
        return math.nan, math.nan
    residual = factor - factor.mean()
    variance = float(np.mean(residual**2))
    if not variance > 0:
        return math.nan, math.nan
    beta = float(np.mean(residual * returns)) / variance
    alpha = (float(np.mean(returns - beta * factor)) + 1.0) ** PERIODS_PER_YEAR - 1.0
    return alpha, beta


def _drawdown_of_equity(equity: Sequence[float]) -> float:
    """The largest fall from a positive peak as a fraction of it, from the equities
    themselves (``max_drawdown`` of returns needs an equity above 0 throughout); below
    -1 when the equity went below zero."""
    values = np.asarray(equity, dtype=np.float64)
    peaks = np.maximum.accumulate(values)
    positive = peaks > 0
    if not positive.any():
        return math.nan
    return float(min(0.0, np.min(values[positive] / peaks[positive] - 1.0)))


def _benchmark_metrics(
    rows: Sequence[EquityRow], benchmark: Sequence[tuple[date, float]], solvent: bool = True
) -> dict[str, float | int | None]:
    """Alpha and beta over the sessions both have (``None`` when the run's returns mean
    nothing, see ``metrics_from``), and the benchmark's return over those sessions."""
    closes: dict[date, float] = {}
    for row in rows:
        closes[row.timestamp.date()] = float(row.equity)
    days = list(closes)
    theirs = dict(benchmark)
    common = [day for day in days[1:] if day in theirs]
    b = np.array([theirs[day] for day in common], dtype=np.float64)
    alpha = beta = math.nan
    if solvent:
        ours = dict(zip(days[1:], returns_from_equity(list(closes.values())), strict=True))
        alpha, beta = alpha_beta(np.array([ours[day] for day in common], dtype=np.float64), b)
    return {
        "alpha": _finite(alpha),
        "beta": _finite(beta),
        "benchmark_return": total_return(b),
    }


def compute_metrics(
    result: BacktestResult,
    trades: Sequence[RoundTrip] | None = None,
    benchmark: Sequence[tuple[date, float]] | None = None,
) -> dict[str, float | int | None]:
    """The metrics of one run, ready for ``metrics.json``. ``trades`` are its round trips
    (``round_trips(result.ledger)`` when not given); ``benchmark`` the benchmark's daily
    returns as ``(session date, return)``, for ``alpha``, ``beta`` and
    ``benchmark_return``."""
    if result.records_streamed:
        raise ValueError(
            "the result's records were streamed: use metrics_from with the stream's figures"
        )
    trips = round_trips(result.ledger) if trades is None else trades
    return metrics_from(RunFigures.of(result), trips, benchmark)


def metrics_from(
    figures: RunFigures,
    trades: Iterable[RoundTrip] | TradeTally,
    benchmark: Sequence[tuple[date, float]] | None = None,
) -> dict[str, float | int | None]:
    """The metrics of ``figures`` and ``trades`` (see ``compute_metrics``)."""
    equity = [float(row.equity) for row in figures.equity]
    daily, closed_at, sessions = session_closes(figures.equity)
    solvent = all(e > 0 for e in equity)
    if solvent:
        # The first session's own return, when its close is not the first row (intraday
        # bars: the run traded before that close): from the first row's equity.
        opening = [] if not equity or figures.equity[0].timestamp == closed_at[0] else equity[:1]
        r = returns_from_equity([*opening, *daily])
        drawdown = max_drawdown(returns_from_equity(equity))  # every row
        total = total_return(returns_from_equity(equity))
        growth = _finite(cagr(r))
    else:
        # A return from or to an equity of 0 or less means nothing (x / 0, or a "gain"
        # from -200 to 200): every figure built on returns is undefined. What the run made
        # and lost is still known, from the equities themselves.
        r = np.empty(0)
        drawdown = _drawdown_of_equity(equity)
        total = equity[-1] / equity[0] - 1.0 if equity[0] > 0 else math.nan
        growth = None
    notional = float(figures.notional)
    mean_equity = float(np.mean(daily)) if daily else math.nan
    metrics: dict[str, float | int | None] = {
        "total_return": _finite(total),
        "cagr": growth,
        "volatility": _finite(volatility(r)),
        "sharpe": _finite(sharpe(r)),
        "sortino": _finite(sortino(r)),
        "max_drawdown": _finite(drawdown),
        "max_drawdown_sessions": max_drawdown_sessions(equity, sessions),
        "calmar": growth / abs(drawdown) if growth is not None and drawdown < 0 else None,
        "exposure": sum(figures.holding.held_at(closed_at)) / len(daily)
        if daily and figures.holding is not None
        else None,
        "turnover": _finite(notional / mean_equity) if mean_equity > 0 else None,
    }
    tally = trades if isinstance(trades, TradeTally) else TradeTally(trades)
    metrics.update(tally.stats())
    if benchmark is not None:
        metrics.update(_benchmark_metrics(figures.equity, benchmark, solvent))
    metrics.update(
        {
            "num_fills": figures.num_fills,
            "total_commission": float(figures.commission),
            "total_fees": float(figures.fees),
            "total_borrow_fees": float(figures.borrow_fees),
            "total_margin_interest": float(figures.margin_interest),
            "total_financing_costs": float(figures.financing_costs),
            "dividends_received": float(figures.dividends_received),
            "dividends_paid": float(figures.dividends_paid),
            "total_pnl": float(figures.total_pnl),
            "start_equity": equity[0] if equity else None,
            "end_equity": equity[-1] if equity else None,
            "periods": len(daily),
            "periods_per_year": PERIODS_PER_YEAR,
        }
    )
    return metrics
