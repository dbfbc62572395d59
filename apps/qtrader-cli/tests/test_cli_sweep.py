"""Sweeps: the grid and its constraint, identical tables on every executor, metrics equal to a
plain backtest's, failures recorded, resume after an interruption."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from qtrader.cli.api import run_backtest
from qtrader.cli.sweep import (
    Constraint,
    SerialExecutor,
    SweepError,
    SweepSpec,
    combinations,
    make_executor,
    parse_axis,
    run_sweep,
    sample,
)
from qtrader.cli.sweep import sweep as sweep_module
from qtrader.cli.sweep.runs import with_values

FAST = parse_axis("strategy.params.fast=1,2,3")
SLOW = parse_axis("strategy.params.slow=2,3,4")
WHERE = "strategy.params.fast < strategy.params.slow"


def test_axes_read_values_as_yaml_and_refuse_bad_input() -> None:
    axis = parse_axis("risk.max_position_pct= 0.1, 0.25 ,true,abc")
    assert axis.key == "risk.max_position_pct"
    assert axis.values == (0.1, 0.25, True, "abc")
    for bad in ("fast", "=1,2", "a..b=1", "a=1,1", "a="):
        with pytest.raises(SweepError):
            parse_axis(bad)


def test_values_may_be_lists_and_quoted_text_holding_commas() -> None:
    # The values were split at every comma: "[AAA, BBB]" became "[AAA" and " BBB]".
    axis = parse_axis("data.symbols=[AAA, BBB],[AAA],'a,b',{x: 1, y: 2}")
    assert axis.values == (["AAA", "BBB"], ["AAA"], "a,b", {"x": 1, "y": 2})
    assert parse_axis("strategy.params.fast=5,10").values == (5, 10)


def test_the_grid_is_the_product_in_order_and_the_constraint_skips_points() -> None:
    points = combinations([FAST, SLOW])
    assert [(p["strategy.params.fast"], p["strategy.params.slow"]) for p in points] == [
        (1, 2), (1, 3), (1, 4), (2, 2), (2, 3), (2, 4), (3, 2), (3, 3), (3, 4),
    ]  # fmt: skip
    keep = Constraint(WHERE, [FAST.key, SLOW.key])
    kept = [(p[FAST.key], p[SLOW.key]) for p in points if keep(p)]
    assert kept == [(1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)]
    assert Constraint("not (a * 2 >= b - 1) or a == -1", ["a", "b"])({"a": 1, "b": 4})


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("strategy.params.fats < 3", "not a swept key"),
        ("__import__('os')", "Call is not allowed"),
        ("a <", "not an expression"),
        ("a in (1, 2)", "only <, <="),
        ("a ** 2 > 1", r"only \+ - \* / // % are allowed"),
        ("strategies.2.params.fast < 3", "'strategies.2.params.fast' is not a swept key"),
    ],
)
def test_a_bad_constraint_is_refused_before_any_run(text: str, problem: str) -> None:
    with pytest.raises(SweepError, match=problem):
        Constraint(text, ["a", "strategy.params.fast"])


def test_a_random_sample_is_seeded_distinct_and_in_grid_order() -> None:
    points = combinations([FAST, SLOW])
    first = sample(points, 4, seed=3)
    assert first == sample(points, 4, seed=3)
    assert len({json.dumps(p, sort_keys=True) for p in first}) == 4
    assert first == [p for p in points if p in first]
    assert sample(points, 99, seed=3) == points


def spec(tiny: Path, output: Path, **options: Any) -> SweepSpec:
    return SweepSpec(tiny / "config.yaml", (FAST, SLOW), output, where=WHERE, **options)


def table(output: Path) -> list[dict[str, str]]:
    rows = list(csv.DictReader((output / "results.csv").read_text().splitlines()))
    for row in rows:
        del row["seconds"]  # run time: the only column that differs between sweeps
    return rows


def test_serial_and_process_sweeps_give_identical_tables(tiny: Path, tmp_path: Path) -> None:
    serial = run_sweep(spec(tiny, tmp_path / "serial"), SerialExecutor())
    executor = make_executor("process", workers=2)
    try:
        pooled = run_sweep(spec(tiny, tmp_path / "process"), executor)
    finally:
        executor.close()
    assert serial.skipped == pooled.skipped == 3
    assert table(tmp_path / "serial") == table(tmp_path / "process")
    rows = table(tmp_path / "serial")
    assert [(r["strategy.params.fast"], r["strategy.params.slow"]) for r in rows] == [
        ("1", "2"), ("1", "3"), ("1", "4"), ("2", "3"), ("2", "4"), ("3", "4"),
    ]  # fmt: skip
    assert all(r["status"] == "ok" for r in rows)
    parquet = pq.read_table(tmp_path / "serial" / "results.parquet").to_pylist()
    assert [p["run_id"] for p in parquet] == [r["run_id"] for r in rows]
    assert parquet[0]["strategy.params.fast"] == 1  # typed, not text


def test_a_runs_metrics_equal_those_of_a_plain_backtest(tiny: Path, tmp_path: Path) -> None:
    result = run_sweep(spec(tiny, tmp_path / "s"), SerialExecutor())
    row = next(r for r in table(tmp_path / "s") if r["strategy.params.fast"] == "2")
    assert row["strategy.params.slow"] == "3"  # the hand-worked config of conftest.py
    plain = run_backtest(tiny / "config.yaml").metrics
    for key, value in plain.items():
        assert row[key] == (
            "" if value is None else repr(value) if isinstance(value, float) else str(value)
        )
    folder = tmp_path / "s" / row["results"]
    assert json.loads((folder / "metrics.json").read_text()) == plain
    assert result.best is not None


def test_every_run_reports_the_anomalies_of_its_benchmark_whatever_ran_before(
    tiny: Path, tmp_path: Path, tiny_closes: tuple[list[date], list[int]]
) -> None:
    # SPY, the benchmark, halves overnight on its 7th day: a suspected unrecorded split. A
    # single backtest never reported it (its anomalies were read before the benchmark was
    # loaded); in a sweep, only the runs after the first in a worker did.
    days = tiny_closes[0]
    rows = [f"{d},{c},{c},{c},{c},1000" for d, c in zip(days, [100] * 6 + [50] * 7, strict=True)]
    (tiny / "data" / "SPY.csv").write_text("date,open,high,low,close,volume\n" + "\n".join(rows))
    config = tiny / "config.yaml"
    config.write_text(config.read_text() + "benchmark: SPY\n")
    run_backtest(config, output=str(tmp_path / "single"))
    single = (tmp_path / "single" / "data_anomalies.csv").read_text()
    assert [line.split(",")[:4] for line in single.splitlines()[1:]] == [
        ["SPY", "SPY.csv", "8", days[6].isoformat()]
    ]
    axis = parse_axis("strategy.params.quantity=100,101")
    run_sweep(SweepSpec(config, (axis,), tmp_path / "s"), SerialExecutor())
    for row in table(tmp_path / "s"):
        assert (tmp_path / "s" / row["results"] / "data_anomalies.csv").read_text() == single


def test_a_list_entry_is_swept_by_its_index(tiny: Path, tmp_path: Path) -> None:
    # The params of a multi-strategy config: "strategies is not a mapping" before.
    config = tiny / "config.yaml"
    config.write_text(
        config.read_text().replace(
            "strategy:\n  name: sma_crossover\n  params: {fast: 2, slow: 3, quantity: 100}",
            "strategies:\n  - {id: a, name: buy_and_hold, params: {quantity: 1}}\n"
            "  - {id: b, name: sma_crossover, params: {fast: 2, slow: 3, quantity: 100}}",
        )
    )
    axis = parse_axis("strategies.1.params.quantity=100,200")
    run_sweep(SweepSpec(config, (axis,), tmp_path / "s"), SerialExecutor())
    rows = table(tmp_path / "s")
    assert [(r["strategies.1.params.quantity"], r["status"]) for r in rows] == [
        ("100", "ok"),
        ("200", "ok"),
    ]
    # b's round trip of conftest.py (buy at 11.75, sell at 8.25) at 100 and at 200 shares.
    assert [r["strategy.b.pnl"] for r in rows] == ["-350.0", "-700.0"]


def test_a_constraint_names_keys_with_a_list_index() -> None:
    # "strategies.1.params.fast" is no Python expression: it was "invalid syntax".
    keys = ["strategies.1.params.fast", "strategies.1.params.slow"]
    where = Constraint("strategies.1.params.fast < strategies.1.params.slow", keys)
    assert where(dict(zip(keys, (2, 3), strict=True)))
    assert not where(dict(zip(keys, (3, 3), strict=True)))


def test_a_key_through_a_list_needs_an_index_it_has() -> None:
    document = {"strategies": [{"params": {}}], "start": "2024-01-02"}
    assert with_values(document, {"strategies.0.params.fast": 3})["strategies"] == [
        {"params": {"fast": 3}}
    ]
    with pytest.raises(SweepError, match=r"strategies\.2: the list has 1 entries, so its index"):
        with_values(document, {"strategies.2.params.fast": 3})
    with pytest.raises(SweepError, match=r"strategies\.fast: the list has 1 entries"):
        with_values(document, {"strategies.fast.params.x": 3})
    with pytest.raises(SweepError, match=r"strategies\.²: the list has 1 entries"):
        with_values(document, {"strategies.².params.x": 3})
    with pytest.raises(SweepError, match=r"tags\.0: the list is empty"):
        with_values({"tags": []}, {"tags.0": "x"})
    with pytest.raises(SweepError, match="start is not a mapping or a list in the config"):
        with_values(document, {"start.day": 3})


def test_a_runs_config_keeps_references_as_written_never_their_values(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The data path comes from ${QT_TINY_DATA}: a plain backtest writes the reference, and
    # the sweep's run folders wrote the value (a secret, were it an API key). A swept key
    # that had a reference is the swept value now.
    monkeypatch.setenv("QT_TINY_DATA", str(tiny / "data"))
    monkeypatch.setenv("QT_QUANTITY", "100")
    config = tiny / "config.yaml"
    text = config.read_text().replace("  path: data", "  path: ${QT_TINY_DATA}")
    config.write_text(text.replace("quantity: 100}", "quantity: '${QT_QUANTITY}'}"))
    axis = parse_axis("strategy.params.quantity=50,60")
    run_sweep(SweepSpec(config, (axis,), tmp_path / "s"), SerialExecutor())
    for row, quantity in zip(table(tmp_path / "s"), (50, 60), strict=True):
        written = yaml.safe_load((tmp_path / "s" / row["results"] / "config.yaml").read_text())
        assert written["data"]["path"] == "${QT_TINY_DATA}"
        assert written["strategy"]["params"]["quantity"] == quantity
        assert (
            str(tiny / "data") not in (tmp_path / "s" / row["results"] / "config.yaml").read_text()
        )


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tiny: Path, tmp_path: Path) -> None:
    # fast=2, slow=2 is invalid for sma_crossover (fast must be smaller): that run fails.
    bad = SweepSpec(
        tiny / "config.yaml",
        (parse_axis("strategy.params.fast=2"), parse_axis("strategy.params.slow=2,3")),
        tmp_path / "s",
    )
    result = run_sweep(bad, SerialExecutor())
    assert [r.status for r in result.records] == ["failed", "ok"]
    assert "fast (2) must be smaller than slow (2)" in result.records[0].error
    assert table(tmp_path / "s")[0]["error"] == result.records[0].error


def test_a_boolean_swept_into_a_number_fails_that_run_by_name(tiny: Path, tmp_path: Path) -> None:
    # Pydantic's lax mode would run warmup_bars=true as 1 bar of warm-up.
    spec = SweepSpec(tiny / "config.yaml", (parse_axis("warmup_bars=true,1"),), tmp_path / "s")
    result = run_sweep(spec, SerialExecutor())
    assert [r.status for r in result.records] == ["failed", "ok"]
    assert "warmup_bars: expected a number, got a boolean" in result.records[0].error


def test_an_interrupted_sweep_resumes_and_skips_the_runs_done(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = sweep_module.execute

    def counting(task: Any) -> Any:
        calls.append(task.run_id)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(sweep_module, "execute", counting)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec(tiny, tmp_path / "s"), SerialExecutor())
    assert not (tmp_path / "s" / "results.csv").exists()
    first_two = list(calls[:2])
    calls.clear()
    monkeypatch.setattr(
        sweep_module, "execute", lambda task: calls.append(task.run_id) or real(task)
    )
    resumed = run_sweep(spec(tiny, tmp_path / "s"), SerialExecutor())
    assert resumed.resumed == 2
    assert len(calls) == 4
    assert not set(calls) & set(first_two)
    assert table(tmp_path / "s") == table_of_fresh(tiny, tmp_path)


def table_of_fresh(tiny: Path, tmp_path: Path) -> list[dict[str, str]]:
    run_sweep(spec(tiny, tmp_path / "fresh"), SerialExecutor())
    return table(tmp_path / "fresh")


def test_a_sweep_whose_table_cannot_be_written_leaves_no_temporary_file(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(table: object, where: object) -> None:
        Path(str(where)).write_bytes(b"PAR1 half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", full_disk)
    with pytest.raises(OSError, match="No space left"):
        run_sweep(spec(tiny, tmp_path / "s"), SerialExecutor())
    # It used to leave ``tmpXXXXXXXX.parquet.tmp`` behind.
    assert not [p.name for p in (tmp_path / "s").iterdir() if p.name.endswith(".tmp")]
    assert not (tmp_path / "s" / "results.parquet").exists()
    monkeypatch.undo()
    resumed = run_sweep(spec(tiny, tmp_path / "s"), SerialExecutor())
    assert resumed.resumed == 6
    assert pq.read_table(tmp_path / "s" / "results.parquet").num_rows == 6


def test_another_sweep_into_the_same_folder_is_refused(tiny: Path, tmp_path: Path) -> None:
    run_sweep(spec(tiny, tmp_path / "s"), SerialExecutor())
    with pytest.raises(SweepError, match="holds another sweep"):
        run_sweep(spec(tiny, tmp_path / "s", random=2), SerialExecutor())


def test_keep_leaves_the_full_results_of_the_best_runs_only(tiny: Path, tmp_path: Path) -> None:
    result = run_sweep(spec(tiny, tmp_path / "s", keep=2, metric="total_return"), SerialExecutor())
    kept = [r for r in result.records if r.results]
    assert len(kept) == 2
    returns = sorted((r.metrics["total_return"] or 0.0 for r in result.records), reverse=True)
    assert sorted(r.metrics["total_return"] or 0.0 for r in kept) == sorted(returns[:2])
    assert len(list((tmp_path / "s" / "runs").iterdir())) == 2


def test_the_sweep_report_is_self_contained_and_deterministic(tiny: Path, tmp_path: Path) -> None:
    run_sweep(spec(tiny, tmp_path / "a", metric="total_return"), SerialExecutor())
    run_sweep(spec(tiny, tmp_path / "b", metric="total_return"), SerialExecutor())
    page = (tmp_path / "a" / "sweep.html").read_text()
    assert page == (tmp_path / "b" / "sweep.html").read_text()
    assert page.count('class="cell"') == 9  # 3 x 3 grid, 3 cells skipped ("n/a")
    assert page.count(">n/a<") == 3
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in page


def test_a_dask_local_cluster_gives_the_same_table(tiny: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    run_sweep(spec(tiny, tmp_path / "serial"), SerialExecutor())
    executor = make_executor("dask", workers=2)
    try:
        run_sweep(spec(tiny, tmp_path / "dask"), executor)
    finally:
        executor.close()
    assert table(tmp_path / "dask") == table(tmp_path / "serial")


def slow_execute(task: Any) -> Any:
    """A run that takes a while, so that a worker can be killed in the middle of the sweep."""
    import time  # noqa: PLC0415

    time.sleep(0.4)
    return sweep_module.execute(task)


def test_a_worker_killed_during_a_dask_sweep_loses_no_run(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    import os  # noqa: PLC0415
    import signal  # noqa: PLC0415
    import threading  # noqa: PLC0415

    from qtrader.cli.sweep import DaskExecutor  # noqa: PLC0415

    run_sweep(spec(tiny, tmp_path / "serial"), SerialExecutor())
    executor = DaskExecutor(workers=2)
    pids = executor.client.run(os.getpid)  # worker address -> process id
    victim = sorted(pids.values())[0]
    killer = threading.Timer(0.6, os.kill, (victim, signal.SIGKILL))
    monkeypatch.setattr(sweep_module, "execute", slow_execute)
    killer.start()
    try:
        result = run_sweep(spec(tiny, tmp_path / "dask"), executor)
    finally:
        killer.cancel()
        executor.close()
    assert len(result.records) == 6
    assert all(r.status == "ok" for r in result.records)
    assert table(tmp_path / "dask") == table(tmp_path / "serial")
    with pytest.raises(ProcessLookupError):
        os.kill(victim, 0)  # it really died


def test_keep_with_a_metric_no_run_has_deletes_nothing_and_says_so(
    tiny: Path, tmp_path: Path
) -> None:
    # A misspelt metric scored every run as None: every run folder was deleted, exit 0.
    with pytest.raises(SweepError, match=r"--metric 'sharp'.*did you mean 'sharpe'"):
        run_sweep(spec(tiny, tmp_path / "s", keep=2, metric="sharp"), SerialExecutor())
    assert len(list((tmp_path / "s" / "runs").iterdir())) == 6
    # Run again with the right name: nothing is run again, the best two are kept.
    result = run_sweep(spec(tiny, tmp_path / "s", keep=2, metric="total_return"), SerialExecutor())
    assert result.resumed == 6
    assert len(list((tmp_path / "s" / "runs").iterdir())) == 2


def test_a_negative_keep_is_refused_before_anything_runs(tiny: Path, tmp_path: Path) -> None:
    with pytest.raises(SweepError, match="--keep -1: expected 0 or more"):
        run_sweep(spec(tiny, tmp_path / "s", keep=-1), SerialExecutor())
    assert not (tmp_path / "s").exists()


def test_a_sweep_whose_every_run_fails_is_an_error_and_its_folder_can_be_reused(
    tiny: Path, tmp_path: Path
) -> None:
    # A misspelt key: every run fails. The sweep used to end with exit 0, and the folder it
    # left refused the corrected command as "another sweep".
    typo = SweepSpec(tiny / "config.yaml", (parse_axis("strategy.params.fst=1,2"),), tmp_path / "s")
    with pytest.raises(SweepError, match=r"all 2 runs failed; the first: .*strategy\.params\.fst"):
        run_sweep(typo, SerialExecutor())
    assert [row["status"] for row in table(tmp_path / "s")] == ["failed", "failed"]
    # Nothing of it is worth keeping: the corrected sweep starts afresh in the same folder.
    result = run_sweep(spec(tiny, tmp_path / "s"), SerialExecutor())
    assert (result.resumed, len(result.records)) == (0, 6)
    assert table(tmp_path / "s") == table_of_fresh(tiny, tmp_path)


def test_a_config_changed_since_the_sweep_began_is_not_resumed(tiny: Path, tmp_path: Path) -> None:
    # The finished runs were made with the old config: resuming would mix the two.
    run_sweep(spec(tiny, tmp_path / "s"), SerialExecutor())
    config = tiny / "config.yaml"
    config.write_text(config.read_text().replace("initial_cash: 10000", "initial_cash: 20000"))
    with pytest.raises(SweepError, match="holds another sweep"):
        run_sweep(spec(tiny, tmp_path / "s"), SerialExecutor())


def test_a_sweep_resumed_from_another_folder_keeps_its_run_folders(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The journal held run folders relative to the working folder of the first invocation.
    (tmp_path / "a").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    run_sweep(spec(tiny, Path("../s")), SerialExecutor())
    journal = tmp_path / "s" / "runs.jsonl"
    journal.write_text("".join(journal.read_text().splitlines(keepends=True)[:3]))
    monkeypatch.chdir(tmp_path)
    result = run_sweep(spec(tiny, Path("s")), SerialExecutor())
    assert result.resumed == 3
    assert [row["results"] for row in table(tmp_path / "s")] == [
        f"runs/{row['run_id']}" for row in table(tmp_path / "s")
    ]
    assert all(Path(r.results).is_dir() for r in result.records)


def test_a_column_of_mixed_values_is_written_as_text_in_the_parquet(
    tiny: Path, tmp_path: Path
) -> None:
    # "abc" and 3 in one column: pyarrow refused the table after every run was done.
    mixed = SweepSpec(
        tiny / "config.yaml",
        (parse_axis("strategy.params.fast=abc,2"), parse_axis("strategy.params.slow=3")),
        tmp_path / "s",
    )
    result = run_sweep(mixed, SerialExecutor())
    assert [r.status for r in result.records] == ["failed", "ok"]
    parquet = pq.read_table(tmp_path / "s" / "results.parquet")
    assert parquet.column("strategy.params.fast").to_pylist() == ["abc", "2"]
    assert parquet.column("strategy.params.slow").to_pylist() == [3, 3]  # one type: kept


def test_a_resumed_sweep_writes_the_same_parquet_as_a_fresh_one(tiny: Path, tmp_path: Path) -> None:
    # Dates swept: read back from the journal they were text, beside dates of new runs:
    # the parquet failed, or changed its column type.
    days = parse_axis("start=2024-01-02,2024-01-03,2024-01-04")
    sweep = SweepSpec(tiny / "config.yaml", (days,), tmp_path / "s")
    run_sweep(sweep, SerialExecutor())
    fresh = pq.read_table(tmp_path / "s" / "results.parquet").drop(["seconds"])
    journal = tmp_path / "s" / "runs.jsonl"
    journal.write_text("".join(journal.read_text().splitlines(keepends=True)[:1]))
    assert run_sweep(sweep, SerialExecutor()).resumed == 1
    resumed = pq.read_table(tmp_path / "s" / "results.parquet").drop(["seconds"])
    assert resumed.equals(fresh)
    assert str(resumed.schema.field("start").type) == "date32[day]"


def test_a_where_that_cannot_be_worked_out_names_the_point(tiny: Path, tmp_path: Path) -> None:
    # A ZeroDivisionError traceback before.
    zero = SweepSpec(tiny / "config.yaml", (FAST, SLOW), tmp_path / "s", where=(
        "strategy.params.fast / (strategy.params.slow - 2) > 0"))  # fmt: skip
    with pytest.raises(
        SweepError,
        match=r"cannot be worked out for strategy\.params\.fast=1, strategy\.params\.slow=2: "
        r"ZeroDivisionError",
    ):
        run_sweep(zero, SerialExecutor())


def test_an_output_that_is_a_file_is_refused(tiny: Path, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("mine")
    for output in (tmp_path / "afile", tmp_path / "afile" / "sub"):
        with pytest.raises(SweepError, match=f"{tmp_path / 'afile'} is a file, not a folder"):
            run_sweep(spec(tiny, output), SerialExecutor())
    assert (tmp_path / "afile").read_text() == "mine"
