"""One run of a sweep: its config (the base with the point's values), and the worker that
runs it with the data loaded once per worker process."""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from qtrader.cli.config import (
    BacktestConfig,
    ConfigError,
    describe_validation_error,
    refuse_bool_misreads,
)
from qtrader.cli.envvars import KeyPath
from qtrader.cli.sweep.grid import SweepError


def run_id(point: dict[str, Any]) -> str:
    """A short id that depends only on the point's values (the same on every machine)."""
    text = json.dumps(point, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def with_values(document: dict[str, Any], point: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``document`` with each dotted key of ``point`` set: mappings on the
    way are created, a list is entered by the index of an entry it has
    (``strategies.1.params.fast``); a key through any other value is an error."""
    result = copy.deepcopy(document)
    for key, value in point.items():
        node: Any = result
        parts = key.split(".")
        for i, part in enumerate(parts):
            where = ".".join(parts[: i + 1])
            last = i == len(parts) - 1
            if isinstance(node, list):
                index = _list_index(node, part, key, where)
                if last:
                    node[index] = value
                else:
                    node = node[index]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, {})
            else:
                above = ".".join(parts[:i])
                raise SweepError(f"--grid {key}: {above} is not a mapping or a list in the config")
    return result


def _list_index(node: list[Any], part: str, key: str, where: str) -> int:
    if not (part.isascii() and part.isdecimal()) or int(part) >= len(node):
        has = (
            "the list is empty"
            if not node
            else f"the list has {len(node)} entries, so its index is one of 0..{len(node) - 1}"
        )
        raise SweepError(f"--grid {key}: {where}: {has}")
    return int(part)


@dataclass(frozen=True, slots=True)
class RunTask:
    """What a worker needs for one run (plain, picklable data)."""

    index: int
    run_id: str
    point: dict[str, Any]
    document: dict[str, Any]
    base_dir: str
    output: str | None
    as_written: dict[KeyPath, str] = field(default_factory=dict)
    """The values of ``document`` that came from ``${VAR}`` references, as written: its
    results folder shows them so, never a secret."""


@dataclass(frozen=True, slots=True)
class RunRecord:
    """What a worker reports for one run."""

    index: int
    run_id: str
    point: dict[str, Any]
    status: str  # "ok" or "failed"
    error: str
    seconds: float
    metrics: dict[str, float | int | None]
    results: str  # the run's results folder, "" when not kept

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "run_id": self.run_id,
            "point": self.point,
            "status": self.status,
            "error": self.error,
            "seconds": self.seconds,
            "metrics": self.metrics,
            "results": self.results,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        return cls(
            int(data["index"]),
            str(data["run_id"]),
            dict(data["point"]),
            str(data["status"]),
            str(data["error"]),
            float(data["seconds"]),
            dict(data["metrics"]),
            str(data["results"]),
        )


_DATA: dict[str, Any] = {}
"""Data services by their config, kept for the life of a worker process: each loads its
files once, and every later run of the sweep on the same data streams from memory."""
_DATA_KEPT = 2  # data sets kept per worker (a sweep over universes or dates has several)


def _data_for(config: BacktestConfig, base_dir: Path) -> Any:
    from qtrader.cli.bootstrap import build_data  # noqa: PLC0415 - heavy: workers only

    key = json.dumps(
        [config.data.model_dump(mode="json"), str(base_dir)], sort_keys=True, default=str
    )
    data = _DATA.get(key)
    if data is None:
        if len(_DATA) >= _DATA_KEPT:
            _DATA.pop(next(iter(_DATA)))
        data = _DATA[key] = build_data(config, base_dir)
    return data


def validate(
    document: dict[str, Any], label: str, as_written: Mapping[KeyPath, str] | None = None
) -> BacktestConfig:
    """A run's config; ``as_written``: what of it came from ``${VAR}`` references, shown as
    written in its errors and in the ``config.yaml`` of its results."""
    try:
        config = BacktestConfig.model_validate(document)
        refuse_bool_misreads(document, config)
    except ValidationError as exc:
        problems = describe_validation_error(exc, as_written=as_written)
        raise ConfigError(f"{label}: invalid config\n{problems}") from exc
    except ConfigError as exc:
        raise ConfigError(f"{label}: {exc}") from exc
    config._as_written = dict(as_written or {})
    return config


def written_for(as_written: Mapping[KeyPath, str], point: Mapping[str, Any]) -> dict[KeyPath, str]:
    """The references as written of a config that ``point`` changes: those of the keys it
    sets (or of what is inside them) are its values now, not the references."""
    swept = [tuple(key.split(".")) for key in point]

    def kept(path: KeyPath) -> bool:
        parts = tuple(str(part) for part in path)
        return not any(parts[: len(key)] == key for key in swept)

    return {path: text for path, text in as_written.items() if kept(path)}


def execute(task: RunTask) -> RunRecord:
    """Run one backtest; never raises for a failing run (it is recorded as failed)."""
    from qtrader.cli.bootstrap import run_backtest  # noqa: PLC0415 - heavy: workers only

    started = time.perf_counter()
    base_dir = Path(task.base_dir)
    try:
        config = validate(task.document, f"run {task.run_id}", task.as_written)
        output = None if task.output is None else Path(task.output)
        outcome = run_backtest(
            config, base_dir, output, data=_data_for(config, base_dir), stream_records=True
        )
    except Exception as exc:  # a failed run is recorded and never stops the sweep
        return RunRecord(
            task.index,
            task.run_id,
            task.point,
            "failed",
            f"{type(exc).__name__}: {exc}",
            time.perf_counter() - started,
            {},
            "",
        )
    return RunRecord(
        task.index,
        task.run_id,
        task.point,
        "ok",
        "",
        time.perf_counter() - started,
        dict(outcome.metrics),
        task.output or "",
    )
