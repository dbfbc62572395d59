"""The Parquet adapter: ``SYMBOL.parquet`` or a ``SYMBOL/`` folder of parts per symbol."""

from qtrader.data.parquet.config import ParquetDataConfig
from qtrader.data.parquet.source import ParquetBarSource
from qtrader.data.registry import SourceSpec

SOURCE = SourceSpec(
    name="parquet",
    config=ParquetDataConfig,
    build=ParquetBarSource,
    summary="a folder of SYMBOL.parquet files or SYMBOL/ part folders (+ optional actions file)",
)

__all__ = ["SOURCE", "ParquetBarSource", "ParquetDataConfig"]
