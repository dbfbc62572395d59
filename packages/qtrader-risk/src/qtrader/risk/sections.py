"""The nested sections of a risk policy: how signals are sized, and the drawdown breaker.

Each sizing method is its own model, picked by ``method``, so that a key that
belongs to another method (``window`` under ``fixed_notional``) is rejected
instead of silently ignored.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from qtrader.models import FrozenModel
from qtrader.risk._arith import LOT_SIZE, ZERO

Fraction = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
"""A positive fraction of equity (0.05 = 5%); above 1 means leverage."""


class _Sizing(FrozenModel):
    scale_by_strength: bool = Field(default=False, strict=True)
    """Multiply the size by the signal's ``strength`` (0..1) before rounding to lots."""


class FixedQuantitySizing(_Sizing):
    """LONG holds ``+quantity`` shares, SHORT ``-quantity`` (``signal_quantity`` is short
    for this)."""

    method: Literal["fixed_quantity"]
    quantity: Decimal = Field(gt=0, allow_inf_nan=False)

    @field_validator("quantity")
    @classmethod
    def _whole(cls, value: Decimal) -> Decimal:
        if value % LOT_SIZE != ZERO:
            raise ValueError(f"quantity must be a positive whole number of shares, got {value}")
        return value


class FixedNotionalSizing(_Sizing):
    """Hold ``notional`` worth of the symbol at the last close."""

    method: Literal["fixed_notional"]
    notional: Decimal = Field(gt=0, allow_inf_nan=False)


class PercentOfEquitySizing(_Sizing):
    """Hold ``fraction`` x equity of the symbol at the last close (0.05 = 5%)."""

    method: Literal["percent_of_equity"]
    fraction: Fraction


class TargetWeightSizing(_Sizing):
    """Hold the symbol's weight x equity: the signal's ``weight`` if it has one, else
    ``weights[symbol]``, else ``default_weight``; with none of them the signal is rejected."""

    method: Literal["target_weight"]
    weights: dict[str, Fraction] = Field(default_factory=dict)
    default_weight: Fraction | None = None


class EqualWeightSizing(_Sizing):
    """``fraction`` x equity shared equally among the strategy's current signals: the
    symbols whose last signal from that strategy is LONG or SHORT."""

    method: Literal["equal_weight"]
    fraction: Fraction = Decimal(1)


class VolatilityTargetSizing(_Sizing):
    """Size so that the position's annualised volatility is ``target_volatility`` x
    equity: value = equity x target / (stdev of the last ``window`` close-to-close returns
    x sqrt(``periods_per_year``)), at most ``max_weight`` x equity."""

    method: Literal["volatility_target"]
    target_volatility: Fraction
    window: int = Field(default=20, ge=2, strict=True)
    periods_per_year: int = Field(default=252, gt=0, strict=True)
    max_weight: Fraction = Decimal(1)


SizingPolicy = Annotated[
    FixedQuantitySizing
    | FixedNotionalSizing
    | PercentOfEquitySizing
    | TargetWeightSizing
    | EqualWeightSizing
    | VolatilityTargetSizing,
    Field(discriminator="method"),
]
"""One sizing method; ``method`` says which."""

SIZING_METHODS: dict[str, type[_Sizing]] = {
    "fixed_quantity": FixedQuantitySizing,
    "fixed_notional": FixedNotionalSizing,
    "percent_of_equity": PercentOfEquitySizing,
    "target_weight": TargetWeightSizing,
    "equal_weight": EqualWeightSizing,
    "volatility_target": VolatilityTargetSizing,
}


class DrawdownBreakerPolicy(FrozenModel):
    """No new risk once equity is more than ``threshold`` below its peak, until the
    drawdown is back to ``recover_to`` or for ``cooldown_sessions`` sessions, whichever
    comes first (neither: for the rest of the run). Exits always pass."""

    threshold: Decimal = Field(gt=0, lt=1, allow_inf_nan=False)
    recover_to: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    cooldown_sessions: int | None = Field(default=None, gt=0, strict=True)

    @field_validator("recover_to")
    @classmethod
    def _below_threshold(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        threshold = info.data.get("threshold")
        if value is not None and threshold is not None and value >= threshold:
            raise ValueError(
                f"recover_to must be below threshold {threshold} (a drawdown the breaker "
                f"resumes at), got {value}"
            )
        return value
