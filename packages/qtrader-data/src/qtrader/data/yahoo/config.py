"""Configuration of the Yahoo (yfinance CSV) data source."""

from __future__ import annotations

from qtrader.data.options import BarOptions, SourcePath


class YahooDataConfig(BarOptions):
    """A folder of ``SYMBOL.csv`` files as saved from yfinance
    (``Ticker.history(auto_adjust=False).to_csv(...)``).

    The prices are split-adjusted (that is what yfinance's Open/High/Low/Close are
    without ``auto_adjust``), so there is no ``price_adjustment`` key.
    """

    path: SourcePath
    """The folder holding the files."""
