"""QTrader engine: the backtest loop, the strategy context, results and metrics."""

from qtrader.engine.clock import SimulationClock
from qtrader.engine.config import EngineConfig
from qtrader.engine.engine import BacktestEngine, EngineError, StrategyError
from qtrader.engine.history import BarHistory
from qtrader.engine.metrics import PERIODS_PER_YEAR, compute_metrics
from qtrader.engine.output import RESULT_FILES, atomic_write_text, result_tables, write_results
from qtrader.engine.results import (
    BacktestResult,
    EquityRow,
    Refusal,
    RoundTrip,
    SplitEvent,
    refusals,
    round_trips,
)

__all__ = [
    "PERIODS_PER_YEAR",
    "RESULT_FILES",
    "BacktestEngine",
    "BacktestResult",
    "BarHistory",
    "EngineConfig",
    "EngineError",
    "EquityRow",
    "Refusal",
    "RoundTrip",
    "SimulationClock",
    "SplitEvent",
    "StrategyError",
    "atomic_write_text",
    "compute_metrics",
    "refusals",
    "result_tables",
    "round_trips",
    "write_results",
]
