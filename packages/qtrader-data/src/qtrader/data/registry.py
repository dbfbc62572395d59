"""Adapters by the name a ``data:`` block gives as ``source``.

The built-in adapters are imported only when used (a CSV backtest does not
import httpx); other packages add theirs with an entry point in the group
``qtrader.data_sources`` naming a ``SourceSpec``, or with ``register_source``.
The app calls ``open_data_service`` and never names an adapter class.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from qtrader.data.errors import DataError, UnknownSourceError
from qtrader.data.service import HistoricalDataService
from qtrader.data.source import BarSource

ENTRY_POINT_GROUP = "qtrader.data_sources"


@dataclass(frozen=True, slots=True)
class OAuthLogin:
    """An adapter's browser sign-in: the page to open, then the redirect to complete it.

    ``authorize_url(config, callback_url)`` is the page where the user approves the app;
    ``complete(config, redirect_url_or_code, callback_url)`` trades the redirect's code for
    tokens and stores them where the adapter reads them.
    """

    authorize_url: Callable[[Any, str], str]
    complete: Callable[[Any, str, str], None]
    default_callback_url: str = "https://127.0.0.1"


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One adapter: its name, its config model (unknown keys refused) and its builder;
    ``login`` when it signs in through a browser (``qtrader data login``)."""

    name: str
    config: type[BaseModel]
    build: Callable[[Any], BarSource]
    summary: str = ""
    login: OAuthLogin | None = None


_BUILTIN = {
    "csv": "qtrader.data.csv",
    "parquet": "qtrader.data.parquet",
    "yahoo": "qtrader.data.yahoo",
    "algoseek": "qtrader.data.algoseek",
    "schwab": "qtrader.data.schwab",
}
_registered: dict[str, SourceSpec] = {}


def register_source(spec: SourceSpec) -> None:
    """Add (or replace) an adapter under ``spec.name``."""
    _registered[spec.name] = spec


def _plugins() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def source_names() -> list[str]:
    """Every adapter name that ``open_data_service`` accepts, sorted."""
    return sorted({*_BUILTIN, *_registered, *_plugins()})


def source_spec(name: str) -> SourceSpec:
    """The adapter called ``name``; ``DataError`` listing the names when there is none."""
    if name in _registered:
        return _registered[name]
    target = _BUILTIN.get(name) or _plugins().get(name)
    if target is None:
        raise UnknownSourceError(
            f"unknown data source {name!r}; available: {', '.join(source_names())}"
        )
    module_name, _, attribute = target.partition(":")
    spec = getattr(import_module(module_name), attribute or "SOURCE")
    if not isinstance(spec, SourceSpec):
        raise DataError(f"data source {name!r} ({target}) is not a SourceSpec")
    return spec


def parse_source_config(
    name: str, options: Mapping[str, Any], *, base_dir: Path | None = None
) -> BaseModel:
    """Validate a ``data:`` block (without ``source`` and ``symbols``) for adapter ``name``.

    Relative paths are taken from ``base_dir`` (the config file's folder). A bad
    key raises pydantic's ``ValidationError``, which names it.
    """
    spec = source_spec(name)
    return spec.config.model_validate(dict(options), context={"base_dir": base_dir})


def open_data_service(
    name: str, options: Mapping[str, Any], *, base_dir: Path | None = None
) -> HistoricalDataService:
    """The ``DataService`` of adapter ``name`` configured by ``options``."""
    spec = source_spec(name)
    return HistoricalDataService(spec.build(parse_source_config(name, options, base_dir=base_dir)))
