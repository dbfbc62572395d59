"""A bug in the user's strategy points at the bug: strategy, class, file:line, bar, message;
the run stops and writes nothing; `--debug` keeps the traceback. `ctx.log` is shown with
`--log-level` and written to log.txt."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from qtrader.cli.main import app
from qtrader.cli.output import DEBUG

runner = CliRunner()

BUGGY = """\
from qtrader.models import BaseStrategy


class Buggy(BaseStrategy):
    def __init__(self, bug: str) -> None:
        self.bug = bug

    def on_bar(self, ctx):
        ctx.log(f"bar {ctx.timestamp.date()} close {ctx.bar('AAA').close}")
        if ctx.timestamp.day != 4:
            return
        if self.bug == "zero":
            return 1 / 0
        if self.bug == "key":
            return {}["missing"]
        if self.bug == "value":
            raise ValueError("my own check failed")
"""


def project(tiny: Path, bug: str, source: str = BUGGY) -> Path:
    (tiny / "buggy.py").write_text(source, encoding="utf-8")
    config = tiny / "config.yaml"
    text = config.read_text(encoding="utf-8")
    start = text.index("strategy:")
    end = text.index("execution:")
    config.write_text(
        text[:start]
        + f"strategy:\n  name: buggy.py:Buggy\n  params: {{bug: {bug}}}\n"
        + text[end:],
        encoding="utf-8",
    )
    return config


@pytest.mark.parametrize(
    ("bug", "error", "line"),
    [("zero", "ZeroDivisionError: division by zero", 13),
     ("key", "KeyError: 'missing'", 15),
     ("value", "ValueError: my own check failed", 17)],
)  # fmt: skip
def test_a_strategy_exception_names_strategy_file_line_and_bar(
    tiny: Path, bug: str, error: str, line: int
) -> None:
    config = project(tiny, bug)
    out = tiny / "out"
    result = runner.invoke(app, ["backtest", str(config), "--output", str(out)])
    assert result.exit_code == 2
    kind, _, message = error.partition(": ")
    text = " ".join(result.output.split())
    assert text.startswith(
        f"error: strategy 'buggy.py:Buggy' (Buggy) raised {kind} in on_bar at the bar of "
        f"2024-01-04T16:00:00-05:00: {message} ({tiny / 'buggy.py'}:{line})"
    )
    assert "Traceback" not in result.output
    assert not out.exists()  # the run stopped: nothing written, not even half


def test_a_failed_run_leaves_the_previous_results_untouched(tiny: Path) -> None:
    out = tiny / "out"
    first = runner.invoke(app, ["backtest", str(tiny / "config.yaml"), "--output", str(out)])
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    config = project(tiny, "zero")
    assert runner.invoke(app, ["backtest", str(config), "--output", str(out)]).exit_code == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_syntax_error_in_the_strategy_file_names_file_and_line(tiny: Path) -> None:
    config = project(tiny, "zero", source=BUGGY.replace("return 1 / 0", "return 1 /"))
    result = runner.invoke(app, ["backtest", str(config)])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert (
        f"error: strategy file {tiny / 'buggy.py'}, line 13: syntax error: invalid syntax" in text
    )


def test_debug_keeps_the_traceback(tiny: Path) -> None:
    config = project(tiny, "zero")
    try:
        result = runner.invoke(app, ["--debug", "backtest", str(config)])
    finally:
        DEBUG["tracebacks"] = False
    assert result.exit_code == 1
    assert result.exception is not None
    assert isinstance(result.exception.__cause__, ZeroDivisionError)


def test_ctx_log_is_shown_at_info_and_written_to_log_txt(tiny: Path) -> None:
    config = project(tiny, "none")
    out = tiny / "out"
    quiet = runner.invoke(app, ["backtest", str(config), "--output", str(out)])
    assert quiet.exit_code == 0, quiet.output
    assert "[buggy.py:Buggy] bar" not in quiet.output  # default level: warning
    loud = runner.invoke(
        app, ["backtest", str(config), "--output", str(out), "--log-level", "info"]
    )
    assert loud.exit_code == 0, loud.output
    assert "2024-01-02T16:00:00-05:00 [buggy.py:Buggy] bar 2024-01-02 close 10.0" in loud.output
    log = (out / "log.txt").read_text().splitlines()
    assert len(log) == 13  # one line per bar of the hand-worked dataset
    assert log[0] == "2024-01-02T16:00:00-05:00 [buggy.py:Buggy] bar 2024-01-02 close 10.0"
    bad = runner.invoke(app, ["backtest", str(config), "--log-level", "loud"])
    assert bad.exit_code == 2
    assert "--log-level 'loud': expected one of debug, info, warning, error" in bad.output


INIT_BUGS = """\
from qtrader.models import BaseStrategy


class Buggy(BaseStrategy):
    def __init__(self, bug: str) -> None:
        if bug == "zero":
            self.weight = 1 / 0
        if bug == "type":
            self.size = len(5)
"""


@pytest.mark.parametrize(
    ("bug", "error"),
    [("zero", "ZeroDivisionError in __init__: division by zero"),
     ("type", "TypeError in __init__: object of type 'int' has no len()")],
)  # fmt: skip
def test_an_exception_in_a_strategys_init_names_its_file_and_line(
    tiny: Path, bug: str, error: str
) -> None:
    # It used to be a traceback (exit 1), or for a TypeError "bad params" with no line.
    config = project(tiny, bug, INIT_BUGS)
    result = runner.invoke(app, ["backtest", str(config)])
    assert result.exit_code == 2, result.output
    line = 7 if bug == "zero" else 9
    assert result.stderr == (
        f"error: strategy 'buggy.py:Buggy' (Buggy) raised {error} ({tiny / 'buggy.py'}:{line})\n"
    )


def test_params_the_strategy_does_not_take_are_still_bad_params(tiny: Path) -> None:
    config = project(tiny, "zero", INIT_BUGS)
    config.write_text(config.read_text().replace("{bug: zero}", "{bug: zero, colour: red}"))
    result = runner.invoke(app, ["backtest", str(config)])
    assert result.exit_code == 2
    assert "error: strategy 'buggy.py:Buggy': bad params: " in result.stderr
    assert "colour" in result.stderr
