"""QTrader analytics: what a run's ``BacktestResult`` says, computed after the run.

Round trips from the portfolio's closed lots, metrics (empyrical's definitions), the result
files (each folder published in one step, or written as the run goes by
``ResultFileStream``, the engine's ``RecordSink``) and the self-contained HTML report.
Depends on ``qtrader-models`` only: the app hands it the result the engine returned.
"""

from qtrader.analytics.files import (
    KNOWN_RESULT_FILES,
    RESULT_FILES,
    ResultFolder,
    atomic_path,
    atomic_write_text,
    metrics_json,
    publish_folder,
    result_tables,
    write_results,
)
from qtrader.analytics.metrics import (
    PERIODS_PER_YEAR,
    FillTotals,
    HoldingTally,
    RunFigures,
    TradeTally,
    alpha_beta,
    compute_metrics,
    metrics_from,
)
from qtrader.analytics.refusals import Refusal, RefusalCollector, refusals
from qtrader.analytics.report import (
    PricePoint,
    ReportData,
    TradeMark,
    monthly_returns,
    render_report,
)
from qtrader.analytics.stream import RecordTally, ResultFileStream
from qtrader.analytics.trades import RoundTrip, RoundTripBuilder, round_trips

__all__ = [
    "KNOWN_RESULT_FILES",
    "PERIODS_PER_YEAR",
    "RESULT_FILES",
    "FillTotals",
    "HoldingTally",
    "PricePoint",
    "RecordTally",
    "Refusal",
    "RefusalCollector",
    "ReportData",
    "ResultFileStream",
    "ResultFolder",
    "RoundTrip",
    "RoundTripBuilder",
    "RunFigures",
    "TradeMark",
    "TradeTally",
    "alpha_beta",
    "atomic_path",
    "atomic_write_text",
    "compute_metrics",
    "metrics_from",
    "metrics_json",
    "monthly_returns",
    "publish_folder",
    "refusals",
    "render_report",
    "result_tables",
    "round_trips",
    "write_results",
]
