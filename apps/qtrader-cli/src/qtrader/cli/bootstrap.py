"""The composition root: config -> concrete services -> engine.

This is the only module in QTrader that names concrete service classes.
Swapping an implementation is a change of one entry below, e.g. to run
with the in-memory fake execution::

    from qtrader.models.testing import FakeExecutionService
    def build_execution(config): return FakeExecutionService()
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from qtrader.cli.config import BacktestConfig, ConfigError, describe_validation_error
from qtrader.cli.envvars import KeyPath, restore_as_written
from qtrader.cli.strategies import load_strategy
from qtrader.data import (
    Anomaly,
    HistoricalDataService,
    UnknownSourceError,
    open_data_service,
    parse_source_config,
)
from qtrader.engine import (
    BacktestEngine,
    BacktestResult,
    EngineConfig,
    compute_metrics,
    write_results,
)
from qtrader.execution import ExecutionConfig, SimulatedExecutionService
from qtrader.models import (
    ExecutionService,
    Instrument,
    PortfolioService,
    RiskService,
    Strategy,
)
from qtrader.portfolio import LotPortfolioService, PortfolioConfig
from qtrader.risk import PreTradeRiskService, RiskConfig

T = TypeVar("T")

DISTRIBUTIONS = (
    "qtrader-models",
    "qtrader-data",
    "qtrader-portfolio",
    "qtrader-execution",
    "qtrader-risk",
    "qtrader-engine",
    "qtrader-cli",
)


def _validated(
    section: str, build: Callable[[], T], as_written: Mapping[KeyPath, str] | None = None
) -> T:
    try:
        return build()
    except ValidationError as exc:
        problems = describe_validation_error(exc, section, as_written)
        raise ConfigError(f"invalid config\n{problems}") from exc


def build_data(config: BacktestConfig, base_dir: Path) -> HistoricalDataService:
    """The data service of ``data.source``; adapters are looked up by name inside
    ``qtrader-data`` (paths in the block are relative to the config file)."""
    name = config.data.source
    try:
        return _validated(
            "data",
            lambda: open_data_service(name, config.data.options, base_dir=base_dir),
            config.as_written,
        )
    except UnknownSourceError as exc:
        raise ConfigError(f"data.source: {exc.message}") from exc
    except ImportError as exc:  # a built-in adapter whose optional dependency is missing
        raise ConfigError(f"data.source: cannot load the {name!r} adapter: {exc}") from exc


def build_portfolio(config: BacktestConfig) -> PortfolioService:
    options = {"initial_cash": config.initial_cash, **config.portfolio}
    return LotPortfolioService(
        _validated("portfolio", lambda: PortfolioConfig.model_validate(options), config.as_written)
    )


# The data block's session keys and the execution session's (local times, the zone).
_DATA_SESSION_KEYS = {"session_open": "open", "session_close": "close", "timezone": "timezone"}


def execution_config(config: BacktestConfig) -> ExecutionConfig:
    """The venue's settings: the ``execution`` block, defaults filled in. Without an
    ``execution.session`` block, the venue's session is the one the data block sets
    (``session_open``, ``session_close``, ``timezone``), so that DAY orders and
    market-on-close end where the data's daily bars are stamped.

    The app reports every state of every order (``lifecycle_updates``: accepted, partially
    filled, filled, as well as cancelled, rejected and expired) in ``order_updates.csv``
    unless the config says ``lifecycle_updates: false``; the venue itself defaults to off
    so that a library user opts in."""
    options = {"lifecycle_updates": True, **config.execution}
    data = config.data.options
    if "session" not in options and data.keys() & _DATA_SESSION_KEYS.keys():
        options["session"] = {
            ours: data[theirs] for theirs, ours in _DATA_SESSION_KEYS.items() if theirs in data
        }
    return _validated(
        "execution", lambda: ExecutionConfig.model_validate(options), config.as_written
    )


def build_execution(
    config: BacktestConfig, instruments: Sequence[Instrument] = ()
) -> ExecutionService:
    """The simulated venue of ``execution_config``; ``instruments`` give each symbol its
    zone (for DAY sessions) and lot size."""
    return SimulatedExecutionService(execution_config(config), instruments=instruments)


def build_risk(config: BacktestConfig) -> RiskService:
    options = dict(config.risk)
    preset = options.pop("preset", None)

    def make() -> RiskConfig:
        if preset is None:
            return RiskConfig.model_validate(options)
        base = RiskConfig.preset(str(preset)).model_dump()
        return RiskConfig.model_validate({**base, **options})

    try:
        return PreTradeRiskService(_validated("risk", make, config.as_written))
    except (KeyError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"risk.preset: {exc}") from exc


def build_strategies(config: BacktestConfig, base_dir: Path) -> dict[str, Strategy]:
    return {
        sid: load_strategy(section.name, section.params, base_dir)
        for sid, section in config.strategy_sections().items()
    }


@dataclass(frozen=True)
class Backtest:
    engine: BacktestEngine
    config: BacktestConfig
    data: HistoricalDataService


def bootstrap(
    config: BacktestConfig, base_dir: Path, data: HistoricalDataService | None = None
) -> Backtest:
    """Wire one backtest. ``data``: a data service already built from this config's
    ``data`` section (a sweep keeps one per worker, so files load once per worker)."""
    if data is None:
        data = build_data(config, base_dir)
    engine = BacktestEngine(
        EngineConfig(
            start=config.start,
            end=config.end,
            symbols=config.data.symbols,
            warmup_bars=config.warmup_bars,
        ),
        data=data,
        portfolio=build_portfolio(config),
        execution=build_execution(config, data.instruments(list(config.data.symbols))),
        risk=build_risk(config),
        strategies=build_strategies(config, base_dir),
    )
    return Backtest(engine=engine, config=config, data=data)


def package_versions() -> dict[str, str]:
    versions = {}
    for name in DISTRIBUTIONS:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - only outside an install
            versions[name] = "unknown"
    return versions


def resolved_config_yaml(config: BacktestConfig, base_dir: Path) -> str:
    """The config as it ran, to run again: every path absolute, the data adapter's and the
    venue's defaults filled in. ``qtrader backtest RESULTS/config.yaml`` reproduces the
    results byte for byte (package versions are in ``versions.json`` beside it). Values
    that came from ``${VAR}`` references are written as the file had them: never a secret."""
    document = config.model_dump(mode="json", exclude_none=True)
    adapter = parse_source_config(config.data.source, config.data.options, base_dir=base_dir)
    document["data"] = {
        "source": config.data.source,
        "symbols": list(config.data.symbols),
        **adapter.model_dump(mode="json", exclude_none=True),
    }
    document["execution"] = execution_config(config).model_dump(mode="json", exclude_none=True)
    for section in ("strategy", "strategies"):
        _absolute_strategy_files(document.get(section), base_dir)
    restore_as_written(document, config.as_written)
    return yaml.safe_dump(document, sort_keys=True, allow_unicode=True)


def _absolute_strategy_files(sections: Any, base_dir: Path) -> None:
    """``path/file.py:Class`` references made absolute (they are relative to the config)."""
    for section in sections if isinstance(sections, list) else [sections]:
        if not isinstance(section, dict):
            continue
        where, sep, name = str(section.get("name", "")).rpartition(":")
        if sep and where.endswith(".py") and not Path(where).is_absolute():
            section["name"] = f"{(base_dir / where).resolve()}:{name}"


def versions_json() -> str:
    """The version of every QTrader distribution that ran, as ``versions.json``."""
    return json.dumps(package_versions(), indent=2, sort_keys=True) + "\n"


def anomalies_csv(anomalies: Sequence[Anomaly]) -> str:
    """One row per anomaly; ``source`` is the file name (with ``line``) or the API request."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("symbol", "source", "line", "date", "problem", "action"))
    writer.writerows(
        (
            a.symbol,
            a.path.name if a.path is not None else a.request or "",
            "" if a.line is None else a.line,
            a.date,
            a.problem,
            a.action.value,
        )
        for a in anomalies
    )
    return buffer.getvalue()


@dataclass(frozen=True)
class RunOutcome:
    result: BacktestResult
    metrics: dict[str, float | int | None]
    anomalies: tuple[Anomaly, ...]
    execution: str = ""
    """How orders were filled and charged (``ExecutionConfig.describe``), for the summary."""


def run_backtest(
    config: BacktestConfig,
    base_dir: Path,
    output: Path | None,
    data: HistoricalDataService | None = None,
    progress: Callable[[datetime], None] | None = None,
    log_level: int = logging.INFO,
) -> RunOutcome:
    """Run one backtest; write its files into ``output`` when given.

    Strategies' ``ctx.log`` lines at ``log_level`` or above are collected (prefixed with
    the bar's time and the strategy id, never the wall clock) and written to ``log.txt``.
    """
    backtest = bootstrap(config, base_dir, data)
    with _strategy_log(log_level) as lines:
        result = backtest.engine.run(progress)
    anomalies = backtest.data.anomalies
    execution = execution_config(config).describe()
    if output is None:
        return RunOutcome(result, compute_metrics(result), anomalies, execution)
    extra = {
        "config.yaml": resolved_config_yaml(config, base_dir),
        "versions.json": versions_json(),
        "data_anomalies.csv": anomalies_csv(anomalies),
        "log.txt": "".join(f"{line}\n" for line in lines),
    }
    return RunOutcome(result, write_results(result, output, extra), anomalies, execution)


STRATEGY_LOGGER = "qtrader.engine"
"""The parent of every strategy's logger (``ctx.log`` logs at INFO through it)."""


class _Collect(logging.Handler):
    def __init__(self, lines: list[str], level: int) -> None:
        super().__init__(level)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def _strategy_log(level: int) -> Iterator[list[str]]:
    """Collect the strategies' log lines at ``level`` or above during a run."""
    lines: list[str] = []
    logger = logging.getLogger(STRATEGY_LOGGER)
    handler = _Collect(lines, level)
    before = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > level:
        logger.setLevel(level)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before)
