"""A parameter sweep: every point of a grid (or a random sample of it) run as an
independent, deterministic backtest, on any executor, into one result table.

Files in the output folder:

- ``sweep.json``: what was asked (config, axes, constraint, sample), so that a second
  invocation knows whether it resumes the same sweep;
- ``runs.jsonl``: one line per finished run, appended (and flushed to disk) as runs
  finish: an interrupted sweep resumes from it and skips every run already done;
- ``runs/<run_id>/``: each run's full results (all of them, or the ``keep`` best);
- ``results.csv`` and ``results.parquet``: one row per run in grid order: ``run_id``, a
  column per swept key (named as on the command line), every metric of ``metrics.json``
  under its own name, ``status`` (``ok``/``failed``), ``error``, ``seconds`` (run time:
  the only column that differs between two sweeps) and ``results`` (the run's folder, or
  empty). Written to a temporary file and renamed.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import hashlib
import io
import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qtrader.analytics import atomic_path
from qtrader.cli.config import load_config
from qtrader.cli.sweep.executors import SweepExecutor
from qtrader.cli.sweep.grid import Axis, Constraint, SweepError, combinations, sample
from qtrader.cli.sweep.runs import (
    RunRecord,
    RunTask,
    execute,
    run_id,
    with_values,
    written_for,
)

Progress = Callable[[int, int, int, "RunRecord | None"], None]
"""``progress(done, total, failed, best)`` after each run."""


@dataclass(frozen=True, slots=True)
class SweepSpec:
    config: Path
    axes: tuple[Axis, ...]
    output: Path
    where: str | None = None
    random: int | None = None
    seed: int = 0
    keep: int | None = None
    """Keep the full results of the ``keep`` best runs by ``metric``; ``None``: all."""
    metric: str = "sharpe"
    maximize: bool = True

    def describe(self) -> dict[str, Any]:
        """What makes two invocations the same sweep: the config (its path and its text:
        runs made with an edited config must not be mixed with new ones), the axes, the
        constraint and the sample."""
        try:
            text = self.config.read_bytes()
        except OSError as exc:
            raise SweepError(f"{self.config}: cannot read the config ({exc})") from exc
        return {
            "config": str(self.config.resolve()),
            "config_sha256": hashlib.sha256(text).hexdigest(),
            "axes": {a.key: list(a.values) for a in self.axes},
            "where": self.where,
            "random": self.random,
            "seed": self.seed,
        }


@dataclass(frozen=True, slots=True)
class SweepResult:
    records: tuple[RunRecord, ...]
    """One per point, in grid order."""
    skipped: int
    """Points the constraint left out."""
    resumed: int
    """Runs found done in ``runs.jsonl`` and not run again."""
    best: RunRecord | None

    @property
    def failed(self) -> int:
        return sum(r.status != "ok" for r in self.records)


def points_of(spec: SweepSpec) -> tuple[list[dict[str, Any]], int]:
    """The points to run, in grid order, and how many the constraint skipped."""
    if not spec.axes:
        raise SweepError("nothing to sweep: give at least one --grid KEY=V1,V2")
    every = combinations(spec.axes)
    if spec.where:
        keep = Constraint(spec.where, [a.key for a in spec.axes])
        points = [p for p in every if keep(p)]
    else:
        points = every
    skipped = len(every) - len(points)
    if spec.random is not None:
        points = sample(points, spec.random, spec.seed)
    if not points:
        raise SweepError(f"--where {spec.where!r} leaves no point to run")
    return points, skipped


def _score(record: RunRecord, metric: str, maximize: bool) -> float | None:
    value = record.metrics.get(metric)
    if record.status != "ok" or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value) if maximize else -float(value)


def best_of(records: Sequence[RunRecord], metric: str, maximize: bool) -> RunRecord | None:
    scored = [(s, -r.index, r) for r in records if (s := _score(r, metric, maximize)) is not None]
    return max(scored, key=lambda t: (t[0], t[1]))[2] if scored else None


def run_sweep(
    spec: SweepSpec, executor: SweepExecutor, progress: Progress | None = None
) -> SweepResult:
    if spec.keep is not None and spec.keep < 0:
        raise SweepError(
            f"--keep {spec.keep}: expected 0 or more (how many of the best runs keep their "
            "results folders)"
        )
    base = load_config(spec.config)
    base_dir = spec.config.resolve().parent
    document = base.model_dump(mode="json", exclude_none=True)
    points, skipped = points_of(spec)
    # Absolute, so that a sweep resumed from another working folder finds its runs.
    output = spec.output.absolute()
    make_output_folder(output)
    _check_same_sweep(spec)
    journal = output / "runs.jsonl"
    done = _read_journal(journal, output)
    tasks = []
    for index, point in enumerate(points):
        rid = run_id(point)
        if rid in done:
            continue
        values = with_values(document, point)  # validated by the worker: a bad one fails
        written = written_for(base.as_written, point)
        folder = str(output / "runs" / rid)
        tasks.append(RunTask(index, rid, point, values, str(base_dir), folder, written))
    records = dict(done)
    resumed = len(records)
    failed = sum(r.status != "ok" for r in records.values())
    best = best_of(list(records.values()), spec.metric, spec.maximize)
    with journal.open("a", encoding="utf-8") as log:
        for record in executor.map_unordered(execute, tasks):
            line = record.as_json()
            if record.results:  # relative to the sweep's folder, which may move
                line["results"] = os.path.relpath(record.results, output)
            log.write(json.dumps(line, sort_keys=True, default=str) + "\n")
            log.flush()
            os.fsync(log.fileno())
            records[record.run_id] = record
            failed += record.status != "ok"
            candidate = best_of(
                [r for r in (best, record) if r is not None], spec.metric, spec.maximize
            )
            best = candidate
            if progress is not None:
                progress(len(records), len(points), failed, best)
    ordered = tuple(_reindexed(records[run_id(p)], i, p) for i, p in enumerate(points))
    if spec.keep is not None:
        _check_metric(ordered, spec.metric)
        ordered = _keep_best(ordered, spec)
    _write_tables(spec, ordered)
    from qtrader.cli.sweep.report import render  # noqa: PLC0415 - report imports this module

    _atomic_write(spec.output / "sweep.html", render(spec, ordered).encode())
    if all(r.status != "ok" for r in ordered):
        raise SweepError(
            f"all {len(ordered)} runs failed; the first: {ordered[0].error} (see "
            f"{spec.output / 'results.csv'})"
        )
    return SweepResult(ordered, skipped, resumed, best_of(ordered, spec.metric, spec.maximize))


def make_output_folder(folder: Path) -> None:
    """``folder`` (and its parents) made if missing; a file in the way is a ``SweepError``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        blocker = next((p for p in (folder, *folder.parents) if p.is_file()), folder)
        raise SweepError(
            f"--output {folder}: {blocker} is a file, not a folder: choose a folder for the "
            "sweep's results"
        ) from exc
    except OSError as exc:
        raise SweepError(f"--output {folder}: cannot make it ({exc.strerror or exc})") from exc


def _check_metric(
    records: Sequence[RunRecord],
    metric: str,
    then: str = (
        "no results folder was deleted, and the same command with the right name runs nothing again"
    ),
) -> None:
    """Refuse to rank by a metric no run has (a misspelt name would rank every run last
    and delete every folder): nothing is deleted, and a second invocation resumes.
    ``then``: what the message says happened."""
    names = sorted({k for r in records if r.status == "ok" for k in r.metrics})
    if not names or metric in names:
        return
    near = difflib.get_close_matches(metric, names, n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else f"; the metrics are {', '.join(names)}"
    raise SweepError(f"--metric {metric!r}: no run has such a metric{hint}; {then}")


def _reindexed(record: RunRecord, index: int, point: dict[str, Any]) -> RunRecord:
    """``record`` at its place in grid order, with the point's values as parsed from the
    command (a run read back from the journal has them as JSON gave them: a date as text)."""
    if record.index == index and record.point == point:
        return record
    return dataclasses.replace(record, index=index, point=point)


def _check_same_sweep(spec: SweepSpec) -> None:
    """Resume only the same sweep. Another one is refused, unless none of its runs
    succeeded (a misspelt key): there is nothing of it to keep, and it is cleared."""
    marker = spec.output / "sweep.json"
    wanted = json.dumps(spec.describe(), sort_keys=True, indent=2, default=str) + "\n"
    if marker.exists():
        if marker.read_text(encoding="utf-8") == wanted:
            return
        journal = spec.output / "runs.jsonl"
        if any(r.status == "ok" for r in _read_journal(journal, spec.output).values()):
            raise SweepError(
                f"{spec.output} holds another sweep (see its sweep.json): choose another "
                "--output, or remove that folder to start again"
            )
        journal.unlink(missing_ok=True)
        shutil.rmtree(spec.output / "runs", ignore_errors=True)
    _atomic_write(marker, wanted.encode())


def _read_journal(path: Path, output: Path) -> dict[str, RunRecord]:
    """The runs ``path`` records; their folders, written relative to ``output``, made
    absolute."""
    records: dict[str, RunRecord] = {}
    if not path.exists():
        return records
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            record = RunRecord.from_json(json.loads(line))
        except (ValueError, KeyError, TypeError):
            # The last line of an interrupted sweep may be cut short: that run is redone.
            continue
        if record.results and not Path(record.results).is_absolute():
            record = dataclasses.replace(record, results=str(output.absolute() / record.results))
        records[record.run_id] = record
    return records


def _keep_best(records: tuple[RunRecord, ...], spec: SweepSpec) -> tuple[RunRecord, ...]:
    ranked = sorted(
        (r for r in records if _score(r, spec.metric, spec.maximize) is not None),
        key=lambda r: (-(_score(r, spec.metric, spec.maximize) or 0.0), r.index),
    )
    keep = {r.run_id for r in ranked[: spec.keep]}
    result = []
    for r in records:
        if r.run_id not in keep and r.results:
            shutil.rmtree(r.results, ignore_errors=True)
            kept = RunRecord(
                r.index, r.run_id, r.point, r.status, r.error, r.seconds, r.metrics, ""
            )
        else:
            kept = r
        result.append(kept)
    return tuple(result)


def table_columns(spec: SweepSpec, records: Sequence[RunRecord]) -> list[str]:
    metrics = sorted({k for r in records for k in r.metrics})
    return [
        "run_id",
        *(a.key for a in spec.axes),
        *metrics,
        "status",
        "error",
        "seconds",
        "results",
    ]


def table_rows(spec: SweepSpec, records: Sequence[RunRecord]) -> list[dict[str, Any]]:
    rows = []
    for r in records:
        row: dict[str, Any] = {"run_id": r.run_id}
        row.update({a.key: r.point[a.key] for a in spec.axes})
        row.update(r.metrics)
        folder = ""
        if r.results:
            folder = os.path.relpath(r.results, spec.output)
        row.update(status=r.status, error=r.error, seconds=round(r.seconds, 3), results=folder)
        rows.append(row)
    return rows


def _write_tables(spec: SweepSpec, records: Sequence[RunRecord]) -> None:
    import pyarrow as pa  # noqa: PLC0415 - the sweep's end only
    import pyarrow.parquet as pq  # noqa: PLC0415

    columns = table_columns(spec, records)
    rows = table_rows(spec, records)
    text = io.StringIO()
    writer = csv.DictWriter(text, columns, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    _atomic_write(spec.output / "results.csv", text.getvalue().encode())
    arrays = []
    for column in columns:
        values = [row.get(column) for row in rows]
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types ("abc" and 2): as text
            arrays.append(pa.array([None if v is None else _cell(v) for v in values]))
    table = pa.Table.from_arrays(arrays, names=columns)
    with atomic_path(spec.output / "results.parquet") as temp:
        pq.write_table(table, temp)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _atomic_write(path: Path, data: bytes) -> None:
    with atomic_path(path) as temp:
        temp.write_bytes(data)
