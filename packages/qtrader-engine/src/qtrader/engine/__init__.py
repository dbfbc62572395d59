"""QTrader engine: the backtest loop, the strategy context and the run's records.

Round trips, metrics, result files and the report are ``qtrader-analytics``'s, computed
from the ``BacktestResult`` (a ``qtrader.models`` value) a run returns.
"""

from qtrader.engine.clock import SimulationClock
from qtrader.engine.config import EngineConfig
from qtrader.engine.engine import BacktestEngine, EngineError, StrategyError, where_in
from qtrader.engine.history import BarHistory
from qtrader.engine.results import BacktestResult, EquityRow

__all__ = [
    "BacktestEngine",
    "BacktestResult",
    "BarHistory",
    "EngineConfig",
    "EngineError",
    "EquityRow",
    "SimulationClock",
    "StrategyError",
    "where_in",
]
