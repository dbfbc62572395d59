"""Configuration of the Parquet data source."""

from __future__ import annotations

from pydantic import Field

from qtrader.data.csv.config import CsvColumns
from qtrader.data.options import BarOptions, SourcePath
from qtrader.models import PriceAdjustment


class ParquetDataConfig(BarOptions):
    """A folder with ``SYMBOL.parquet`` files or ``SYMBOL/`` folders of ``*.parquet`` parts."""

    path: SourcePath
    """The folder holding the files."""
    columns: CsvColumns = Field(default_factory=CsvColumns)
    """Which column holds each field (the same mapping as the CSV source's)."""
    price_adjustment: PriceAdjustment = PriceAdjustment.UNADJUSTED
    """Which adjustment the files' prices carry; declared by the user, not inferred."""
    actions: SourcePath | None = None
    """Optional CSV of corporate actions, ``date,symbol,type,value`` (as for ``source: csv``)."""
    chunk_rows: int | None = Field(default=None, ge=1)
    """Stream each symbol in batches of this many rows (memory grows with the symbols, not
    the bars); ``None``: read each symbol whole and keep it (faster for repeated streams)."""
