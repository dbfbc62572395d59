"""Performance metrics, following empyrical's definitions.

Conventions: daily simple returns of the equity curve (one row per traded
timestamp; the first row has no return), 252 periods a year, risk-free rate
0, ``max_drawdown`` a negative fraction, ``cagr`` empyrical's
``annual_return``. Undefined figures (e.g. Sharpe with zero volatility) are
``None``, written as JSON ``null``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from qtrader.engine.results import BacktestResult, RoundTrip

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


def trade_stats(trades: Sequence[RoundTrip]) -> dict[str, float | int | None]:
    wins = [float(t.pnl) for t in trades if t.pnl > 0]
    losses = [float(t.pnl) for t in trades if t.pnl < 0]
    gross_loss = -sum(losses)
    return {
        "num_trades": len(trades),
        "win_rate": len(wins) / len(trades) if trades else None,
        "profit_factor": _finite(sum(wins) / gross_loss) if gross_loss > 0 else None,
    }


def compute_metrics(result: BacktestResult) -> dict[str, float | int | None]:
    """The metrics of one run, ready for ``metrics.json``."""
    equity = [float(row.equity) for row in result.equity]
    r = returns_from_equity(equity)
    metrics: dict[str, float | int | None] = {
        "total_return": total_return(r),
        "cagr": _finite(cagr(r)),
        "volatility": _finite(volatility(r)),
        "sharpe": _finite(sharpe(r)),
        "sortino": _finite(sortino(r)),
        "max_drawdown": max_drawdown(r),
        "calmar": _finite(calmar(r)),
    }
    metrics.update(trade_stats(result.trades))
    metrics.update(
        {
            "num_fills": len(result.fills),
            "total_commission": float(sum(f.commission for f in result.fills)),
            "start_equity": equity[0] if equity else None,
            "end_equity": equity[-1] if equity else None,
            "periods": len(equity),
            "periods_per_year": PERIODS_PER_YEAR,
        }
    )
    return metrics
