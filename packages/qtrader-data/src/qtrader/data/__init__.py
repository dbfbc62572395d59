"""QTrader data service: validated bars from files, merged into time-aligned slices.

``CsvDataService`` implements ``qtrader.models.DataService`` over a folder of
one CSV file per symbol; ``merge_bar_series`` is the streaming merge that any
adapter producing ``BarSeries`` can reuse.
"""

from qtrader.data.config import CsvColumns, CsvDataConfig, ValidationPolicy
from qtrader.data.csv_service import CsvDataService
from qtrader.data.errors import Anomaly, AnomalyAction, DataError, UnknownSymbolError
from qtrader.data.merge import merge_bar_series
from qtrader.data.series import CLOSE, HIGH, LOW, OPEN, VOLUME, BarSeries

__all__ = [
    "CLOSE",
    "HIGH",
    "LOW",
    "OPEN",
    "VOLUME",
    "Anomaly",
    "AnomalyAction",
    "BarSeries",
    "CsvColumns",
    "CsvDataConfig",
    "CsvDataService",
    "DataError",
    "UnknownSymbolError",
    "ValidationPolicy",
    "merge_bar_series",
]
