"""Commission models, charged per ORDER, not per fill.

A minimum (or a cap) belongs to the order: an order filled in three parts
must pay what it would have paid filled at once, not three minimums. So a
model states the total an order owes for everything filled so far
(``order_total``), and the service charges each fill the increase of that
total. Totals are non-decreasing in what was filled, so no charge is negative.

Amounts are exact ``Decimal``; nothing is rounded to cents.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol, runtime_checkable

from qtrader.execution.config import (
    CommissionConfig,
    NoCommissionConfig,
    PercentCommissionConfig,
    PerShareCommissionConfig,
)

ZERO = Decimal(0)


@runtime_checkable
class CommissionModel(Protocol):
    """The commission an order owes in total for what it has filled so far."""

    def order_total(self, quantity: Decimal, notional: Decimal) -> Decimal:
        """``quantity`` and ``notional`` (sum of price x quantity) filled so far, both > 0."""
        ...


class NoCommission:
    def order_total(self, quantity: Decimal, notional: Decimal) -> Decimal:
        return ZERO


class _Bounded:
    """Clamps a raw commission into ``[minimum, maximum]`` per order."""

    def __init__(self, minimum: Decimal, maximum: Decimal | None) -> None:
        self._minimum = minimum
        self._maximum = maximum

    def _bounded(self, raw: Decimal) -> Decimal:
        total = max(raw, self._minimum)
        return total if self._maximum is None else min(total, self._maximum)


class PerShareCommission(_Bounded):
    """``rate`` per share filled, at least ``minimum`` and at most ``maximum`` per order."""

    def __init__(self, rate: Decimal, minimum: Decimal = ZERO, maximum: Decimal | None = None):
        super().__init__(minimum, maximum)
        self._rate = rate

    def order_total(self, quantity: Decimal, notional: Decimal) -> Decimal:
        return self._bounded(self._rate * quantity)


class PercentCommission(_Bounded):
    """``rate`` (a fraction: 0.001 = 0.1%) of notional, bounded per order."""

    def __init__(self, rate: Decimal, minimum: Decimal = ZERO, maximum: Decimal | None = None):
        super().__init__(minimum, maximum)
        self._rate = rate

    def order_total(self, quantity: Decimal, notional: Decimal) -> Decimal:
        return self._bounded(self._rate * notional)


def build_commission_model(config: CommissionConfig) -> CommissionModel:
    """The commission model a config names."""
    if isinstance(config, PerShareCommissionConfig):
        return PerShareCommission(config.rate, config.minimum, config.maximum)
    if isinstance(config, PercentCommissionConfig):
        return PercentCommission(config.rate, config.minimum, config.maximum)
    assert isinstance(config, NoCommissionConfig)
    return NoCommission()
