"""Trading intents and risk decisions."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, Field, model_validator

from qtrader.models._base import FrozenModel
from qtrader.models.orders import OrderRequest


class SignalDirection(StrEnum):
    LONG = "long"
    SHORT = "short"
    FLAT = "flat"


class Signal(FrozenModel):
    """A view on a symbol that the risk service turns into a sized order (or not)."""

    strategy_id: str = Field(min_length=1)
    symbol: str = Field(min_length=1)
    direction: SignalDirection
    strength: float = Field(default=1.0, ge=0.0, le=1.0, allow_inf_nan=False)
    tag: str | None = None
    weight: Decimal | None = Field(default=None, gt=0, allow_inf_nan=False)
    """The fraction of equity to hold (0.05 = 5%), for a risk policy that sizes signals by
    target weight; ``None``: the policy's weight of the symbol."""


Intent = OrderRequest | Signal
"""What a strategy hands to risk: an explicit order or a signal to be sized."""


class RiskDecision(FrozenModel):
    """Risk's verdict on one intent, with the figures it was based on.

    ``order`` is the approved (possibly resized) order, ``None`` when rejected
    or when nothing needs trading.
    """

    timestamp: AwareDatetime
    intent: OrderRequest | Signal
    order: OrderRequest | None
    approved: bool
    reason: str = ""
    figures: dict[str, Decimal] = Field(default_factory=dict)
    replaces: str | None = None
    """The working order a replace would change (``intent`` is that order as the replace
    would make it); ``None`` for a new intent."""

    @model_validator(mode="after")
    def _rejection_has_no_order(self) -> RiskDecision:
        if not self.approved and self.order is not None:
            raise ValueError("a rejected intent cannot carry an approved order")
        return self
