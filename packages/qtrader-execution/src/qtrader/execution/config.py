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
from datetime import time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from qtrader.execution.errors import ExecutionConfigError
from qtrader.models import FrozenModel
from qtrader.models.fields import LocalTime, TimeZoneName

ZERO = Decimal(0)


class BracketConflict(StrEnum):
    """Which exit of a bracket fills when one bar reached both its stop and its target.

    An OHLC bar does not say whether its high or its low came first. A leg that was
    marketable at the open happened first and always wins; otherwise this decides.
    """

    STOP_LOSS = "stop_loss"
    """The pessimistic leg (the default): assume the stop was hit first."""
    TAKE_PROFIT = "take_profit"
    """The optimistic leg: assume the target was reached first."""


class NextOpenFillConfig(FrozenModel):
    """The default fill model: orders decided at T are matched from the next bar on.

    Market orders fill at that bar's open; limit and stop orders on its range,
    with gaps filled at the (better or worse) open. See ``NextOpenFillModel``.
    """

    model: Literal["next_open"] = "next_open"
    participation: Decimal | None = Field(default=None, gt=0, le=1)
    """At most this fraction of each bar's volume is filled, shared by every order of the
    symbol in that bar (in submission order); the rest keeps working. A zero-volume bar
    then fills nothing. ``None`` (default): volume is ignored and orders fill in full."""
    bracket_conflict: BracketConflict = BracketConflict.STOP_LOSS
    """Which exit of a bracket fills when one bar could have filled both."""


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


class HalfSpreadSlippageConfig(FrozenModel):
    """Half a spread estimated from the bar's range: buys pay ``price + spread / 2``,
    sells receive ``price - spread / 2``, with ``spread = max(range_fraction x (high - low),
    minimum_spread)``.

    OHLC bars carry no quotes, so the range is the proxy: on one-minute bars the range is
    close to the spread (``range_fraction`` near 1); a daily range is mostly price
    movement, so a daily proxy needs a small fraction (e.g. 0.02)."""

    model: Literal["half_spread"] = "half_spread"
    range_fraction: Decimal = Field(gt=0, le=1)
    """The estimated spread as a fraction of the bar's high - low."""
    minimum_spread: Decimal = Field(default=ZERO, ge=0)
    """The least spread, in price units (e.g. one tick, 0.01)."""


class SquareRootSlippageConfig(FrozenModel):
    """Square-root market impact: each share costs ``price x coefficient x sigma x
    sqrt(q / V)``, ``q`` the fill's quantity and ``V`` the bar's volume.

    ``sigma`` is the volatility over one bar, as a fraction of price: configured, or (when
    ``None``) the bar's own Parkinson estimate ``ln(high / low) / (2 sqrt(ln 2))``, which
    needs nothing but the bar. ``coefficient`` is the "Y" of the literature, of order 1
    (Almgren et al. 2005; Toth et al. 2011). It needs ``fill.participation``: that keeps
    ``q / V`` at most the participation, and zero-volume bars (``V = 0``) fill nothing."""

    model: Literal["square_root"] = "square_root"
    coefficient: Decimal = Field(default=Decimal(1), gt=0)
    """The "Y" in ``Y x sigma x sqrt(q / V)``."""
    sigma: Decimal | None = Field(default=None, gt=0, lt=1)
    """Volatility per bar as a fraction (0.02 = 2%); ``None``: estimated from each bar."""
    max_fraction: Decimal = Field(default=Decimal("0.5"), gt=0, lt=1)
    """The impact is at most this fraction of the price, so a sell price stays positive."""


SlippageConfig = Annotated[
    NoSlippageConfig | BpsSlippageConfig | HalfSpreadSlippageConfig | SquareRootSlippageConfig,
    Field(discriminator="model"),
]


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


class FlatCommissionConfig(FrozenModel):
    """``amount`` per order, charged with its first fill, whatever it trades."""

    model: Literal["flat"] = "flat"
    amount: Decimal = Field(ge=0)


class CommissionTier(FrozenModel):
    """Shares traded in the calendar month up to ``up_to`` (inclusive) cost ``rate`` each."""

    up_to: int | None = Field(default=None, gt=0)
    """The month's share count where this tier ends; ``None``: no end (the last tier)."""
    rate: Decimal = Field(ge=0)


# Interactive Brokers, IBKR Pro, US stocks and ETFs: the broker's commission only (the
# Tiered plan's exchange, clearing, regulatory and pass-through fees are not modelled),
# as published at https://www.interactivebrokers.com/en/pricing/commissions-stocks.php
TIERED_PRESETS: dict[str, dict[str, Any]] = {
    "ibkr_pro_tiered": {
        "tiers": (
            {"up_to": 300_000, "rate": Decimal("0.0035")},
            {"up_to": 3_000_000, "rate": Decimal("0.0020")},
            {"up_to": 20_000_000, "rate": Decimal("0.0015")},
            {"up_to": 100_000_000, "rate": Decimal("0.0010")},
            {"up_to": None, "rate": Decimal("0.0005")},
        ),
        "minimum": Decimal("0.35"),
        "maximum_fraction": Decimal("0.01"),
    },
    "ibkr_pro_fixed": {
        "tiers": ({"up_to": None, "rate": Decimal("0.005")},),
        "minimum": Decimal("1.00"),
        "maximum_fraction": Decimal("0.01"),
    },
}


class TieredCommissionConfig(FrozenModel):
    """A rate per share that falls with the account's share volume in the calendar month.

    Each share pays the rate of the tier the month's running count is in when it trades
    (a fill that crosses a tier boundary pays both rates, each on its own shares); the
    count covers every symbol, buys and sells, and starts again each calendar month (of
    the fill's timestamp, in the zone it is stamped in). Per ORDER: at least ``minimum``,
    at most ``maximum`` and at most ``maximum_fraction`` of the order's traded value (the
    cap applies last, as in Interactive Brokers' own example: 1,000 shares at 0.25 on the
    fixed plan pay 2.50).

    ``preset: ibkr_pro_tiered`` or ``ibkr_pro_fixed`` fills in ``tiers``, ``minimum`` and
    ``maximum_fraction`` from Interactive Brokers' published US stock tables (see
    ``TIERED_PRESETS``); a preset takes none of those keys.
    """

    model: Literal["tiered"] = "tiered"
    preset: Literal["ibkr_pro_tiered", "ibkr_pro_fixed"] | None = None
    tiers: tuple[CommissionTier, ...] = Field(min_length=1)
    minimum: Decimal = Field(default=ZERO, ge=0)
    maximum: Decimal | None = Field(default=None, gt=0)
    maximum_fraction: Decimal | None = Field(default=None, gt=0, lt=1)
    """Most commission per order as a fraction of its traded value (0.01 = 1%)."""

    @model_validator(mode="before")
    @classmethod
    def _expand_preset(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or data.get("preset") is None:
            return data
        preset = data["preset"]
        if preset not in TIERED_PRESETS:
            return data  # the Literal refuses it, naming the allowed ones
        clash = sorted({"tiers", "minimum", "maximum", "maximum_fraction"} & data.keys())
        if clash:
            raise ValueError(
                f"preset {preset} sets tiers, minimum and maximum_fraction; "
                f"give either the preset or {', '.join(clash)}"
            )
        return {**data, **TIERED_PRESETS[preset]}

    @model_validator(mode="after")
    def _check_tiers(self) -> TieredCommissionConfig:
        bounds = [tier.up_to for tier in self.tiers]
        if bounds[-1] is not None or None in bounds[:-1]:
            raise ValueError("only the last tier, and it must, has no up_to (no end)")
        ends = [b for b in bounds if b is not None]
        if ends != sorted(set(ends)):
            raise ValueError(f"tier ends must increase, got {ends}")
        if self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum} is above maximum {self.maximum}")
        return self


CommissionConfig = Annotated[
    NoCommissionConfig
    | PerShareCommissionConfig
    | PercentCommissionConfig
    | FlatCommissionConfig
    | TieredCommissionConfig,
    Field(discriminator="model"),
]


class SplitPolicy(StrEnum):
    """What happens to working orders of a symbol that splits."""

    ADJUST = "adjust"
    """Quantity x ratio, limit and stop prices / ratio: the order keeps its meaning."""
    CANCEL = "cancel"
    """Cancel them (what many brokers do); the strategy must re-place them."""


class SessionConfig(FrozenModel):
    """The trading session, as local times in each instrument's zone.

    A bar stamped at or after ``close`` (local) ends its session: DAY orders expire
    after it and market-on-close orders fill at its close. Daily bars are stamped at the
    close, so each ends its session. A bar that opened at or after ``open`` on a later
    session starts one: market-on-open orders fill at its open. Set both to what the data
    uses if its sessions are not 09:30-16:00 (e.g. ``'15:00'`` for Tokyo's close).
    """

    timezone: TimeZoneName = "America/New_York"
    """IANA zone of symbols the service was given no ``Instrument`` for."""
    open: LocalTime = time(9, 30)
    close: LocalTime = time(16, 0)

    @model_validator(mode="after")
    def _check(self) -> SessionConfig:
        if self.open >= self.close:
            raise ValueError(f"open {self.open} must be before close {self.close}")
        return self


class ExecutionConfig(FrozenModel):
    """Settings of ``SimulatedExecutionService``. Frozen; unknown keys are rejected.

    The YAML shape::

        execution:
          fill: {model: next_open, participation: 0.1, bracket_conflict: stop_loss}
          slippage: {model: bps, bps: 5}
          commission: {model: per_share, rate: 0.005, minimum: 1.00}
          on_split: adjust
          session: {timezone: America/New_York, open: '09:30', close: '16:00'}
          max_price_deviation: 0.1
          lifecycle_updates: false
    """

    fill: FillConfig = NextOpenFillConfig()
    slippage: SlippageConfig = NoSlippageConfig()
    commission: CommissionConfig = NoCommissionConfig()
    on_split: SplitPolicy = SplitPolicy.ADJUST
    session: SessionConfig = SessionConfig()
    max_price_deviation: Decimal | None = Field(default=None, gt=0)
    """Fill-price guard: an order that carries a ``sizing_price`` is cancelled instead of
    filled at a price further than this fraction from it (0.1 = 10%). ``None``: off."""
    lifecycle_updates: bool = False
    """Also report ``ACCEPTED`` (with the next bars), ``PARTIALLY_FILLED`` and ``FILLED``
    updates. Off by default: cancellations, expiries, rejections and replacements are
    always reported, and fills are in the fills."""

    def describe(self) -> str:
        """One line naming the fill, slippage and commission models and their settings,
        printed with every backtest's summary (so a result never hides how it filled)."""
        fill = f"fills: {self.fill.model} (decided at a bar's close, active from the next bar"
        fill += "; market orders at its open)"
        settings = _settings(self.fill)
        return (
            f"{fill}{', ' + settings if settings else ''}; "
            f"slippage: {self.slippage.model}{_bracketed(_settings(self.slippage))}; "
            f"commission: {self.commission.model}{_bracketed(_settings(self.commission))}"
        )

    @model_validator(mode="after")
    def _impact_needs_participation(self) -> ExecutionConfig:
        if isinstance(self.slippage, SquareRootSlippageConfig) and self.fill.participation is None:
            raise ValueError(
                "slippage square_root needs fill.participation (e.g. 0.1): the impact is on "
                "the fraction of each bar's volume an order takes"
            )
        return self


def _settings(model: FrozenModel) -> str:
    """``key=value`` of a model's settings other than ``model`` (tiers are counted)."""
    parts = []
    for key, value in model.model_dump(mode="json", exclude={"model"}).items():
        if value is None:
            continue
        if key == "tiers":
            parts.append(f"{len(value)} tiers")
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts)


def _bracketed(text: str) -> str:
    return f" ({text})" if text else ""


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
