"""Like-for-like benchmark of QTrader against backtrader, backtesting.py and NautilusTrader.

``qtrader-bench --sizes 10x5000,100x5000`` generates the data, runs QTrader's ``qtrader
backtest`` and each peer (in its own environment) as subprocesses, checks that every
library's fills equal QTrader's and prints the timings. See the README.
"""

__version__ = "0.1.0"
