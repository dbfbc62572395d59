"""Configuration of the generic CSV data source."""

from __future__ import annotations

from pydantic import Field, model_validator

from qtrader.data.options import BarOptions, SourcePath
from qtrader.models import FrozenModel, PriceAdjustment


class CsvColumns(FrozenModel):
    """Which header name of the file holds each field (extra columns are ignored).

    E.g. ``{date: Date, open: Open, high: High, low: Low, close: Close, volume: Volume}``.
    """

    date: str = Field(default="date", min_length=1)
    open: str = Field(default="open", min_length=1)
    high: str = Field(default="high", min_length=1)
    low: str = Field(default="low", min_length=1)
    close: str = Field(default="close", min_length=1)
    volume: str = Field(default="volume", min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> CsvColumns:
        names = list(self.model_dump().values())
        if len(set(names)) != len(names):
            raise ValueError(f"columns must name distinct headers, got {names}")
        return self

    def price_names(self) -> tuple[str, str, str, str, str]:
        """Header names of open, high, low, close, volume, in that order."""
        return (self.open, self.high, self.low, self.close, self.volume)


class CsvDataConfig(BarOptions):
    """A folder with one CSV file per symbol, ``SYMBOL.csv``."""

    path: SourcePath
    """The folder holding the files."""
    columns: CsvColumns = Field(default_factory=CsvColumns)
    price_adjustment: PriceAdjustment = PriceAdjustment.UNADJUSTED
    """Which adjustment the files' prices carry; declared by the user, not inferred."""
    actions: SourcePath | None = None
    """Optional CSV of corporate actions, ``date,symbol,type,value`` (see the README)."""
