"""``scaffold`` (``qtrader init``): a project that runs as written, never over user files."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qtrader.cli.main import app
from qtrader.cli.scaffold import ScaffoldError, scaffold

runner = CliRunner()


def test_a_new_project_backtests_as_it_is(tmp_path: Path) -> None:
    project = tmp_path / "mine"
    files = scaffold(project)
    assert [p.relative_to(project).as_posix() for p in files] == [
        "README.md",
        "config.yaml",
        "data/AAA.csv",
        "data/BBB.csv",
        "strategy.py",
    ]
    out = project / "results"
    result = runner.invoke(app, ["backtest", str(project / "config.yaml"), "--output", str(out)])
    assert result.exit_code == 0, result.output
    fills = list(csv.DictReader((out / "fills.csv").read_text().splitlines()))
    assert len(fills) > 10  # the breakout trades the sample data


def test_the_sample_data_is_valid_and_the_same_every_time(tmp_path: Path) -> None:
    scaffold(tmp_path / "a")
    scaffold(tmp_path / "b")
    for name in ("AAA.csv", "BBB.csv"):
        first = (tmp_path / "a" / "data" / name).read_bytes()
        assert first == (tmp_path / "b" / "data" / name).read_bytes()
        rows = list(csv.DictReader(first.decode().splitlines()))
        assert len(rows) == 520  # the weekdays of 2022 and 2023
        for row in rows:
            o, h, lo, c = (float(row[k]) for k in ("open", "high", "low", "close"))
            assert lo <= min(o, c) <= max(o, c) <= h
            assert int(row["volume"]) > 0


def test_an_existing_folder_with_files_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ScaffoldError, match="already exists"):
        scaffold(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_an_empty_folder_is_filled_and_no_temporary_folder_is_left(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    scaffold(tmp_path / "empty")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]
    assert (tmp_path / "empty" / "config.yaml").is_file()


def test_the_project_folder_respects_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        scaffold(tmp_path / "p")
    finally:
        os.umask(old)
    assert (tmp_path / "p").stat().st_mode & 0o777 == 0o750
    assert (tmp_path / "p" / "config.yaml").stat().st_mode & 0o777 == 0o640
