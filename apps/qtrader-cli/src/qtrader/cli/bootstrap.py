"""The composition root: config -> concrete services -> engine.

This is the only module in QTrader that names concrete service classes.
Swapping an implementation is a change of one entry below, e.g. to run
with the in-memory fake execution::

    from qtrader.models.testing import FakeExecutionService
    def build_execution(config, instruments=()): return FakeExecutionService()
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
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from qtrader.analytics import (
    RecordTally,
    Refusal,
    RefusalCollector,
    ResultFileStream,
    atomic_write_text,
    metrics_json,
    refusals,
    write_results,
)
from qtrader.cli.analysis import analyse, analyse_streamed, rebuild
from qtrader.cli.config import (
    BacktestConfig,
    ConfigError,
    describe_validation_error,
    load_config,
    refuse_bool_misreads,
)
from qtrader.cli.envvars import KeyPath, restore_as_written
from qtrader.cli.strategies import load_strategy
from qtrader.cli.versions import package_versions
from qtrader.data import (
    Anomaly,
    HistoricalDataService,
    UnknownSourceError,
    open_data_service,
    parse_source_config,
    use_jemalloc_pool,
)
from qtrader.engine import BacktestEngine, BacktestResult, EngineConfig
from qtrader.execution import ExecutionConfig, SimulatedExecutionService
from qtrader.models import (
    ExecutionService,
    Instrument,
    PortfolioService,
    RecordBatch,
    RecordSink,
    RiskService,
    Strategy,
)
from qtrader.portfolio import LotPortfolioService, PortfolioConfig
from qtrader.risk import (
    DecisionSummary,
    DecisionTally,
    PreTradeRiskService,
    RiskConfig,
    RiskConfigError,
    summarize,
)

T = TypeVar("T")

RECORDS_PER_BATCH = 2048
"""Records a streamed run hands to its files at a time (a few MiB of models)."""


def _validated(
    section: str,
    build: Callable[[], T],
    as_written: Mapping[KeyPath, str] | None = None,
    given: Mapping[str, Any] | None = None,
) -> T:
    """What ``build`` validates of the ``section`` block; with ``given`` (the block as
    written), a boolean it took for a number is refused too."""
    try:
        built = build()
    except ValidationError as exc:
        problems = describe_validation_error(exc, section, as_written)
        raise ConfigError(f"invalid config\n{problems}") from exc
    if given is not None:
        refuse_bool_misreads(given, built, (section,))
    return built


def build_data(config: BacktestConfig, base_dir: Path) -> HistoricalDataService:
    """The data service of ``data.source``; adapters are looked up by name inside
    ``qtrader-data`` (paths in the block are relative to the config file)."""
    use_jemalloc_pool()  # memory read and freed goes back (see its docstring)
    name = config.data.source
    options = config.data.options
    try:
        # Checked as written first: a boolean read as a number (``chunk_rows: yes``).
        _validated(
            "data",
            lambda: parse_source_config(name, options, base_dir=base_dir),
            config.as_written,
            options,
        )
        return _validated(
            "data", lambda: open_data_service(name, options, base_dir=base_dir), config.as_written
        )
    except UnknownSourceError as exc:
        raise ConfigError(f"data.source: {exc.message}") from exc
    except ImportError as exc:  # a built-in adapter whose optional dependency is missing
        raise ConfigError(f"data.source: cannot load the {name!r} adapter: {exc}") from exc


def build_portfolio(config: BacktestConfig) -> PortfolioService:
    options = {"initial_cash": config.initial_cash, **config.portfolio}
    return LotPortfolioService(
        _validated(
            "portfolio",
            lambda: PortfolioConfig.model_validate(options),
            config.as_written,
            options,
        )
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
        "execution", lambda: ExecutionConfig.model_validate(options), config.as_written, options
    )


def build_execution(
    config: BacktestConfig, instruments: Sequence[Instrument] = ()
) -> ExecutionService:
    """The simulated venue of ``execution_config``; ``instruments`` give each symbol its
    zone (for DAY sessions) and lot size."""
    return SimulatedExecutionService(execution_config(config), instruments=instruments)


def risk_policy(config: BacktestConfig, base_dir: Path | None = None) -> dict[str, Any]:
    """The risk policy the ``risk`` block describes: its keys, and with ``policy: FILE``
    the keys of that YAML file (relative to the config file's folder) under them, the
    block's own keys overriding the file's (so a sweep can vary one key of a policy file).
    """
    return _risk_policy(config, base_dir)[0]


def _risk_policy(
    config: BacktestConfig, base_dir: Path | None
) -> tuple[dict[str, Any], Path | None]:
    options = dict(config.risk)
    if "policy" not in options:
        return options, None
    policy = options.pop("policy")
    if not isinstance(policy, str) or not policy.strip():
        raise ConfigError(
            f"risk.policy: expected the path of a YAML risk policy file, got {policy!r}"
        )
    path = Path(policy).expanduser()
    if not path.is_absolute():
        path = (base_dir if base_dir is not None else Path.cwd()) / path
    path = path.resolve()
    if not path.is_file():
        raise ConfigError(f"risk.policy: no such risk policy file {path}")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"risk.policy: {path} is not valid YAML: {exc}") from exc
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError(
            f"risk.policy: {path} must hold a mapping of risk policy keys, "
            f"got {type(document).__name__}"
        )
    return {**document, **options}, path


def build_risk(
    config: BacktestConfig,
    base_dir: Path | None = None,
    instruments: Sequence[Instrument] = (),
) -> RiskService:
    """The risk service of the ``risk`` block (see ``risk_policy``). Every problem of the
    policy is reported at once, each under its key (and the policy file it is in);
    ``instruments`` give each symbol its lot size."""
    policy, path = _risk_policy(config, base_dir)
    problems: list[tuple[str, str]] = []
    if config.portfolio.get("allow_short") is False:
        # A portfolio that may not go short refuses the fill of a short sale and stops the
        # run: risk must refuse such orders first. Unless the policy says otherwise, in
        # which case the two contradict each other.
        if policy.get("allow_short") is True:
            problems.append(
                (
                    "allow_short",
                    "true, but portfolio.allow_short is false: a short sale risk approved "
                    "would stop the run at its fill; set both alike",
                )
            )
        policy = {**policy, "allow_short": False}
    budgets = policy.get("strategy_budgets")
    if isinstance(budgets, dict):
        ids = list(config.strategy_sections())
        problems.extend(
            (f"strategy_budgets.{sid}", f"no strategy has the id {sid!r}; the ids are {ids}")
            for sid in budgets
            if sid not in ids
        )
    risk_config = None
    try:
        risk_config = RiskConfig.from_mapping(policy)
    except RiskConfigError as exc:
        problems.extend(exc.problems)
    if problems or risk_config is None:
        lines = []
        for key, message in problems:
            top = key.split(".", maxsplit=1)[0]
            where = f" (in {path})" if path is not None and top not in config.risk else ""
            lines.append(f"risk.{key}{where}: {message}")
        raise ConfigError("invalid config\n" + "\n".join(lines))
    lots = {instrument.symbol: instrument.lot_size for instrument in instruments}
    return PreTradeRiskService(risk_config, lot_sizes=lots)


def build_strategies(config: BacktestConfig, base_dir: Path) -> dict[str, Strategy]:
    listed = config.strategies is not None
    return {
        sid: load_strategy(
            section.name,
            section.params,
            base_dir,
            strategy_id=sid,
            key=f"strategies.{index}.params" if listed else "strategy.params",
        )
        for index, (sid, section) in enumerate(config.strategy_sections().items())
    }


@dataclass(frozen=True)
class Backtest:
    engine: BacktestEngine
    config: BacktestConfig
    data: HistoricalDataService


def bootstrap(
    config: BacktestConfig,
    base_dir: Path,
    data: HistoricalDataService | None = None,
    sink: RecordSink | None = None,
    records_per_batch: int = RECORDS_PER_BATCH,
) -> Backtest:
    """Wire one backtest. ``data``: a data service already built from this config's
    ``data`` section (a sweep keeps one per worker, so files load once per worker);
    ``sink``: where the records go as the run goes (else they are kept to the end)."""
    if data is None:
        data = build_data(config, base_dir)
    instruments = data.instruments(list(config.data.symbols))
    engine = BacktestEngine(
        EngineConfig(
            start=config.start,
            end=config.end,
            symbols=config.data.symbols,
            warmup_bars=config.warmup_bars,
        ),
        data=data,
        portfolio=build_portfolio(config),
        execution=build_execution(config, instruments),
        risk=build_risk(config, base_dir, instruments),
        strategies=build_strategies(config, base_dir),
        sink=sink,
        records_per_batch=records_per_batch,
    )
    return Backtest(engine=engine, config=config, data=data)


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
    if "policy" in config.risk:  # the policy as it ran, not a file that may change
        document["risk"] = risk_policy(config, base_dir)
    for section in ("strategy", "strategies"):
        _absolute_strategy_files(document.get(section), base_dir)
    restore_as_written(document, config.as_written)
    return yaml.safe_dump(document, sort_keys=True, allow_unicode=True)


def _absolute_strategy_files(sections: Any, base_dir: Path) -> None:
    """``path/file.py:Class`` references made absolute (they are relative to the config).
    A strategy without an ``id`` is known by its name as written, in every record: that
    name becomes its ``id``, so the written config reruns under the same id."""
    for section in sections if isinstance(sections, list) else [sections]:
        if not isinstance(section, dict):
            continue
        written = str(section.get("name", ""))
        where, sep, name = written.rpartition(":")
        if sep and where.endswith(".py") and not Path(where).is_absolute():
            if section.get("id") is None:
                section["id"] = written
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
    streamed_decisions: DecisionSummary | None = None
    """What risk did with the intents, counted as they streamed (see ``decisions``)."""
    streamed_refusals: tuple[Refusal, ...] | None = None
    """The run's refusals, collected as they streamed (see ``refusals``)."""

    @property
    def refusals(self) -> tuple[Refusal, ...]:
        """Every refusal of the run (also when the records were streamed)."""
        if self.streamed_refusals is not None:
            return self.streamed_refusals
        return refusals(self.result)

    @property
    def decisions(self) -> DecisionSummary:
        """What risk did with the strategies' intents (also when the records streamed)."""
        if self.streamed_decisions is not None:
            return self.streamed_decisions
        return summarize(self.result.decisions)


class _StreamedRun:
    """The sink of a run that streams its records: the record tables (with an output
    folder) or only what the metrics need of them, and the risk decisions and refusals
    counted for the console."""

    def __init__(self, files: ResultFileStream | None) -> None:
        self.files = files
        self.tally = RecordTally() if files is None else files.tally
        self.decisions = DecisionTally()
        # Without files to read the orders back from, the working orders are remembered.
        self._refusals = RefusalCollector(remember_orders=files is None)

    def write(self, batch: RecordBatch) -> None:
        if self.files is None:
            self.tally.add(batch)
        else:
            self.files.write(batch)
        self.decisions.add(batch.decisions)
        self._refusals.add(batch.rejections, batch.order_updates, batch.orders, batch.decisions)

    def refusals(self) -> tuple[Refusal, ...]:
        """Every refusal of the run; a venue's refusal of an order placed in an earlier
        batch gets its strategy and symbol from the ``orders.csv`` written (closed)."""
        unplaced = self._refusals.unplaced
        if unplaced and self.files is not None:
            with (self.files.path / "orders.csv").open(newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    if row["order_id"] in unplaced:
                        self._refusals.place(row["order_id"], row["strategy_id"], row["symbol"])
        return self._refusals.refusals()


def run_backtest(
    config: BacktestConfig,
    base_dir: Path,
    output: Path | None,
    data: HistoricalDataService | None = None,
    progress: Callable[[datetime], None] | None = None,
    log_level: int = logging.INFO,
    stream_records: bool = False,
    records_per_batch: int = RECORDS_PER_BATCH,
) -> RunOutcome:
    """Run one backtest; write its files into ``output`` when given.

    Strategies' ``ctx.log`` lines at ``log_level`` or above are collected (prefixed with
    the bar's time and the strategy id, never the wall clock) and written to ``log.txt``.
    With ``stream_records``, the records are written as the run goes (or, without an
    ``output``, only added up) and not kept (``qtrader backtest`` and sweeps do so: memory
    stays flat as runs get longer); the files and metrics are the same, and the outcome's
    result holds no records (``records_streamed``).
    """
    if stream_records:
        return _run_streamed(config, base_dir, output, data, progress, log_level, records_per_batch)
    backtest = bootstrap(config, base_dir, data)
    _check_analysis_symbols(config, backtest.data)
    with _strategy_log(log_level) as lines:
        result = backtest.engine.run(progress)
    execution = execution_config(config).describe()
    models = models_used(config, base_dir, backtest.data)
    analysis = analyse(config, result, backtest.data, models, report=output is not None)
    anomalies = _anomalies_of_run(config, backtest.data)
    if output is None:
        return RunOutcome(result, analysis.metrics, anomalies, execution)
    extra = _extra_files(config, base_dir, anomalies, lines)
    extra["report.html"] = analysis.report
    write_results(result, output, extra, trades=analysis.trades, metrics=analysis.metrics)
    return RunOutcome(result, analysis.metrics, anomalies, execution)


def _run_streamed(
    config: BacktestConfig,
    base_dir: Path,
    output: Path | None,
    data: HistoricalDataService | None,
    progress: Callable[[datetime], None] | None,
    log_level: int,
    records_per_batch: int,
) -> RunOutcome:
    # A foreign output folder is refused here, before the run.
    files = None if output is None else ResultFileStream(output)
    try:
        sink = _StreamedRun(files)
        backtest = bootstrap(config, base_dir, data, sink, records_per_batch)
        _check_analysis_symbols(config, backtest.data)
        with _strategy_log(log_level) as lines:
            result = backtest.engine.run(progress)
        models = models_used(config, base_dir, backtest.data)
        if files is not None:
            files.close()
        folder = None if files is None else files.path
        analysis = analyse_streamed(config, result, sink.tally, backtest.data, models, folder)
        anomalies = _anomalies_of_run(config, backtest.data)
        refused = sink.refusals()
        if files is not None:
            extra = _extra_files(config, base_dir, anomalies, lines)
            extra["report.html"] = analysis.report
            files.publish(result, analysis.metrics, extra)
    except BaseException:
        if files is not None:
            files.discard()
        raise
    execution = execution_config(config).describe()
    return RunOutcome(
        result, analysis.metrics, anomalies, execution, sink.decisions.summary(), refused
    )


def _anomalies_of_run(config: BacktestConfig, data: HistoricalDataService) -> tuple[Anomaly, ...]:
    """The anomalies of the symbols this run read: its data symbols, its benchmark and its
    report symbol, once the analysis has read them. Not any other symbol the data service
    holds: a sweep's worker keeps one service for its runs, and what an earlier run loaded
    is not this run's."""
    used = {*config.data.symbols, *(s for s in (config.benchmark, config.report.symbol) if s)}
    return tuple(a for a in data.anomalies if a.symbol in used)


def _extra_files(
    config: BacktestConfig, base_dir: Path, anomalies: Sequence[Anomaly], lines: Sequence[str]
) -> dict[str, str]:
    """The files of a results folder beside the records, the metrics and the report."""
    return {
        "config.yaml": resolved_config_yaml(config, base_dir),
        "versions.json": versions_json(),
        "data_anomalies.csv": anomalies_csv(anomalies),
        "log.txt": "".join(f"{line}\n" for line in lines),
    }


def _check_analysis_symbols(config: BacktestConfig, data: HistoricalDataService) -> None:
    """The benchmark and report symbols exist, checked before the run rather than after."""
    for key, symbol in (("benchmark", config.benchmark), ("report.symbol", config.report.symbol)):
        if symbol is None:
            continue
        try:
            data.instruments([symbol])
        except (KeyError, ValueError) as exc:
            message = exc.args[0] if exc.args else exc
            raise ConfigError(f"{key}: {message}") from exc


def models_used(
    config: BacktestConfig, base_dir: Path, data: HistoricalDataService
) -> dict[str, str]:
    """The models a run used, as the report lists them. A value that came from a
    ``${VAR}`` reference is shown as written, never its value (the report is a result
    file: no secret may reach it)."""
    portfolio = _validated(
        "portfolio",
        lambda: PortfolioConfig.model_validate(
            {"initial_cash": config.initial_cash, **config.portfolio}
        ),
        config.as_written,
    )
    policy = restore_as_written({"risk": risk_policy(config, base_dir)}, config.as_written)["risk"]
    return {
        "fills and costs": execution_config(config).describe(),
        "lot matching": portfolio.lot_matching,
        "prices": f"{config.data.source} data, {data.price_adjustment.value}",
        "risk": ", ".join(f"{k}={v}" for k, v in sorted(policy.items())) or "defaults",
    }


def rebuild_report(folder: Path) -> dict[str, float | int | None]:
    """``qtrader report``: ``metrics.json`` and ``report.html`` of a results folder made
    again from its files (the config it holds, its equity, fills, trades and ledger; the
    data its config names, for the benchmark and the report symbol's prices), each file
    replaced atomically. A folder written by ``qtrader backtest`` gets back both files
    byte for byte."""
    config_path = folder / "config.yaml"
    if not config_path.is_file():
        raise ConfigError(f"{folder}: not a results folder (no config.yaml)")
    config = load_config(config_path)
    base_dir = config_path.resolve().parent
    data = build_data(config, base_dir)
    metrics, report = rebuild(folder, config, data, models_used(config, base_dir, data))
    atomic_write_text(folder / "metrics.json", metrics_json(metrics))
    atomic_write_text(folder / "report.html", report)
    return metrics


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
