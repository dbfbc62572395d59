"""The execution config: defaults, models by name, and refusal of what it does not know."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from qtrader.execution import (
    BpsSlippage,
    BpsSlippageConfig,
    ExecutionConfig,
    ExecutionConfigError,
    NextOpenFillConfig,
    NextOpenFillModel,
    NoCommission,
    NoCommissionConfig,
    NoSlippage,
    NoSlippageConfig,
    PercentCommission,
    PerShareCommission,
    PerShareCommissionConfig,
    SplitPolicy,
    build_commission_model,
    build_fill_model,
    build_slippage_model,
    load_execution_config,
)


def test_defaults() -> None:
    config = ExecutionConfig()
    assert config.fill == NextOpenFillConfig()
    assert config.slippage == NoSlippageConfig()
    assert config.commission == NoCommissionConfig()
    assert config.on_split is SplitPolicy.ADJUST
    assert load_execution_config({}) == config


def test_models_are_chosen_by_name() -> None:
    config = load_execution_config(
        {
            "fill": {"model": "next_open"},
            "slippage": {"model": "bps", "bps": 5},
            "commission": {"model": "per_share", "rate": 0.005, "minimum": 1},
            "on_split": "cancel",
        }
    )
    assert config.slippage == BpsSlippageConfig(bps=Decimal(5))
    # A YAML float 0.005 becomes exactly Decimal("0.005").
    assert config.commission == PerShareCommissionConfig(rate=Decimal("0.005"), minimum=Decimal(1))
    assert config.on_split is SplitPolicy.CANCEL
    assert isinstance(build_fill_model(config.fill), NextOpenFillModel)
    assert isinstance(build_slippage_model(config.slippage), BpsSlippage)
    assert isinstance(build_slippage_model(NoSlippageConfig()), NoSlippage)
    assert isinstance(build_commission_model(config.commission), PerShareCommission)
    assert isinstance(build_commission_model(NoCommissionConfig()), NoCommission)
    percent = load_execution_config({"commission": {"model": "percent", "rate": "0.001"}})
    assert isinstance(build_commission_model(percent.commission), PercentCommission)


def test_unknown_key_in_a_model_is_rejected_naming_it() -> None:
    with pytest.raises(ValidationError, match=r"slippage\.none\.foo"):
        ExecutionConfig.model_validate({"slippage": {"model": "none", "foo": 1}})
    with pytest.raises(
        ExecutionConfigError,
        match=r"invalid execution config: slippage\.none\.foo: Extra inputs are not permitted "
        r"\(got 1\)",
    ):
        load_execution_config({"slippage": {"model": "none", "foo": 1}})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"slipage": {"model": "none"}}, r"slipage: Extra inputs are not permitted"),
        ({"slippage": {"model": "spread"}}, r"slippage: Input tag 'spread' found using 'model'"),
        ({"slippage": {"model": "bps"}}, r"slippage\.bps\.bps: Field required"),
        ({"slippage": {"model": "bps", "bps": -1}}, r"slippage\.bps\.bps: .*greater than or equal"),
        ({"commission": {"model": "percent", "rate": 10}}, r"commission\.percent\.rate: .*less"),
        (
            {"commission": {"model": "per_share", "rate": 0.005, "minimum": 5, "maximum": 1}},
            r"commission\.per_share: Value error, minimum 5 is above maximum 1",
        ),
        ({"fill": {"model": "same_close"}}, r"fill\.model: Input should be 'next_open'"),
        ({"on_split": "ignore"}, r"on_split: Input should be 'adjust' or 'cancel'"),
    ],
)
def test_bad_configs_name_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ExecutionConfigError, match=message):
        load_execution_config(data)


def test_config_is_frozen() -> None:
    config = ExecutionConfig()
    with pytest.raises(ValidationError, match="frozen"):
        config.on_split = SplitPolicy.CANCEL  # type: ignore[misc]
    assert isinstance(ExecutionConfigError("x"), ValueError)
