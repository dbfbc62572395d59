"""QTrader data service: vendor adapters behind one port, merged into time-aligned slices.

Each adapter (``csv``, ``parquet``, ``yahoo``, ``algoseek``, ``schwab``) reads one
format or API into validated columns plus corporate actions and anomalies
(``SymbolData``); ``HistoricalDataService`` implements ``qtrader.models.DataService``
over any of them. ``open_data_service(name, options)`` builds one by name.
"""

from qtrader.data._arrow import use_jemalloc_pool
from qtrader.data.csv import CsvBarSource, CsvColumns, CsvDataConfig, CsvDataService
from qtrader.data.errors import (
    Anomaly,
    AnomalyAction,
    DataError,
    UnknownSourceError,
    UnknownSymbolError,
)
from qtrader.data.merge import merge_bar_series
from qtrader.data.options import BarOptions, SourcePath, ValidationPolicy
from qtrader.data.registry import (
    OAuthLogin,
    SourceSpec,
    open_data_service,
    parse_source_config,
    register_source,
    source_names,
    source_spec,
)
from qtrader.data.series import CLOSE, HIGH, LOW, OPEN, VOLUME, BarSeries
from qtrader.data.service import HistoricalDataService, fetch_window
from qtrader.data.source import (
    BarSource,
    ChunkedData,
    ChunkedSource,
    FetchingSource,
    SeriesChunk,
    SymbolData,
    UpdateReport,
)

__all__ = [
    "CLOSE",
    "HIGH",
    "LOW",
    "OPEN",
    "VOLUME",
    "Anomaly",
    "AnomalyAction",
    "BarOptions",
    "BarSeries",
    "BarSource",
    "ChunkedData",
    "ChunkedSource",
    "CsvBarSource",
    "CsvColumns",
    "CsvDataConfig",
    "CsvDataService",
    "DataError",
    "FetchingSource",
    "HistoricalDataService",
    "OAuthLogin",
    "SeriesChunk",
    "SourcePath",
    "SourceSpec",
    "SymbolData",
    "UnknownSourceError",
    "UnknownSymbolError",
    "UpdateReport",
    "ValidationPolicy",
    "fetch_window",
    "merge_bar_series",
    "open_data_service",
    "parse_source_config",
    "register_source",
    "source_names",
    "source_spec",
    "use_jemalloc_pool",
]
