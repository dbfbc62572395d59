"""The risk policy: which limits apply, how signals are sized, and built-in presets."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails

from qtrader.models import FrozenModel
from qtrader.risk._arith import LOT_SIZE, ZERO
from qtrader.risk.errors import RiskConfigError
from qtrader.risk.sections import (
    SIZING_METHODS,
    DrawdownBreakerPolicy,
    FixedQuantitySizing,
    Fraction,
    SizingPolicy,
)

OnBreach = Literal["reject", "resize"]
"""What happens to an order that breaks a limit: refused, or cut down to fit."""

DEFAULT_ADV_WINDOW = 20
"""Sessions the average daily volume is taken over when ``adv_window`` is not given."""

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
    # A margin account that may short, kept within 1.5x gross and 1x net leverage, 25%
    # of equity per symbol and 20 positions; no new risk after a 5% loss in a session
    # (until the next) or a 20% drawdown (for 20 sessions, or until back within 10%).
    "moderate": {
        "allow_short": True,
        "allow_margin": True,
        "max_position_pct": Decimal("0.25"),
        "max_gross_leverage": Decimal("1.5"),
        "max_net_leverage": Decimal(1),
        "max_open_positions": 20,
        "daily_loss_limit": Decimal("0.05"),
        "drawdown_breaker": {
            "threshold": Decimal("0.2"),
            "recover_to": Decimal("0.1"),
            "cooldown_sessions": 20,
        },
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
    """Settings of ``PreTradeRiskService``. Frozen; unknown keys are rejected.

    Every limit is off unless its key is set (``allow_margin`` false, the default, is the
    cash check). See the package README for each key's meaning and range.
    """

    allow_short: bool = Field(default=True, strict=True)
    """Whether a strategy may sell below a flat position in a symbol."""
    allow_margin: bool = Field(default=False, strict=True)
    """Whether buys may spend more than the cash there is (negative cash)."""
    cash_buffer: Decimal = ZERO
    """Fraction of equity (0..1) that buys may not spend. Needs ``allow_margin`` false."""
    signal_quantity: Decimal | None = None
    """Fixed number of shares a LONG / SHORT signal targets (short for ``sizing:
    {method: fixed_quantity, quantity: N}``); ``None`` and no ``sizing``: signals are not
    sized."""
    sizing: SizingPolicy | None = None
    """How LONG / SHORT signals are sized (``method`` and its keys)."""
    min_quantity: Decimal = Field(default=ZERO, ge=0)
    """Smallest order risk sizes or resizes to (shares); smaller ones are not sent."""
    min_ticket_value: Decimal = Field(default=ZERO, ge=0)
    """Smallest value (quantity x price) of an order risk sizes or resizes."""
    on_breach: OnBreach = "reject"
    max_position_pct: Decimal | None = None
    """Largest absolute position value in one symbol, as a fraction of equity (> 0)."""
    max_gross_leverage: Fraction | None = None
    """Largest sum of absolute position values, as a multiple of equity."""
    max_net_leverage: Decimal | None = Field(default=None, ge=0)
    """Largest absolute sum of signed position values, as a multiple of equity."""
    max_open_positions: int | None = Field(default=None, gt=0, strict=True)
    """Most symbols the portfolio may hold a position in at once."""
    max_adv_participation: Decimal | None = Field(default=None, gt=0, le=1)
    """Largest quantity in one symbol per decision, as a fraction of its average daily
    volume (orders still working and earlier approvals of the same call included)."""
    adv_window: int | None = Field(default=None, gt=0, strict=True)
    """Completed sessions the average daily volume is taken over (default 20)."""
    drawdown_breaker: DrawdownBreakerPolicy | None = None
    daily_loss_limit: Decimal | None = Field(default=None, gt=0, lt=1)
    """No new risk for the rest of a session once equity is this fraction below its
    value at the previous session's close."""
    strategy_budgets: dict[str, Fraction] = Field(default_factory=dict)
    """Largest gross exposure of each named strategy, as a fraction of equity."""

    @field_validator("cash_buffer")
    @classmethod
    def _buffer_is_fraction(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        if not ZERO <= value <= 1:
            raise ValueError(
                f"cash_buffer must be a fraction of equity between 0 and 1, got {value}"
            )
        # The buffer is part of the cash check, which margin switches off: accepting
        # both would be a limit that is parsed but never applied.
        if info.data.get("allow_margin") and value != ZERO:
            raise ValueError(
                f"cash_buffer {value} has no effect with allow_margin true "
                "(margin switches the cash check off); set one of them back"
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

    @field_validator("sizing")
    @classmethod
    def _one_sizing(cls, value: SizingPolicy | None, info: ValidationInfo) -> SizingPolicy | None:
        if value is not None and info.data.get("signal_quantity") is not None:
            raise ValueError(
                "give either signal_quantity or sizing, not both "
                "(signal_quantity: N is sizing: {method: fixed_quantity, quantity: N})"
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

    @field_validator("adv_window")
    @classmethod
    def _window_needs_limit(cls, value: int | None, info: ValidationInfo) -> int | None:
        given = info.data.get("max_adv_participation", ZERO)  # absent: it was invalid
        if value is not None and given is None:
            raise ValueError("adv_window has no effect without max_adv_participation; set it too")
        return value

    def sizing_policy(self) -> SizingPolicy | None:
        """The sizing in force: ``sizing``, or fixed quantity from ``signal_quantity``."""
        if self.signal_quantity is not None:
            return FixedQuantitySizing(method="fixed_quantity", quantity=self.signal_quantity)
        return self.sizing

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> RiskConfig:
        """A built-in policy (see ``PRESETS``), optionally with some keys overridden.

        E.g. ``RiskConfig.preset("conservative", signal_quantity=100)``.
        """
        if name not in PRESETS:
            raise RiskConfigError(_unknown_preset(name), [("preset", _unknown_preset(name))])
        return cls.from_mapping({**PRESETS[name], **overrides})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RiskConfig:
        """Build from a policy mapping (e.g. read from YAML), raising ``RiskConfigError``.

        A ``preset`` key starts from that preset; the other keys override it. Every
        problem is reported at once, each with the key it concerns and what is allowed.
        """
        values = dict(data)
        problems: list[tuple[str, str]] = []
        preset = values.pop("preset", None)
        if preset is not None:
            if not isinstance(preset, str):
                problems.append(("preset", f"preset must be a preset name, got {preset!r}"))
            elif preset not in PRESETS:
                problems.append(("preset", _unknown_preset(preset)))
            else:
                values = {**PRESETS[preset], **values}
        try:
            config = cls.model_validate(values)
        except ValidationError as exc:
            problems.extend(_problem(err) for err in exc.errors())
        if problems:
            text = "; ".join(f"{key or 'policy'}: {message}" for key, message in problems)
            raise RiskConfigError(f"invalid risk policy: {text}", problems)
        return config


def _unknown_preset(name: str) -> str:
    return f"unknown risk preset {name!r}; expected one of: {', '.join(sorted(PRESETS))}"


def _problem(err: ErrorDetails) -> tuple[str, str]:
    """A validation error as ``(dotted key, what is wrong and what is allowed)``."""
    where: type[FrozenModel]
    loc = [str(part) for part in err["loc"]]
    if len(loc) >= 2 and loc[0] == "sizing" and loc[1] in SIZING_METHODS:
        # pydantic names the sizing method in the path; the key under `sizing` is what
        # the user wrote.
        where, loc = SIZING_METHODS[loc[1]], ["sizing", *loc[2:]]
    elif loc[:1] == ["drawdown_breaker"]:
        where = DrawdownBreakerPolicy
    else:
        where = RiskConfig
    key = ".".join(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = [name for name in where.model_fields if name != "method"]
        if where is RiskConfig:
            allowed.append("preset")
        return key, f"unknown key; allowed: {', '.join(sorted(allowed))}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        methods = ", ".join(SIZING_METHODS)
        given = err["input"].get("method") if isinstance(err["input"], dict) else None
        what = "missing" if given is None else f"unknown sizing method {given!r}"
        return f"{key}.method", f"{what}; expected one of: {methods}"
    if kind == "missing":
        return key, err["msg"]
    if kind == "value_error":  # our own messages, which say what they got
        return key, err["msg"].removeprefix("Value error, ")
    return key, f"{err['msg']} (got {err['input']!r})"
