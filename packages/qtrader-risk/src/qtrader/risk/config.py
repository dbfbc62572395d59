"""The risk policy: which limits apply, how signals are sized, and built-in presets."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from qtrader.models import FrozenModel
from qtrader.risk._arith import LOT_SIZE, ZERO
from qtrader.risk.errors import RiskConfigError

OnBreach = Literal["reject", "resize"]
"""What happens to an order that breaks a limit: refused, or cut down to fit."""

PRESETS: Mapping[str, Mapping[str, Any]] = {
    # Cash account, long only, 5% of equity kept back, no position above 20%
    # of equity; breaches are cut down to fit rather than dropped.
    "conservative": {
        "allow_short": False,
        "allow_margin": False,
        "cash_buffer": Decimal("0.05"),
        "max_position_pct": Decimal("0.2"),
        "on_breach": "resize",
    },
    # No limit at all: every explicit order passes as asked.
    "unconstrained": {
        "allow_short": True,
        "allow_margin": True,
    },
}
"""Built-in policies by name; see ``RiskConfig.preset``."""


class RiskConfig(FrozenModel):
    """Settings of ``PreTradeRiskService``. Frozen; unknown keys are rejected."""

    allow_short: bool = Field(default=True, strict=True)
    """Whether a strategy may sell below a flat position in a symbol."""
    allow_margin: bool = Field(default=False, strict=True)
    """Whether buys may spend more than the cash there is (negative cash)."""
    cash_buffer: Decimal = ZERO
    """Fraction of equity (0..1) that buys may not spend. Needs ``allow_margin`` false."""
    signal_quantity: Decimal | None = None
    """Fixed number of shares a LONG / SHORT signal targets; ``None``: signals are not sized."""
    on_breach: OnBreach = "reject"
    max_position_pct: Decimal | None = None
    """Largest absolute position value in one symbol, as a fraction of equity (> 0)."""

    @field_validator("cash_buffer")
    @classmethod
    def _buffer_is_fraction(cls, value: Decimal) -> Decimal:
        if not ZERO <= value <= 1:
            raise ValueError(
                f"cash_buffer must be a fraction of equity between 0 and 1, got {value}"
            )
        return value

    @field_validator("signal_quantity")
    @classmethod
    def _quantity_is_whole_lots(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and (value <= ZERO or value % LOT_SIZE != ZERO):
            raise ValueError(
                f"signal_quantity must be a positive whole number of shares "
                f"(lot size {LOT_SIZE}), got {value}"
            )
        return value

    @field_validator("max_position_pct")
    @classmethod
    def _pct_is_positive(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and value <= ZERO:
            raise ValueError(
                f"max_position_pct must be a fraction of equity above 0 (0.2 = 20%), got {value}"
            )
        return value

    @model_validator(mode="after")
    def _buffer_needs_cash_check(self) -> RiskConfig:
        # The buffer is part of the cash check, which margin switches off: accepting
        # both would be a limit that is parsed but never applied.
        if self.allow_margin and self.cash_buffer != ZERO:
            raise ValueError(
                f"cash_buffer {self.cash_buffer} has no effect with allow_margin true "
                "(margin switches the cash check off); set one of them back"
            )
        return self

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> RiskConfig:
        """A built-in policy (see ``PRESETS``), optionally with some keys overridden.

        E.g. ``RiskConfig.preset("conservative", signal_quantity=100)``.
        """
        if name not in PRESETS:
            raise RiskConfigError(
                f"unknown risk preset {name!r}; expected one of: {', '.join(sorted(PRESETS))}"
            )
        return cls.from_mapping({**PRESETS[name], **overrides})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RiskConfig:
        """Build from a policy mapping (e.g. read from YAML), raising ``RiskConfigError``.

        A ``preset`` key starts from that preset; the other keys override it.
        Every problem is reported with the key it concerns.
        """
        values = dict(data)
        preset = values.pop("preset", None)
        if preset is not None:
            if not isinstance(preset, str):
                raise RiskConfigError(f"preset must be a preset name, got {preset!r}")
            return cls.preset(preset, **values)
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'policy'}: {err['msg']}"
                for err in exc.errors()
            )
            raise RiskConfigError(f"invalid risk policy: {problems}") from exc
