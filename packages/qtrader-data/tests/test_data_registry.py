"""Adapters are found by name; the app never names an adapter class."""

from __future__ import annotations

import sys
import types
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from pydantic import ValidationError

from qtrader.data import (
    CsvBarSource,
    CsvDataConfig,
    DataError,
    HistoricalDataService,
    SourceSpec,
    UnknownSourceError,
    open_data_service,
    parse_source_config,
    register_source,
    source_names,
    source_spec,
)
from qtrader.data import registry as registry_module


def test_builtin_names_are_listed_and_an_unknown_one_is_refused_with_the_list() -> None:
    assert {"csv", "parquet", "yahoo", "algoseek", "schwab"} <= set(source_names())
    with pytest.raises(
        UnknownSourceError, match=r"unknown data source 'bloomberg'; available: .*csv"
    ):
        source_spec("bloomberg")


def test_csv_by_name_with_paths_relative_to_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "AAA.csv").write_text("date,open,high,low,close,volume\n")
    svc = open_data_service("csv", {"path": "data"}, base_dir=tmp_path)
    assert isinstance(svc, HistoricalDataService)
    assert svc.symbols() == ["AAA"]
    assert svc.source.location == str(tmp_path / "data")
    absolute = parse_source_config("csv", {"path": str(tmp_path)}, base_dir=Path("/elsewhere"))
    assert isinstance(absolute, CsvDataConfig)
    assert absolute.path == tmp_path


def test_home_is_expanded_and_no_base_dir_keeps_a_relative_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    config = parse_source_config("csv", {"path": "~/data", "actions": "acts.csv"})
    assert isinstance(config, CsvDataConfig)
    assert (config.path, config.actions) == (tmp_path / "data", Path("acts.csv"))


def test_bad_options_name_the_key() -> None:
    with pytest.raises(ValidationError, match="colums"):
        parse_source_config("csv", {"path": ".", "colums": {}})


def test_a_registered_source_and_an_entry_point_plug_in(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    spec = SourceSpec(name="mine", config=CsvDataConfig, build=CsvBarSource, summary="test")
    monkeypatch.setattr(registry_module, "_registered", {})
    register_source(spec)
    assert source_spec("mine") is spec
    assert "mine" in source_names()
    assert open_data_service("mine", {"path": str(tmp_path)}).symbols() == []

    plugin = types.ModuleType("qtrader_test_plugin")
    plugin.SPEC = spec  # type: ignore[attr-defined]
    plugin.NOT_A_SPEC = object()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "qtrader_test_plugin", plugin)
    points = [
        EntryPoint("vendor", "qtrader_test_plugin:SPEC", registry_module.ENTRY_POINT_GROUP),
        EntryPoint("broken", "qtrader_test_plugin:NOT_A_SPEC", registry_module.ENTRY_POINT_GROUP),
    ]
    monkeypatch.setattr(registry_module, "entry_points", lambda group: points)
    assert {"vendor", "broken"} <= set(source_names())
    assert source_spec("vendor") is spec
    with pytest.raises(DataError, match=r"'broken' .* is not a SourceSpec"):
        source_spec("broken")
