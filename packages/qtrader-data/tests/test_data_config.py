"""CsvDataConfig: defaults and what it refuses."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from qtrader.data import CsvColumns, CsvDataConfig, ValidationPolicy
from qtrader.models import PriceAdjustment


def test_defaults() -> None:
    config = CsvDataConfig(path=Path("data"))
    assert config.timezone == "America/New_York"
    assert (config.session_open, config.session_close) == (time(9, 30), time(16, 0))
    assert config.columns == CsvColumns()
    assert config.columns.price_names() == ("open", "high", "low", "close", "volume")
    assert config.price_adjustment is PriceAdjustment.UNADJUSTED
    assert config.validation is ValidationPolicy.STRICT
    assert config.tolerance == 0.0
    assert config.bar_interval is None
    assert config.zone.key == "America/New_York"


def test_parses_strings_as_yaml_gives_them() -> None:
    config = CsvDataConfig.model_validate(
        {
            "path": "d",
            "session_open": "09:00",
            "session_close": "17:30",
            "validation": "repair",
            "bar_interval": "00:05:00",
            "columns": {"date": "Date"},
        }
    )
    assert config.session_close == time(17, 30)
    assert config.bar_interval == timedelta(minutes=5)
    assert config.columns.date == "Date"
    assert config.columns.close == "close"


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"session_close": 960}, "quoted string"),  # what YAML makes of an unquoted 16:00
        ({"bar_interval": 300}, "quoted string"),
        ({"timezone": "Mars/Olympus"}, "unknown timezone 'Mars/Olympus'"),
        ({"session_open": "16:00", "session_close": "09:30"}, "must be before session_close"),
        ({"session_close": "16:00+01:00"}, "local time without offset"),
        ({"tolerance": -0.1}, "greater than or equal to 0"),
        ({"tolerance": 1.5}, "less than 1"),
        ({"bar_interval": "-00:05:00"}, "bar_interval must be positive"),
        ({"validation": "lenient"}, "'strict' or 'repair'"),
        ({"colums": {}}, "Extra inputs are not permitted"),
        ({"columns": {"close": "date"}}, "distinct headers"),
        ({"columns": {"adj_close": "x"}}, "Extra inputs are not permitted"),
    ],
)
def test_refuses(options: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment.replace("(", r"\(").replace("+", r"\+")):
        CsvDataConfig.model_validate({"path": "d", **options})


def test_is_frozen() -> None:
    config = CsvDataConfig(path=Path("d"))
    with pytest.raises(ValidationError):
        config.tolerance = 0.5  # type: ignore[misc]
