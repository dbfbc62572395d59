"""Built-in example strategies, and loading of user strategies by reference."""

from qtrader.cli.strategies.buy_and_hold import BuyAndHold, BuyAndHoldParams
from qtrader.cli.strategies.loader import BUILT_IN, StrategyLoadError, load_strategy
from qtrader.cli.strategies.sma_crossover import SmaCrossover, SmaCrossoverParams

__all__ = [
    "BUILT_IN",
    "BuyAndHold",
    "BuyAndHoldParams",
    "SmaCrossover",
    "SmaCrossoverParams",
    "StrategyLoadError",
    "load_strategy",
]
