"""The backtest configuration file (YAML): parsed, validated, errors name the key.

The app owns only the top-level shape. Each section is handed to the config
model of the service that will use it, so a service's options are documented
and validated in one place, by that service.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ConfigDict, Field, ValidationError, model_validator

from qtrader.models import FrozenModel


class ConfigError(ValueError):
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


def describe_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """One line per problem: the dotted key, what was wrong and what was given."""
    lines = []
    for err in exc.errors():
        key = ".".join(str(part) for part in (prefix, *err["loc"]) if part != "")
        if err["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown key (check the spelling; see the docs for allowed keys)")
        else:
            given = "" if err["type"] == "missing" else f" (got {err.get('input')!r})"
            lines.append(f"{key or '(top level)'}: {err['msg']}{given}")
    return "\n".join(lines)


class _StringDatesLoader(yaml.SafeLoader):
    """Leaves dates as text, so pydantic parses them and a bad one is reported by key."""


_StringDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_config(path: Path) -> BacktestConfig:
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_StringDatesLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    try:
        return BacktestConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid config\n{describe_validation_error(exc)}") from exc
