"""Frozen, validated settings of ``SimulatedExecutionService``.

Each pluggable model (fill, slippage, commission) is chosen by its ``model``
key; slippage and commission are pydantic unions discriminated on that key,
so the keys allowed depend on the model and an unknown key is an error that
names it (``{model: none, foo: 1}`` is refused as ``slippage.none.foo``).

Numbers are ``Decimal``. A YAML float such as ``0.005`` arrives as
``Decimal("0.005")`` (pydantic goes through ``str``), so rates are exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from qtrader.execution.errors import ExecutionConfigError
from qtrader.models import FrozenModel

ZERO = Decimal(0)


class NextOpenFillConfig(FrozenModel):
    """The default fill model: orders decided at T are matched from the next bar on.

    Market orders fill at that bar's open; limit and stop orders on its range,
    with gaps filled at the (better or worse) open. See ``NextOpenFillModel``.
    """

    model: Literal["next_open"] = "next_open"


# The only fill model today. When a second one arrives this becomes a union
# discriminated on ``model``, like the two below, and configs keep working.
FillConfig = NextOpenFillConfig


class NoSlippageConfig(FrozenModel):
    """Fills at the fill model's price."""

    model: Literal["none"] = "none"


class BpsSlippageConfig(FrozenModel):
    """A fixed cost in basis points: buys pay ``price x (1 + bps/10000)``,
    sells receive ``price x (1 - bps/10000)``. Exact ``Decimal``, no tick rounding."""

    model: Literal["bps"] = "bps"
    bps: Decimal = Field(ge=0, lt=10000)
    """Basis points of the price (1 bp = 0.01%); below 10000 so a sell price stays positive."""


SlippageConfig = Annotated[NoSlippageConfig | BpsSlippageConfig, Field(discriminator="model")]


class NoCommissionConfig(FrozenModel):
    """Trading is free."""

    model: Literal["none"] = "none"


class _BoundedCommissionConfig(FrozenModel):
    """A minimum and an optional maximum, both per ORDER (not per partial fill)."""

    minimum: Decimal = Field(default=ZERO, ge=0)
    """Least commission an order pays in total, however it is filled."""
    maximum: Decimal | None = Field(default=None, gt=0)
    """Most commission an order pays in total; ``None``: no cap."""

    @model_validator(mode="after")
    def _minimum_below_maximum(self) -> _BoundedCommissionConfig:
        if self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum} is above maximum {self.maximum}")
        return self


class PerShareCommissionConfig(_BoundedCommissionConfig):
    """``rate`` per share (e.g. 0.005 USD), bounded per order by ``minimum``/``maximum``."""

    model: Literal["per_share"] = "per_share"
    rate: Decimal = Field(ge=0)
    """Currency units per share."""


class PercentCommissionConfig(_BoundedCommissionConfig):
    """``rate`` x notional, bounded per order by ``minimum``/``maximum``.

    ``rate`` is a FRACTION of notional: 0.001 is 0.1% (10 bp). It must be below
    1, which catches ``rate: 10`` meant as "10 bp" or "10%".
    """

    model: Literal["percent"] = "percent"
    rate: Decimal = Field(ge=0, lt=1)
    """Fraction of the fill's notional (price x quantity): 0.001 = 0.1%."""


CommissionConfig = Annotated[
    NoCommissionConfig | PerShareCommissionConfig | PercentCommissionConfig,
    Field(discriminator="model"),
]


class SplitPolicy(StrEnum):
    """What happens to working orders of a symbol that splits."""

    ADJUST = "adjust"
    """Quantity x ratio, limit and stop prices / ratio: the order keeps its meaning."""
    CANCEL = "cancel"
    """Cancel them (what many brokers do); the strategy must re-place them."""


class ExecutionConfig(FrozenModel):
    """Settings of ``SimulatedExecutionService``. Frozen; unknown keys are rejected.

    The YAML shape::

        execution:
          fill: {model: next_open}
          slippage: {model: bps, bps: 5}
          commission: {model: per_share, rate: 0.005, minimum: 1.00}
          on_split: adjust
    """

    fill: FillConfig = NextOpenFillConfig()
    slippage: SlippageConfig = NoSlippageConfig()
    commission: CommissionConfig = NoCommissionConfig()
    on_split: SplitPolicy = SplitPolicy.ADJUST


def load_execution_config(data: Mapping[str, Any]) -> ExecutionConfig:
    """Validate a mapping (e.g. the ``execution:`` block of a YAML file).

    Raises ``ExecutionConfigError`` listing each bad key as a dotted path
    (with the chosen model in it, e.g. ``slippage.bps.bps``) and what was wrong.
    """
    try:
        return ExecutionConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(root)'}: {error['msg']}"
            f" (got {error['input']!r})"
            for error in exc.errors()
        )
        raise ExecutionConfigError(f"invalid execution config: {problems}") from None
