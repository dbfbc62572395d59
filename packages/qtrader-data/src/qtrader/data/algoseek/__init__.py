"""The Algoseek adapter: US Equity Daily OHLC as CSV files or Hive-partitioned Parquet.

Files are found by the ``Ticker`` and ``SecId`` columns inside them (any file
names), corporate actions come from the ex-date rows, and ``adjustment`` picks
the view: ``unadjusted``, ``split_adjusted`` or ``total_return``.
"""

from qtrader.data.algoseek.config import AlgoseekConfig
from qtrader.data.algoseek.source import AlgoseekBarSource
from qtrader.data.registry import SourceSpec

SOURCE = SourceSpec(
    name="algoseek",
    config=AlgoseekConfig,
    build=AlgoseekBarSource,
    summary="a folder of Algoseek US Equity Daily OHLC files (CSV or Hive Parquet), any names",
)

__all__ = ["SOURCE", "AlgoseekBarSource", "AlgoseekConfig"]
