"""``${VAR}`` / ``${VAR:-default}`` in config values; the saved config never holds a value."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError, field_validator, model_validator
from typer.testing import CliRunner

from qtrader.cli.bootstrap import build_data
from qtrader.cli.config import ConfigError, describe_validation_error, load_config
from qtrader.cli.envvars import EnvVarError, restore_as_written, substitute_env
from qtrader.cli.main import app

runner = CliRunner()
ENV = {"HOST": "db.example", "PORT": "5432", "EMPTY": "", "KEY": "s3cr3t"}


def substitute(document: Any) -> tuple[Any, dict[Any, str]]:
    result = substitute_env(document, ENV)
    return result.document, result.as_written


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${HOST}", "db.example"),
        ("${HOST}:${PORT}/x", "db.example:5432/x"),  # several in one string
        ("${MISSING:-fallback}", "fallback"),  # unset: the default
        ("${EMPTY:-fallback}", "fallback"),  # empty: the default too, as in a shell
        ("${HOST:-fallback}", "db.example"),  # set: the value
        ("${MISSING:-}", ""),
        ("${MISSING:-a b:c}", "a b:c"),  # the default is text up to the first }
        ("${EMPTY}", ""),  # set but empty, no default: empty
        ("cost $${HOST} and $5", "cost ${HOST} and $5"),  # $${ is a literal ${; $ alone stays
        ("no references", "no references"),
    ],
)
def test_one_string(text: str, expected: str) -> None:
    document, _ = substitute({"key": text})
    assert document == {"key": expected}


def test_nested_values_are_substituted_and_recorded_as_written() -> None:
    document, as_written = substitute(
        {
            "data": {"path": "/data/${HOST}", "symbols": ["AAA", "${PORT}"], "n": 3},
            "list": [{"token": "${KEY}"}, None, True, 1.5],
            "${HOST}": "keys are not substituted",
        }
    )
    assert document == {
        "data": {"path": "/data/db.example", "symbols": ["AAA", "5432"], "n": 3},
        "list": [{"token": "s3cr3t"}, None, True, 1.5],
        "${HOST}": "keys are not substituted",
    }
    assert as_written == {
        ("data", "path"): "/data/${HOST}",
        ("data", "symbols", 1): "${PORT}",
        ("list", 0, "token"): "${KEY}",
    }


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"data": {"path": "${NOPE}"}},
            "data.path: environment variable NOPE is not set "
            "(set it, or write ${NOPE:-default} to give a default)",
        ),
        (
            {"strategies": [{"name": "x"}, {"params": {"key": "a${NOPE}"}}]},
            "strategies.1.params.key: environment variable NOPE is not set",
        ),
        ({"k": "${1BAD}"}, "k: '${1BAD}' has a '${' that is not ${NAME} or ${NAME:-default}"),
        ({"k": "${HOST"}, "write $${ for a literal ${"),
        ({"k": "${}"}, "k: '${}' has a '${'"),
    ],
)
def test_errors_name_the_key_and_the_variable(document: Any, message: str) -> None:
    with pytest.raises(EnvVarError) as caught:
        substitute_env(document, ENV)
    assert message in str(caught.value)


def test_restore_puts_the_text_back_and_skips_missing_keys() -> None:
    dumped = {"data": {"path": "/data/db.example", "symbols": ["AAA", "5432"]}, "a": None}
    as_written = {
        ("data", "path"): "/data/${HOST}",
        ("data", "symbols", 1): "${PORT}",
        ("data", "symbols", 5): "${GONE}",  # a list position the dump does not have
        ("b", "c"): "${GONE}",  # a key the dump left out
        ("a",): "${GONE}",  # a value dumped as None
    }
    assert restore_as_written(dumped, as_written) == {
        "data": {"path": "/data/${HOST}", "symbols": ["AAA", "${PORT}"]},
        "a": None,
    }


SECRET = "sk-live-0123456789"
STRATEGY = """
from pathlib import Path
from qtrader.models import BaseStrategy

class Remote(BaseStrategy):
    def __init__(self, token: str, label: str) -> None:
        # What the strategy was given, for the test to read back.
        Path(__file__).with_name("seen.txt").write_text(f"{token}|{label}")
"""


def write_env_config(tiny: Path) -> Path:
    (tiny / "remote.py").write_text(STRATEGY)
    config = tiny / "config.yaml"
    text = config.read_text()
    text = text.replace("  path: data\n", "  path: ${DATA_DIR}\n")
    text = text.replace("initial_cash: 10000", "initial_cash: ${CASH:-10000}")
    text = text.replace(
        "strategy:\n  name: sma_crossover\n  params: {fast: 2, slow: 3, quantity: 100}",
        'strategy:\n  name: remote.py:Remote\n  params: {token: "${SCHWAB_APP_SECRET}", '
        'label: "cost $${X}"}',
    )
    text += "risk: {max_position_pct: '${MAX_POSITION:-0.9}'}\n"
    config.write_text(text)
    return config


def test_environment_values_are_used_but_never_written(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tiny / "private-data"
    (tiny / "data").rename(elsewhere)
    monkeypatch.setenv("DATA_DIR", str(elsewhere))
    monkeypatch.setenv("SCHWAB_APP_SECRET", SECRET)
    monkeypatch.delenv("CASH", raising=False)
    config = write_env_config(tiny)
    out = tiny / "out"
    result = runner.invoke(app, ["backtest", str(config), "--output", str(out)])
    assert result.exit_code == 0, result.output
    # The run used the values: the data folder from DATA_DIR, the default cash, the secret.
    assert "10,000.00" in result.stdout
    assert (tiny / "seen.txt").read_text() == f"{SECRET}|cost ${{X}}"
    written = (out / "config.yaml").read_text()
    assert "path: ${DATA_DIR}\n" in written
    assert "initial_cash: ${CASH:-10000}\n" in written
    assert "token: ${SCHWAB_APP_SECRET}\n" in written
    assert "label: cost $${X}\n" in written
    assert SECRET not in written
    assert str(elsewhere) not in written
    assert SECRET not in result.output
    for path in out.iterdir():  # no result file holds a value, the report included
        text = path.read_text()
        assert SECRET not in text, path.name
        assert str(elsewhere) not in text, path.name
    assert "max_position_pct=${MAX_POSITION:-0.9}" in (out / "report.html").read_text()


def test_an_unset_variable_names_the_key(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATA_DIR", raising=False)
    monkeypatch.setenv("SCHWAB_APP_SECRET", SECRET)
    config = write_env_config(tiny)
    result = runner.invoke(app, ["backtest", str(config)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {config}: data.path: environment variable DATA_DIR is not set (set it, or "
        "write ${DATA_DIR:-default} to give a default)\n"
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("initial_cash: 10000", "initial_cash: ${CASH}", "initial_cash: "),
        ("  path: data\n", "  path: data\n  tolerance: ${CASH}\n", "data.tolerance: "),
    ],
)
def test_a_bad_substituted_value_is_shown_as_written(
    tiny: Path, old: str, new: str, message: str
) -> None:
    config = tiny / "config.yaml"
    config.write_text(config.read_text().replace(old, new))
    with pytest.raises(ConfigError) as caught:
        build_data(load_config(config, {"CASH": SECRET}), tiny)
    text = str(caught.value)
    assert message in text
    assert "(from '${CASH}')" in text
    assert SECRET not in text


def test_a_config_without_references_records_nothing(tiny: Path) -> None:
    assert load_config(tiny / "config.yaml", {}).as_written == {}


def test_a_missing_key_is_named_without_a_value(tiny: Path) -> None:
    config = tiny / "config.yaml"
    config.write_text(config.read_text().replace("initial_cash: 10000\n", ""))
    with pytest.raises(ConfigError) as caught:
        load_config(config, {})
    assert str(caught.value).splitlines()[1] == "initial_cash: Field required"


def test_a_failed_check_of_the_whole_config_never_shows_a_substituted_value(
    tiny: Path,
) -> None:
    # The check's input is every value of the config, the secret's included.
    config = tiny / "config.yaml"
    text = config.read_text().replace("  path: data\n", "  path: data\n  api_key: ${KEY}\n")
    config.write_text(re.sub(r"end: .*", "end: 2024-01-01", text))
    result = runner.invoke(app, ["backtest", str(config)], env={"KEY": SECRET})
    assert result.exit_code == 2
    assert "(top level): Value error, end (2024-01-01) is before start" in result.stderr
    assert SECRET not in result.stderr


class _Section(BaseModel):
    token: str
    size: int

    @model_validator(mode="after")
    def _too_big(self) -> _Section:
        raise ValueError("size is too big for this token")


class _Document(BaseModel):
    section: _Section
    items: list[str]

    @field_validator("items")
    @classmethod
    def _few(cls, items: list[str]) -> list[str]:
        raise ValueError("at most two items")


def test_a_failed_check_of_a_mapping_or_a_list_shows_substituted_values_as_written() -> None:
    with pytest.raises(ValidationError) as caught:
        _Document.model_validate(
            {"section": {"token": SECRET, "size": 3}, "items": ["a", SECRET, "c"]}
        )
    as_written = {("section", "token"): "${KEY}", ("items", 1): "${KEY}"}
    text = describe_validation_error(caught.value, as_written=as_written)
    assert text.splitlines() == [
        "section: Value error, size is too big for this token",  # a mapping: not shown
        "items: Value error, at most two items (got ['a', '${KEY}', 'c'])",
    ]
