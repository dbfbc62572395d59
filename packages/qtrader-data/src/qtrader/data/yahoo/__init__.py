"""The Yahoo adapter: a folder of ``SYMBOL.csv`` daily histories as saved from yfinance."""

from qtrader.data.registry import SourceSpec
from qtrader.data.yahoo.config import YahooDataConfig
from qtrader.data.yahoo.source import YahooBarSource

SOURCE = SourceSpec(
    name="yahoo",
    config=YahooDataConfig,
    build=YahooBarSource,
    summary="a folder of SYMBOL.csv saved from yfinance (split-adjusted, dividends as actions)",
)

__all__ = ["SOURCE", "YahooBarSource", "YahooDataConfig"]
