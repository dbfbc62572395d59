"""The composition root: each real service can be swapped for its fake and the engine runs
the same; strategies load by built-in name, module path or file path."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from qtrader.cli import bootstrap as boot
from qtrader.cli.config import load_config
from qtrader.cli.strategies import BuyAndHold, StrategyLoadError, load_strategy
from qtrader.cli.versions import DISTRIBUTIONS, package_versions
from qtrader.engine import BacktestEngine, BacktestResult, EngineConfig
from qtrader.models import (
    BarSlice,
    DataService,
    ExecutionService,
    PortfolioService,
    RiskService,
    StreamRequest,
)
from qtrader.models.testing import (
    FakeDataService,
    FakeExecutionService,
    FakePortfolioService,
    FakeRiskService,
)


def services(tiny: Path) -> dict[str, Any]:
    config = load_config(tiny / "config.yaml")
    return {
        "config": config,
        "data": boot.build_data(config, tiny),
        "portfolio": boot.build_portfolio(config),
        "execution": boot.build_execution(config),
        "risk": boot.build_risk(config),
        "strategies": boot.build_strategies(config, tiny),
    }


def run(parts: dict[str, Any]) -> BacktestResult:
    config = parts["config"]
    engine = BacktestEngine(
        EngineConfig(start=config.start, end=config.end, symbols=config.data.symbols),
        data=parts["data"],
        portfolio=parts["portfolio"],
        execution=parts["execution"],
        risk=parts["risk"],
        strategies=parts["strategies"],
    )
    return engine.run()


def test_the_real_services_satisfy_their_ports(tiny: Path) -> None:
    parts = services(tiny)
    assert isinstance(parts["data"], DataService)
    assert isinstance(parts["portfolio"], PortfolioService)
    assert isinstance(parts["execution"], ExecutionService)
    assert isinstance(parts["risk"], RiskService)


@pytest.mark.parametrize("fake", ["data", "portfolio", "execution", "risk"])
def test_each_service_can_be_replaced_by_its_fake(tiny: Path, fake: str) -> None:
    reference = run(services(tiny))
    parts = services(tiny)
    if fake == "data":
        real = parts["data"]
        request = StreamRequest(
            symbols=("AAA",), start=parts["config"].start, end=parts["config"].end
        )
        slices: list[BarSlice] = list(real.stream(request))
        parts["data"] = FakeDataService(slices)
    elif fake == "portfolio":
        parts["portfolio"] = FakePortfolioService(Decimal(10_000))
    elif fake == "execution":
        parts["execution"] = FakeExecutionService()
    else:
        parts["risk"] = FakeRiskService()
    result = run(parts)

    def key(r: BacktestResult) -> list[tuple[Any, ...]]:
        return [(f.timestamp, f.symbol, f.side, f.quantity, f.price) for f in r.fills]

    assert key(result) == key(reference)
    assert [(e.cash, e.equity) for e in result.equity] == [
        (e.cash, e.equity) for e in reference.equity
    ]


def test_strategies_load_by_module_path_and_by_file(tmp_path: Path) -> None:
    by_module = load_strategy(
        "qtrader.cli.strategies.buy_and_hold:BuyAndHold", {"quantity": 5}, tmp_path
    )
    assert isinstance(by_module, BuyAndHold)
    assert by_module.params.quantity == 5
    (tmp_path / "mine.py").write_text(
        "from qtrader.models import BaseStrategy\n"
        "class Mine(BaseStrategy):\n"
        "    def __init__(self, level: int = 1) -> None:\n"
        "        self.level = level\n"
    )
    mine = load_strategy("mine.py:Mine", {"level": 3}, tmp_path)
    assert type(mine).__name__ == "Mine"
    assert mine.level == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("reference", "params", "message"),
    [
        ("nope", {}, "unknown strategy 'nope'"),
        ("missing.py:X", {}, "does not exist"),
        ("no_such_module_xyz:X", {}, "cannot import module"),
        ("qtrader.cli.strategies:Nope", {}, "has no class 'Nope'"),
        ("mine.py:Mine", {"colour": 1}, "bad params"),
        ("mine.py:NotAStrategy", {}, "is not a strategy"),
        ("buy_and_hold", {"quantity": 0}, "strategy.params.quantity"),
    ],
)
def test_strategy_load_errors(
    tmp_path: Path, reference: str, params: dict[str, Any], message: str
) -> None:
    (tmp_path / "mine.py").write_text(
        "from qtrader.models import BaseStrategy\n"
        "class Mine(BaseStrategy):\n    pass\n"
        "class NotAStrategy:\n    pass\n"
    )
    with pytest.raises(StrategyLoadError, match=message):
        load_strategy(reference, params, tmp_path)


def test_risk_preset_with_overrides(tiny: Path) -> None:
    config = load_config(tiny / "config.yaml")
    config = config.model_copy(update={"risk": {"preset": "unconstrained", "allow_short": False}})
    assert isinstance(boot.build_risk(config), RiskService)


def test_package_versions_cover_every_distribution() -> None:
    versions = package_versions()
    assert set(versions) == set(DISTRIBUTIONS)
    root = Path(__file__).resolve().parents[3]
    with (root / "packages" / "qtrader-models" / "pyproject.toml").open("rb") as f:
        assert versions["qtrader-models"] == tomllib.load(f)["project"]["version"]
