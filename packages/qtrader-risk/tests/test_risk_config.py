"""The policy: validation messages naming the key, presets, and each limit mattering."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from qtrader.models import OrderRequest, PortfolioView, Side, Signal, SignalDirection
from qtrader.models.testing import ny_close
from qtrader.risk import (
    PRESETS,
    CashLimit,
    MaxPositionLimit,
    PreTradeRiskService,
    RiskConfig,
    RiskConfigError,
    RiskError,
    ShortSaleLimit,
)

AT = ny_close(date(2024, 1, 2))
D = Decimal
Book = Callable[..., PortfolioView]


def test_defaults() -> None:
    config = RiskConfig()
    assert config.allow_short is True
    assert config.allow_margin is False
    assert config.cash_buffer == D(0)
    assert config.signal_quantity is None
    assert config.on_breach == "reject"
    assert config.max_position_pct is None


def test_config_is_frozen() -> None:
    config = RiskConfig()
    with pytest.raises(ValidationError):
        config.allow_short = False  # type: ignore[misc]


def test_unknown_key_is_rejected_by_name() -> None:
    with pytest.raises(ValidationError, match="max_postion_pct"):
        RiskConfig.model_validate({"max_postion_pct": "0.2"})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"cash_buffer": "1.5"}, "cash_buffer must be a fraction of equity between 0 and 1"),
        ({"cash_buffer": "-0.01"}, "cash_buffer must be a fraction of equity between 0 and 1"),
        ({"max_position_pct": "0"}, "max_position_pct must be a fraction of equity above 0"),
        ({"max_position_pct": "-0.1"}, "max_position_pct must be a fraction of equity above 0"),
        ({"signal_quantity": "0"}, "signal_quantity must be a positive whole number"),
        ({"signal_quantity": "10.5"}, "signal_quantity must be a positive whole number"),
        ({"on_breach": "clip"}, "on_breach\n  Input should be 'reject' or 'resize'"),
        ({"allow_short": "no"}, "allow_short\n  Input should be a valid boolean"),
        ({"cash_buffer": "NaN"}, "cash_buffer\n  Input should be a finite number"),
        (
            {"allow_margin": True, "cash_buffer": "0.05"},
            "cash_buffer 0.05 has no effect with allow_margin true",
        ),
    ],
)
def test_out_of_range_values_are_rejected_naming_the_key(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        RiskConfig.model_validate(values)


def test_boundary_values_are_accepted() -> None:
    assert RiskConfig(cash_buffer=D(1)).cash_buffer == D(1)
    assert RiskConfig(max_position_pct=D("1.5")).max_position_pct == D("1.5")  # with leverage
    assert RiskConfig.model_validate({"cash_buffer": 0.05}).cash_buffer == D("0.05")


def test_conservative_preset() -> None:
    config = RiskConfig.preset("conservative")
    assert config == RiskConfig(
        allow_short=False,
        allow_margin=False,
        cash_buffer=D("0.05"),
        max_position_pct=D("0.2"),
        on_breach="resize",
    )
    service = PreTradeRiskService(config)
    assert [type(limit) for limit in service.limits] == [
        ShortSaleLimit,
        MaxPositionLimit,
        CashLimit,
    ]


def test_unconstrained_preset_checks_nothing() -> None:
    config = RiskConfig.preset("unconstrained")
    assert config.allow_short
    assert config.allow_margin
    assert PreTradeRiskService(config).limits == ()


def test_preset_with_overrides() -> None:
    config = RiskConfig.preset("conservative", signal_quantity=100, cash_buffer="0.1")
    assert config.signal_quantity == D(100)
    assert config.cash_buffer == D("0.1")
    assert config.max_position_pct == D("0.2")


def test_unknown_preset_lists_the_names() -> None:
    with pytest.raises(
        RiskConfigError,
        match=r"unknown risk preset 'yolo'; expected one of: "
        r"conservative, moderate, unconstrained",
    ):
        RiskConfig.preset("yolo")
    assert sorted(PRESETS) == ["conservative", "moderate", "unconstrained"]


def test_bad_preset_override_names_the_key() -> None:
    with pytest.raises(RiskConfigError, match=r"invalid risk policy: max_position_pct: "):
        RiskConfig.preset("conservative", max_position_pct=0)


def test_from_mapping() -> None:
    assert RiskConfig.from_mapping({"allow_short": False}) == RiskConfig(allow_short=False)
    assert RiskConfig.from_mapping({"preset": "unconstrained"}) == RiskConfig.preset(
        "unconstrained"
    )
    mixed = RiskConfig.from_mapping({"preset": "conservative", "on_breach": "reject"})
    assert mixed.on_breach == "reject"
    assert mixed.cash_buffer == D("0.05")


def test_from_mapping_reports_every_problem_by_key() -> None:
    with pytest.raises(RiskConfigError) as info:
        RiskConfig.from_mapping({"cash_buffer": 2, "colour": "red"})
    message = str(info.value)
    assert message.startswith("invalid risk policy: ")
    assert "cash_buffer: cash_buffer must be a fraction of equity between 0 and 1, got 2" in message
    # the unknown key is named with every key that is allowed
    assert "colour: unknown key; allowed: adv_window, allow_margin, allow_short, " in message
    assert info.value.problems == (
        ("cash_buffer", "cash_buffer must be a fraction of equity between 0 and 1, got 2"),
        ("colour", message.split("colour: ")[1]),
    )
    assert isinstance(info.value, RiskError)
    assert isinstance(info.value, ValueError)


def test_from_mapping_preset_must_be_a_name() -> None:
    with pytest.raises(RiskConfigError, match="preset must be a preset name, got 3"):
        RiskConfig.from_mapping({"preset": 3})


# --- each limit actually changes a decision ------------------------------------------------

BUY_100 = OrderRequest(strategy_id="s1", symbol="AAPL", side=Side.BUY, quantity=D(100))
SELL_10 = OrderRequest(strategy_id="s1", symbol="AAPL", side=Side.SELL, quantity=D(10))
BUY_650 = OrderRequest(strategy_id="s1", symbol="AAPL", side=Side.BUY, quantity=D(650))
BUY_150 = OrderRequest(strategy_id="s1", symbol="AAPL", side=Side.BUY, quantity=D(150))
LONG = Signal(strategy_id="s1", symbol="AAPL", direction=SignalDirection.LONG)


@pytest.mark.parametrize(
    ("cash", "intent", "off", "on"),
    [
        # no position: selling 10 goes short
        ("100000", SELL_10, {"allow_short": True}, {"allow_short": False}),
        # 100 x 150 = 15000 > 10000 cash
        ("10000", BUY_100, {"allow_margin": True}, {"allow_margin": False}),
        # 650 x 150 = 97500 <= 100000, but > 100000 - 0.05 x 100000 = 95000
        ("100000", BUY_650, {"cash_buffer": 0}, {"cash_buffer": "0.05"}),
        # 150 x 150 = 22500 <= 100000 cash, but > 0.2 x 100000 = 20000
        ("100000", BUY_150, {"max_position_pct": None}, {"max_position_pct": "0.2"}),
        # a signal is sized only with a quantity
        ("100000", LONG, {"signal_quantity": 100}, {"signal_quantity": None}),
    ],
)
def test_each_limit_flips_the_decision(
    book: Book, cash: str, intent: OrderRequest | Signal, off: dict[str, Any], on: dict[str, Any]
) -> None:
    prices = {"AAPL": D(150)}
    base = {"signal_quantity": 100} if "signal_quantity" not in off else {}
    [without] = PreTradeRiskService(RiskConfig.model_validate({**base, **off})).decide(
        [intent], book(cash), prices, AT
    )
    [with_limit] = PreTradeRiskService(RiskConfig.model_validate({**base, **on})).decide(
        [intent], book(cash), prices, AT
    )
    assert without.approved
    assert without.order is not None
    assert not with_limit.approved
    assert with_limit.order is None


def test_on_breach_flips_reject_into_resize(book: Book) -> None:
    # 100 x 150 = 15000 > 10000 -> rejected, or resized to 66
    [rejected] = PreTradeRiskService(RiskConfig(on_breach="reject")).decide(
        [BUY_100], book("10000"), {"AAPL": D(150)}, AT
    )
    [resized] = PreTradeRiskService(RiskConfig(on_breach="resize")).decide(
        [BUY_100], book("10000"), {"AAPL": D(150)}, AT
    )
    assert rejected.order is None
    assert resized.order is not None
    assert resized.order.quantity == D(66)
