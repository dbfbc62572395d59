"""The one-call Python API: ``run_backtest(config)`` and pandas views of what it produced.

    from qtrader.cli import run_backtest

    run = run_backtest("examples/sma_crossover.yaml")          # a path (str or Path)
    run = run_backtest({"start": "2019-01-02", ...}, base_dir=".")   # or a dict, or a model
    run.fills, run.equity, run.trades, run.orders              # pandas DataFrames
    run.metrics                                                 # dict, as in metrics.json
    run.result                                                  # the exact records (Decimal)

The DataFrames are read from the very CSV text the result files hold (``result_tables``),
so a view and its file never disagree; prices and quantities are floats there, for
analysis. Money stays exact in ``run.result`` (``Decimal``), as the accounting keeps it.
With ``output``, the result files are written as ``qtrader backtest --output`` writes them.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from qtrader.analytics import result_tables
from qtrader.cli.bootstrap import run_backtest as _run
from qtrader.cli.config import (
    BacktestConfig,
    ConfigError,
    describe_validation_error,
    load_config,
    refuse_bool_misreads,
)
from qtrader.data import Anomaly
from qtrader.models import BacktestResult

if TYPE_CHECKING:
    import pandas as pd

ConfigLike = str | Path | Mapping[str, Any] | BacktestConfig

# Columns of names and words, read as text whatever they hold.
_TEXT_COLUMNS = (
    "strategy_id", "symbol", "order_id", "fill_id", "id", "tag", "reference", "parent_id",
    "close_lots", "lots_closed", "lots_named", "reason", "intent", "figures", "status",
    "side", "order_side", "type", "time_in_force", "direction", "replaces",
)  # fmt: skip


@dataclass(frozen=True)
class BacktestRun:
    """A finished backtest: the exact records, the metrics and pandas views of both."""

    config: BacktestConfig
    result: BacktestResult
    metrics: dict[str, float | int | None]
    anomalies: tuple[Anomaly, ...]
    _tables: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def table(self, name: str) -> pd.DataFrame:
        """One result table (``fills``, ``orders``, ``order_updates``, ``trades``,
        ``equity``, ``risk_decisions``) as a DataFrame, timestamps parsed."""
        import pandas as pd  # noqa: PLC0415 - the CLI itself never needs pandas

        if not self._tables:
            self._tables.update(result_tables(self.result))
        key = f"{name}.csv"
        if key not in self._tables:
            known = ", ".join(sorted(n.removesuffix(".csv") for n in self._tables))
            raise KeyError(f"no result table {name!r}; the tables are {known}")
        # Only an empty field is missing: "NA", "null" or "TRUE" are tickers or ids as
        # written, and names are text ("001" is not the number 1).
        frame = pd.read_csv(
            io.StringIO(self._tables[key]),
            keep_default_na=False,
            na_values=[""],
            dtype=dict.fromkeys(_TEXT_COLUMNS, str),
        )
        for column in frame.columns:
            if column == "timestamp" or column.endswith(("_time", "_at")):
                frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame

    @property
    def fills(self) -> pd.DataFrame:
        return self.table("fills")

    @property
    def orders(self) -> pd.DataFrame:
        return self.table("orders")

    @property
    def trades(self) -> pd.DataFrame:
        return self.table("trades")

    @property
    def equity(self) -> pd.DataFrame:
        """Cash and equity at each bar's close, indexed by timestamp (UTC)."""
        return self.table("equity").set_index("timestamp")


def run_backtest(
    config: ConfigLike,
    *,
    output: str | Path | None = None,
    base_dir: str | Path | None = None,
) -> BacktestRun:
    """Run one backtest from a config file path, a dict (as the YAML would hold) or a
    ``BacktestConfig``. Relative paths in the config are taken from the config file's
    folder, or from ``base_dir`` (default: the current folder) for a dict or a model.
    Errors are ``ConfigError``/``ValueError`` with the messages the CLI prints."""
    if isinstance(config, str | Path):
        path = Path(config)
        model = load_config(path)
        folder = path.resolve().parent if base_dir is None else Path(base_dir).resolve()
    else:
        if isinstance(config, BacktestConfig):
            model = config
        else:
            if not isinstance(config, Mapping):
                raise ConfigError(
                    "invalid config: expected a config file's path, a mapping of its keys or a "
                    f"BacktestConfig, got {type(config).__name__}"
                )
            try:
                model = BacktestConfig.model_validate(dict(config))
            except ValidationError as exc:
                raise ConfigError(f"invalid config\n{describe_validation_error(exc)}") from exc
            refuse_bool_misreads(config, model)
        folder = Path.cwd() if base_dir is None else Path(base_dir).resolve()
    outcome = _run(model, folder, None if output is None else Path(output))
    return BacktestRun(model, outcome.result, outcome.metrics, outcome.anomalies)
