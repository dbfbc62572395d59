"""Slippage models: the cost of trading, moving the fill model's price against the trader.

Slippage is applied AFTER the fill model chose a price inside the bar's
range, so a slipped price may lie outside ``[low, high]``; that is the cost
being modelled, not a bar the market printed. The service caps a limit
order's slipped price at its limit (see ``SimulatedExecutionService``) and
records on each fill how far the price moved (``Fill.slippage_per_share``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol, runtime_checkable

from qtrader.execution.config import (
    BpsSlippageConfig,
    HalfSpreadSlippageConfig,
    NoSlippageConfig,
    SlippageConfig,
    SquareRootSlippageConfig,
)
from qtrader.execution.fill_models import BarPrices
from qtrader.models import Side

BPS = Decimal(10000)
ZERO = Decimal(0)
TWO = Decimal(2)
# 2 sqrt(ln 2): Parkinson's (1980) range estimator of volatility is ln(high / low) / this.
PARKINSON = TWO * TWO.ln().sqrt()


@runtime_checkable
class SlippageModel(Protocol):
    """Turns the fill model's price into the price the trader gets.

    ``quantity`` is the fill's (not the order's) and ``bar`` the bar it trades in,
    with its volume; most models read neither.
    """

    def slipped(self, price: Decimal, side: Side, quantity: Decimal, bar: BarPrices) -> Decimal: ...


class NoSlippage:
    """The fill model's price, unchanged."""

    def slipped(self, price: Decimal, side: Side, quantity: Decimal, bar: BarPrices) -> Decimal:
        return price


class BpsSlippage:
    """A fixed number of basis points against the trader, kept as exact ``Decimal``.

    Buys pay ``price x (1 + bps/10000)``; sells receive ``price x (1 - bps/10000)``.
    No rounding to a tick: the price is a cost model, and rounding would bias
    it by up to half a tick per fill.
    """

    def __init__(self, bps: Decimal) -> None:
        if not ZERO <= bps < BPS:
            raise ValueError(f"bps must be in [0, 10000), got {bps}")
        self._fraction = bps / BPS

    def slipped(self, price: Decimal, side: Side, quantity: Decimal, bar: BarPrices) -> Decimal:
        return price * (1 + side.sign * self._fraction)


class HalfSpreadSlippage:
    """Half of a spread estimated from the bar: ``max(range_fraction x (high - low),
    minimum_spread) / 2`` per share against the trader (see ``HalfSpreadSlippageConfig``).

    A sell is never pushed to zero or below: its slip is at most half its price."""

    def __init__(self, range_fraction: Decimal, minimum_spread: Decimal = ZERO) -> None:
        if not ZERO < range_fraction <= 1:
            raise ValueError(f"range_fraction must be in (0, 1], got {range_fraction}")
        if minimum_spread < 0:
            raise ValueError(f"minimum_spread must be >= 0, got {minimum_spread}")
        self._fraction = range_fraction
        self._minimum = minimum_spread

    def slipped(self, price: Decimal, side: Side, quantity: Decimal, bar: BarPrices) -> Decimal:
        half = max(self._fraction * (bar.high - bar.low), self._minimum) / TWO
        if side is Side.BUY:
            return price + half
        return price - min(half, price / TWO)


class SquareRootSlippage:
    """Square-root market impact: ``price x min(coefficient x sigma x sqrt(q / V),
    max_fraction)`` per share against the trader (see ``SquareRootSlippageConfig``).

    ``q`` is the fill's quantity, ``V`` the bar's volume. ``sigma`` is configured or, when
    ``None``, the bar's Parkinson volatility ``ln(high / low) / (2 sqrt(ln 2))``. A bar
    without volume has no participation to price: the fill pays ``max_fraction`` (the
    service does not fill on such bars when a participation cap is set, as it must be).
    Exact ``Decimal`` arithmetic in the current context (28 digits).
    """

    def __init__(
        self,
        coefficient: Decimal = Decimal(1),
        sigma: Decimal | None = None,
        max_fraction: Decimal = Decimal("0.5"),
    ) -> None:
        if coefficient <= 0:
            raise ValueError(f"coefficient must be > 0, got {coefficient}")
        if sigma is not None and not ZERO < sigma < 1:
            raise ValueError(f"sigma must be in (0, 1), got {sigma}")
        if not ZERO < max_fraction < 1:
            raise ValueError(f"max_fraction must be in (0, 1), got {max_fraction}")
        self._coefficient = coefficient
        self._sigma = sigma
        self._max = max_fraction

    def impact(self, quantity: Decimal, bar: BarPrices) -> Decimal:
        """The slip as a fraction of the price."""
        volume = bar.volume
        if volume <= 0:
            return self._max
        sigma = self._sigma
        if sigma is None:
            sigma = (bar.high / bar.low).ln() / PARKINSON
        return min(self._coefficient * sigma * (quantity / volume).sqrt(), self._max)

    def slipped(self, price: Decimal, side: Side, quantity: Decimal, bar: BarPrices) -> Decimal:
        return price * (1 + side.sign * self.impact(quantity, bar))


def build_slippage_model(config: SlippageConfig) -> SlippageModel:
    """The slippage model a config names."""
    if isinstance(config, BpsSlippageConfig):
        return BpsSlippage(config.bps)
    if isinstance(config, HalfSpreadSlippageConfig):
        return HalfSpreadSlippage(config.range_fraction, config.minimum_spread)
    if isinstance(config, SquareRootSlippageConfig):
        return SquareRootSlippage(config.coefficient, config.sigma, config.max_fraction)
    assert isinstance(config, NoSlippageConfig)
    return NoSlippage()
