"""Configuration of the Algoseek US Equity Daily OHLC source."""

from __future__ import annotations

from pydantic import Field

from qtrader.data.options import BarOptions, SourcePath
from qtrader.models import PriceAdjustment

DEFAULT_TOLERANCE = 0.005
"""The vendor's own samples have opens/closes up to 0.18% outside [low, high] (AAPL
2007-12-21); 0.5% loads them (each such row reported as widened) while a real error,
such as a high below the low or a missing price, still stops a ``strict`` load."""


class AlgoseekConfig(BarOptions):
    """A folder of Algoseek daily files (CSV, or Hive-partitioned Parquet) of any names."""

    path: SourcePath
    """The folder; searched recursively for ``*.csv`` and ``*.parquet`` files."""
    adjustment: PriceAdjustment = PriceAdjustment.UNADJUSTED
    """The view delivered: ``unadjusted`` (as traded, splits and dividends as actions),
    ``split_adjusted`` (dividends as actions per adjusted share) or ``total_return``."""
    security_master: SourcePath | None = None
    """Optional Algoseek security master CSV mapping tickers to SecIds by date."""
    tolerance: float = Field(default=DEFAULT_TOLERANCE, ge=0.0, lt=1.0, allow_inf_nan=False)
