"""The policy's new sections and keys: every problem at once, named; the presets' numbers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from qtrader.risk import (
    PRESETS,
    CashLimit,
    DailyLossLimit,
    DrawdownBreaker,
    DrawdownBreakerPolicy,
    FixedNotionalSizing,
    FixedQuantitySizing,
    GrossLeverageLimit,
    MaxPositionLimit,
    NetLeverageLimit,
    OpenPositionsLimit,
    PreTradeRiskService,
    RiskConfig,
    RiskConfigError,
    VolatilityTargetSizing,
)

D = Decimal
METHODS = (
    "fixed_quantity, fixed_notional, percent_of_equity, target_weight, equal_weight, "
    "volatility_target"
)
EXPECTED = f"expected one of: {METHODS}"


def problems(policy: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(RiskConfigError) as info:
        RiskConfig.from_mapping(policy)
    return dict(info.value.problems)


def test_every_problem_is_reported_at_once_naming_the_key() -> None:
    found = problems(
        {
            "preset": "reckless",
            "cash_buffer": 2,
            "max_gross_leverage": 0,
            "max_open_positions": 0,
            "daily_loss_limit": 1,
            "strategy_budgets": {"s1": "-0.5"},
            "sizing": {"method": "percent_of_equity", "fraction": -1, "windw": 3},
            "drawdown_breaker": {"threshold": "0.2", "recover_to": "0.3"},
        }
    )
    assert found == {
        "preset": (
            "unknown risk preset 'reckless'; expected one of: conservative, moderate, unconstrained"
        ),
        "cash_buffer": "cash_buffer must be a fraction of equity between 0 and 1, got 2",
        "max_gross_leverage": "Input should be greater than 0 (got 0)",
        "max_open_positions": "Input should be greater than 0 (got 0)",
        "daily_loss_limit": "Input should be less than 1 (got 1)",
        "strategy_budgets.s1": "Input should be greater than 0 (got '-0.5')",
        "sizing.fraction": "Input should be greater than 0 (got -1)",
        "sizing.windw": "unknown key; allowed: fraction, scale_by_strength",
        "drawdown_breaker.recover_to": (
            "recover_to must be below threshold 0.2 (a drawdown the breaker resumes at), got 0.3"
        ),
    }


def test_the_message_lists_every_problem() -> None:
    with pytest.raises(RiskConfigError) as info:
        RiskConfig.from_mapping({"max_net_leverage": -1, "colour": "red"})
    assert str(info.value) == (
        "invalid risk policy: max_net_leverage: Input should be greater than or equal to 0 "
        "(got -1); colour: unknown key; allowed: adv_window, allow_margin, allow_short, "
        "cash_buffer, daily_loss_limit, drawdown_breaker, max_adv_participation, "
        "max_gross_leverage, max_net_leverage, max_open_positions, max_position_pct, "
        "min_quantity, min_ticket_value, on_breach, preset, signal_quantity, sizing, "
        "strategy_budgets"
    )


@pytest.mark.parametrize(
    ("sizing", "key", "message"),
    [
        ({"method": "kelly"}, "sizing.method", f"unknown sizing method 'kelly'; {EXPECTED}"),
        ({"notional": 5}, "sizing.method", f"missing; {EXPECTED}"),
        ({"method": "fixed_notional"}, "sizing.notional", "Field required"),
        (
            {"method": "fixed_notional", "notional": 100, "window": 5},
            "sizing.window",
            "unknown key; allowed: notional, scale_by_strength",
        ),
        (
            {"method": "fixed_quantity", "quantity": "10.5"},
            "sizing.quantity",
            "quantity must be a positive whole number of shares, got 10.5",
        ),
        (
            {"method": "volatility_target", "target_volatility": "0.1", "window": 1},
            "sizing.window",
            "Input should be greater than or equal to 2 (got 1)",
        ),
        (
            {"method": "target_weight", "weights": {"AAPL": 0}},
            "sizing.weights.AAPL",
            "Input should be greater than 0 (got 0)",
        ),
    ],
)  # fmt: skip
def test_sizing_problems_name_the_key_under_sizing(
    sizing: dict[str, Any], key: str, message: str
) -> None:
    assert problems({"sizing": sizing}) == {key: message}


def test_keys_that_would_do_nothing_are_refused() -> None:
    both = {"signal_quantity": 100, "sizing": {"method": "fixed_notional", "notional": 1}}
    assert problems(both) == {
        "sizing": (
            "give either signal_quantity or sizing, not both (signal_quantity: N is sizing: "
            "{method: fixed_quantity, quantity: N})"
        )
    }
    assert problems({"adv_window": 10}) == {
        "adv_window": "adv_window has no effect without max_adv_participation; set it too"
    }


def test_sizing_policy_reads_signal_quantity_as_fixed_quantity() -> None:
    assert RiskConfig(signal_quantity=D(100)).sizing_policy() == FixedQuantitySizing(
        method="fixed_quantity", quantity=D(100)
    )
    config = RiskConfig.from_mapping({"sizing": {"method": "fixed_notional", "notional": 5000}})
    assert config.sizing_policy() == FixedNotionalSizing(method="fixed_notional", notional=D(5000))
    assert RiskConfig().sizing_policy() is None
    vol = RiskConfig.from_mapping(
        {"sizing": {"method": "volatility_target", "target_volatility": 0.15}}
    ).sizing
    assert isinstance(vol, VolatilityTargetSizing)
    # the documented defaults
    assert (vol.window, vol.periods_per_year, vol.max_weight) == (20, 252, D(1))


def test_moderate_preset_numbers() -> None:
    config = RiskConfig.preset("moderate")
    assert config == RiskConfig(
        allow_short=True,
        allow_margin=True,
        max_position_pct=D("0.25"),
        max_gross_leverage=D("1.5"),
        max_net_leverage=D(1),
        max_open_positions=20,
        daily_loss_limit=D("0.05"),
        drawdown_breaker=DrawdownBreakerPolicy(
            threshold=D("0.2"), recover_to=D("0.1"), cooldown_sessions=20
        ),
        on_breach="resize",
    )
    assert [type(limit) for limit in PreTradeRiskService(config).limits] == [
        DrawdownBreaker,
        DailyLossLimit,
        MaxPositionLimit,
        GrossLeverageLimit,
        NetLeverageLimit,
        OpenPositionsLimit,
    ]
    assert set(PRESETS) == {"conservative", "moderate", "unconstrained"}


def test_a_preset_key_can_be_overridden_and_a_section_replaced() -> None:
    config = RiskConfig.from_mapping(
        {"preset": "moderate", "drawdown_breaker": {"threshold": "0.3"}, "max_open_positions": 5}
    )
    assert config.drawdown_breaker == DrawdownBreakerPolicy(threshold=D("0.3"))
    assert config.max_open_positions == 5
    assert config.max_gross_leverage == D("1.5")


def test_the_default_policy_checks_only_cash() -> None:
    service = PreTradeRiskService(RiskConfig())
    assert [type(limit) for limit in service.limits] == [CashLimit]
    assert not service.observes_bars
