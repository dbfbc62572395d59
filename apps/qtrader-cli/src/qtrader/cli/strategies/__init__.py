"""Built-in example strategies, and loading of user strategies by reference."""

from qtrader.cli.strategies.bollinger_mean_reversion import (
    BollingerMeanReversion,
    BollingerMeanReversionParams,
)
from qtrader.cli.strategies.buy_and_hold import BuyAndHold, BuyAndHoldParams
from qtrader.cli.strategies.loader import BUILT_IN, StrategyLoadError, load_strategy
from qtrader.cli.strategies.monthly_rebalance import MonthlyRebalance, MonthlyRebalanceParams
from qtrader.cli.strategies.sma_crossover import SmaCrossover, SmaCrossoverParams

__all__ = [
    "BUILT_IN",
    "BollingerMeanReversion",
    "BollingerMeanReversionParams",
    "BuyAndHold",
    "BuyAndHoldParams",
    "MonthlyRebalance",
    "MonthlyRebalanceParams",
    "SmaCrossover",
    "SmaCrossoverParams",
    "StrategyLoadError",
    "load_strategy",
]
