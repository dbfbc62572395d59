"""The backtest configuration file (YAML): parsed, validated, errors name the key.

The app owns only the top-level shape. Each section is handed to the config
model of the service that will use it, so a service's options are documented
and validated in one place, by that service. String values may use
``${ENV_VAR}`` and ``${ENV_VAR:-default}`` (see ``qtrader.cli.envvars``).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from qtrader.cli.envvars import EnvVarError, KeyPath, dotted, restore_as_written, substitute_env
from qtrader.models import FrozenModel, QTraderError

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails


class ConfigError(QTraderError):
    """The configuration file is missing, unreadable or invalid."""


class DataSection(FrozenModel):
    """``source`` picks the adapter; every other key goes to that adapter's config."""

    model_config = ConfigDict(frozen=True, extra="allow")

    source: str
    symbols: tuple[str, ...] = Field(min_length=1)

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class StrategySection(FrozenModel):
    name: str = Field(min_length=1)
    id: str | None = Field(default=None, min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)


class ReportSection(FrozenModel):
    """``report.html``: ``symbol`` is the symbol whose prices and trades are drawn (by
    default the one with the most fills; ties: the first by name)."""

    symbol: str | None = Field(default=None, min_length=1)


class BacktestConfig(FrozenModel):
    start: date
    end: date
    initial_cash: Decimal = Field(gt=0)
    warmup_bars: int = Field(default=0, ge=0)
    data: DataSection
    strategy: StrategySection | None = None
    strategies: tuple[StrategySection, ...] | None = None
    execution: dict[str, Any] = Field(default_factory=dict)
    portfolio: dict[str, Any] = Field(default_factory=dict)
    risk: dict[str, Any] = Field(default_factory=dict)
    benchmark: str | None = Field(default=None, min_length=1)
    """A symbol of the data folder whose daily total returns give ``alpha``, ``beta`` and
    ``benchmark_return`` in the metrics (it need not be traded: not in ``data.symbols``)."""
    report: ReportSection = Field(default_factory=ReportSection)
    _as_written: dict[KeyPath, str] = PrivateAttr(default_factory=dict)

    @property
    def as_written(self) -> Mapping[KeyPath, str]:
        """Values that came from ``${VAR}`` references, by key path, with their text as
        written in the file: the saved copy of the config shows these, never the values."""
        return dict(self._as_written)

    @field_validator("portfolio")
    @classmethod
    def _no_second_initial_cash(cls, portfolio: dict[str, Any]) -> dict[str, Any]:
        if "initial_cash" in portfolio:  # it would silently win over the top-level key
            raise ValueError("initial_cash is set by the top-level 'initial_cash' key only")
        return portfolio

    @model_validator(mode="after")
    def _check(self) -> BacktestConfig:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        if (self.strategy is None) == (self.strategies is None):
            raise ValueError("give exactly one of 'strategy' or 'strategies'")

        if self.strategies is not None:
            ids = [s.id or s.name for s in self.strategies]
            if len(set(ids)) != len(ids):
                raise ValueError(
                    f"strategy ids must be unique, got {ids}; set 'id' to tell them apart"
                )
        return self

    def strategy_sections(self) -> dict[str, StrategySection]:
        """Strategy sections by strategy id (the id defaults to the name)."""
        sections = self.strategies if self.strategies is not None else (self.strategy,)
        return {(s.id or s.name): s for s in sections if s is not None}


def describe_validation_error(
    exc: ValidationError, prefix: str = "", as_written: Mapping[KeyPath, str] | None = None
) -> str:
    """One line per problem: the dotted key, what was wrong and what was given.

    A value that came from an environment variable is shown as written
    (``from '${API_KEY}'``), so a secret never reaches the console: a list is shown with
    its items so restored, and a mapping (a section whose own check failed; its message
    says what it found) not at all, as its values could hold one anywhere.
    """
    lines = []
    for err in exc.errors():
        path: KeyPath = (*(p for p in prefix.split(".") if p), *err["loc"])
        key = ".".join(str(part) for part in path)
        if err["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown key (check the spelling; see the docs for allowed keys)")
            continue
        given = _given(err, path, as_written or {})
        lines.append(f"{key or '(top level)'}: {err['msg']}{given}")
    return "\n".join(lines)


def _given(err: ErrorDetails, path: KeyPath, as_written: Mapping[KeyPath, str]) -> str:
    """`` (got ...)`` of a validation error: what was given, unless it may hold a secret."""
    if err["type"] == "missing":
        return ""
    if path in as_written:
        return f" (from {as_written[path]!r})"
    given = err.get("input")
    if isinstance(given, Mapping):
        return ""
    if isinstance(given, list):
        depth = len(path)
        inside = {at[depth:]: text for at, text in as_written.items() if at[:depth] == path}
        given = restore_as_written(copy.deepcopy(given), inside)
    return f" (got {given!r})"


# What a boolean given for a number is told.
BOOL_AS_NUMBER = (
    "expected a number, got a boolean (YAML reads true, false, yes, no, on and off as booleans)"
)


def bool_misreads(given: object, validated: object, path: KeyPath = ()) -> list[KeyPath]:
    """The key paths where ``given`` (a document as loaded from YAML) holds ``true`` or
    ``false`` and ``validated`` (what a model made of it) holds a number: pydantic's lax
    mode reads ``true`` as 1, so ``warmup_bars: true`` or ``fast: yes`` (YAML reads
    yes/no/on/off as booleans) would run as 1 without a word."""
    if isinstance(given, bool):
        number = isinstance(validated, int | float | Decimal) and not isinstance(validated, bool)
        return [path] if number else []
    found: list[KeyPath] = []
    if isinstance(given, Mapping):
        for key, value in given.items():
            if isinstance(validated, BaseModel):
                name = _field_of(type(validated), key)
                if name is not None:
                    found += bool_misreads(value, getattr(validated, name), (*path, key))
            elif isinstance(validated, Mapping) and key in validated:
                found += bool_misreads(value, validated[key], (*path, key))
    elif (
        isinstance(given, list)
        and isinstance(validated, list | tuple)
        and len(given) == len(validated)
    ):
        for index, (value, made) in enumerate(zip(given, validated, strict=True)):
            found += bool_misreads(value, made, (*path, index))
    elif (
        isinstance(given, list)
        and isinstance(validated, set | frozenset)
        and any(isinstance(v, bool) for v in given)
        and not any(isinstance(v, bool) for v in validated)
    ):
        found.append(path)  # [true, 5] made {1, 5}
    return found


def _field_of(model: type[BaseModel], key: object) -> str | None:
    """The field of ``model`` that ``key`` (its name or its alias) sets."""
    fields = model.model_fields
    if key in fields:
        return str(key)
    return next((name for name, field in fields.items() if field.alias == key), None)


def refuse_bool_misreads(given: object, validated: object, prefix: KeyPath = ()) -> None:
    """A ``ConfigError`` naming each key where a boolean was read as a number."""
    misread = bool_misreads(given, validated, prefix)
    if misread:
        raise ConfigError(
            "invalid config\n" + "\n".join(f"{dotted(path)}: {BOOL_AS_NUMBER}" for path in misread)
        )


class _StringDatesLoader(yaml.SafeLoader):
    """Leaves dates as text, so pydantic parses them and a bad one is reported by key."""


_StringDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> BacktestConfig:
    """Read, substitute ``${VAR}`` references from ``environ`` (default: the process
    environment) and validate a config file; every problem is a ``ConfigError``."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}): expected a YAML file"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror or exc})") from exc
    try:
        raw = yaml.load(text, Loader=_StringDatesLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {_yaml_problem(exc)}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    try:
        substituted = substitute_env(raw, os.environ if environ is None else environ)
    except EnvVarError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    try:
        config = BacktestConfig.model_validate(substituted.document)
    except ValidationError as exc:
        problems = describe_validation_error(exc, as_written=substituted.as_written)
        raise ConfigError(f"{path}: invalid config\n{problems}") from exc
    try:
        refuse_bool_misreads(substituted.document, config)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    config._as_written = substituted.as_written
    return config


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """What a YAML error says, on one line with the line and column of the file (PyYAML
    writes several lines naming a ``<unicode string>``)."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        what = " ".join(filter(None, (exc.context, exc.problem)))
        return f"line {mark.line + 1}, column {mark.column + 1}: {what}"
    return " ".join(str(exc).split())
