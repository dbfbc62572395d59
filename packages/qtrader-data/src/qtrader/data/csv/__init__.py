"""The generic CSV adapter: one ``SYMBOL.csv`` per symbol, optional actions file."""

from qtrader.data.csv.config import CsvColumns, CsvDataConfig
from qtrader.data.csv.source import CsvBarSource, CsvDataService
from qtrader.data.registry import SourceSpec

SOURCE = SourceSpec(
    name="csv",
    config=CsvDataConfig,
    build=CsvBarSource,
    summary="a folder of SYMBOL.csv files (+ optional actions file)",
)

__all__ = ["SOURCE", "CsvBarSource", "CsvColumns", "CsvDataConfig", "CsvDataService"]
