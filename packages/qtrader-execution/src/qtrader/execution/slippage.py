"""Slippage models: the cost of trading, moving the fill model's price against the trader.

Slippage is applied AFTER the fill model chose a price inside the bar's
range, so a slipped price may lie outside ``[low, high]``; that is the cost
being modelled, not a bar the market printed. The service caps a limit
order's slipped price at its limit (see ``SimulatedExecutionService``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol, runtime_checkable

from qtrader.execution.config import BpsSlippageConfig, NoSlippageConfig, SlippageConfig
from qtrader.models import Side

BPS = Decimal(10000)


@runtime_checkable
class SlippageModel(Protocol):
    """Turns the fill model's price into the price the trader gets."""

    def slipped(self, price: Decimal, side: Side, quantity: Decimal) -> Decimal: ...


class NoSlippage:
    """The fill model's price, unchanged."""

    def slipped(self, price: Decimal, side: Side, quantity: Decimal) -> Decimal:
        return price


class BpsSlippage:
    """A fixed number of basis points against the trader, kept as exact ``Decimal``.

    Buys pay ``price x (1 + bps/10000)``; sells receive ``price x (1 - bps/10000)``.
    No rounding to a tick: the price is a cost model, and rounding would bias
    it by up to half a tick per fill.
    """

    def __init__(self, bps: Decimal) -> None:
        if not Decimal(0) <= bps < BPS:
            raise ValueError(f"bps must be in [0, 10000), got {bps}")
        self._fraction = bps / BPS

    def slipped(self, price: Decimal, side: Side, quantity: Decimal) -> Decimal:
        return price * (1 + side.sign * self._fraction)


def build_slippage_model(config: SlippageConfig) -> SlippageModel:
    """The slippage model a config names."""
    if isinstance(config, BpsSlippageConfig):
        return BpsSlippage(config.bps)
    assert isinstance(config, NoSlippageConfig)
    return NoSlippage()
