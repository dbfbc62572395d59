"""Configuration of the portfolio service."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

from qtrader.models import FrozenModel

LotMatching = Literal["fifo", "lifo", "highest_cost"]
"""Which open lots a closing trade consumes first (see ``lots.py``)."""


class PortfolioConfig(FrozenModel):
    """Settings of ``LotPortfolioService``. Frozen; unknown keys are rejected."""

    initial_cash: Decimal = Field(ge=0, allow_inf_nan=False)
    allow_short: bool = True
    lot_matching: LotMatching = "fifo"
