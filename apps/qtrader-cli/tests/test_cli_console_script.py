"""The ``qtrader`` console script: ``main`` runs the command and ends the process at once.

The hand-worked dataset of conftest.py: sma_crossover(2, 3) buys 100 AAA at the open of
2024-01-11 (11.75) and sells them at the open of 2024-01-16 (8.25).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from qtrader.analytics import RESULT_FILES
from qtrader.cli import main as cli_main

FILLS = [
    "timestamp,symbol,side,quantity,price,commission,order_id,fill_id,strategy_id,"
    "slippage_per_share,slippage_cost",
    "2024-01-11T09:30:00-05:00,AAA,buy,100,11.75,0",
    "2024-01-16T09:30:00-05:00,AAA,sell,100,8.25,0",
]


def console_script() -> str:
    """The installed ``qtrader`` script of this environment."""
    found = shutil.which("qtrader", path=str(Path(sys.executable).parent))
    assert found is not None, "the qtrader console script is not installed next to python"
    return found


def test_the_console_script_is_main() -> None:
    (script,) = entry_points(group="console_scripts", name="qtrader")
    assert script.value == "qtrader.cli.main:main"


def test_the_console_script_writes_every_result_file_and_exits_0(tiny: Path) -> None:
    out = tiny / "out"
    done = subprocess.run(
        [console_script(), "backtest", str(tiny / "config.yaml"), "--output", str(out)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    # The last line printed, so stdout was flushed. Rich wraps it to the terminal's width,
    # anywhere in a long path: compare without white space.
    assert "".join(done.stdout.split()).endswith("".join(f"results written to {out}".split()))
    expected = {*RESULT_FILES, "config.yaml", "versions.json", "data_anomalies.csv", "log.txt"}
    expected.add("report.html")
    assert {p.name for p in out.iterdir()} == expected  # no temporary file left behind
    fills = (out / "fills.csv").read_text(encoding="utf-8").splitlines()
    assert [",".join(line.split(",")[:6]) for line in fills[1:]] == FILLS[1:]
    assert fills[0] == FILLS[0]


def test_the_console_script_exits_2_on_a_user_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [console_script(), "backtest", str(tmp_path / "missing.yaml")],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")  # flushed before the exit
    assert "missing.yaml" in done.stderr


class ExitedError(Exception):
    """Raised by the stand-in for ``os._exit``."""


@pytest.fixture
def hard_exits(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What ``main`` did at its end, in order: ``"handlers"`` for running the exit handlers,
    then the code it passed to ``os._exit``. Neither really happens here."""
    done: list[object] = []

    def record(code: int) -> None:
        done.append(code)
        raise ExitedError

    monkeypatch.setattr(cli_main.atexit, "_run_exitfuncs", lambda: done.append("handlers"))
    monkeypatch.setattr(cli_main.os, "_exit", record)
    return done


def test_main_ends_a_run_with_its_exit_code_after_the_exit_handlers(
    tiny: Path, monkeypatch: pytest.MonkeyPatch, hard_exits: list[object]
) -> None:
    monkeypatch.setattr(sys, "argv", ["qtrader", "backtest", str(tiny / "config.yaml")])
    with pytest.raises(ExitedError):
        cli_main.main()
    monkeypatch.setattr(sys, "argv", ["qtrader", "backtest", str(tiny / "missing.yaml")])
    with pytest.raises(ExitedError):
        cli_main.main()
    assert hard_exits == ["handlers", 0, "handlers", 2]


def test_a_message_exit_is_left_to_the_interpreter(
    monkeypatch: pytest.MonkeyPatch, hard_exits: list[object]
) -> None:
    def exit_with_message() -> None:
        raise SystemExit("boom")

    monkeypatch.setattr(cli_main, "app", exit_with_message)
    with pytest.raises(SystemExit) as exited:
        cli_main.main()
    assert exited.value.code == "boom"
    assert hard_exits == []


class ClosedPipe:
    def flush(self) -> None:
        raise BrokenPipeError


def test_a_failed_flush_is_left_to_the_interpreter(
    monkeypatch: pytest.MonkeyPatch, hard_exits: list[object]
) -> None:
    monkeypatch.setattr(cli_main, "app", lambda: None)  # a command that returns
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    with pytest.raises(SystemExit) as exited:
        cli_main.main()
    assert exited.value.code == 0
    assert hard_exits == ["handlers"]  # and no os._exit
