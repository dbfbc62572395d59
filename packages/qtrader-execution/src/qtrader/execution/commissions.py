"""Commission models, charged per ORDER, not per fill.

A minimum (or a cap) belongs to the order: an order filled in three parts
must pay what it would have paid filled at once, not three minimums. So a
model prices each fill before any bound (``fill_cost``, which may also count
the account's volume for tiered rates) and states the total an order owes
given the costs, quantity and notional of its fills so far (``order_total``);
the service charges each fill the increase of that total. Totals do not
decrease as an order fills, so no charge is negative.

Amounts are exact ``Decimal``; nothing is rounded to cents.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from qtrader.execution.config import (
    CommissionConfig,
    FlatCommissionConfig,
    NoCommissionConfig,
    PercentCommissionConfig,
    PerShareCommissionConfig,
    TieredCommissionConfig,
)

ZERO = Decimal(0)


@runtime_checkable
class CommissionModel(Protocol):
    """What one fill costs before the order's bounds, and what an order owes in total."""

    def fill_cost(self, quantity: Decimal, price: Decimal, at: datetime) -> Decimal:
        """The commission of one fill (``quantity`` at ``price``, stamped ``at``) before
        the order's minimum and maximum. Called once per fill, in time order; a model may
        count volume here (the tiered model does)."""
        ...

    def order_total(self, cost: Decimal, quantity: Decimal, notional: Decimal) -> Decimal:
        """What an order owes for its fills so far: the sum of their ``fill_cost``, their
        quantity and their notional (sum of price x quantity), the last two > 0."""
        ...


class NoCommission:
    def fill_cost(self, quantity: Decimal, price: Decimal, at: datetime) -> Decimal:
        return ZERO

    def order_total(self, cost: Decimal, quantity: Decimal, notional: Decimal) -> Decimal:
        return ZERO


class _Bounded:
    """Clamps the sum of an order's fill costs into ``[minimum, maximum]``."""

    def __init__(self, minimum: Decimal, maximum: Decimal | None) -> None:
        self._minimum = minimum
        self._maximum = maximum

    def order_total(self, cost: Decimal, quantity: Decimal, notional: Decimal) -> Decimal:
        total = max(cost, self._minimum)
        return total if self._maximum is None else min(total, self._maximum)


class PerShareCommission(_Bounded):
    """``rate`` per share filled, at least ``minimum`` and at most ``maximum`` per order."""

    def __init__(self, rate: Decimal, minimum: Decimal = ZERO, maximum: Decimal | None = None):
        super().__init__(minimum, maximum)
        self._rate = rate

    def fill_cost(self, quantity: Decimal, price: Decimal, at: datetime) -> Decimal:
        return self._rate * quantity


class PercentCommission(_Bounded):
    """``rate`` (a fraction: 0.001 = 0.1%) of notional, bounded per order."""

    def __init__(self, rate: Decimal, minimum: Decimal = ZERO, maximum: Decimal | None = None):
        super().__init__(minimum, maximum)
        self._rate = rate

    def fill_cost(self, quantity: Decimal, price: Decimal, at: datetime) -> Decimal:
        return self._rate * quantity * price


class FlatCommission:
    """``amount`` per order, owed in full from its first fill."""

    def __init__(self, amount: Decimal) -> None:
        self._amount = amount

    def fill_cost(self, quantity: Decimal, price: Decimal, at: datetime) -> Decimal:
        return ZERO

    def order_total(self, cost: Decimal, quantity: Decimal, notional: Decimal) -> Decimal:
        return self._amount


class TieredCommission:
    """A per-share rate that falls with the account's share volume in the calendar month.

    ``tiers`` are ``(up_to, rate)`` pairs, ``up_to`` the month's share count where the
    tier ends (``None`` for the last, which has no end). Each share of a fill pays the
    rate of the tier the month's running count is in as it trades, so a fill across a
    boundary pays each rate on its own shares. The count covers every fill of the
    service (all symbols, buys and sells) and restarts when a fill's timestamp falls in a
    new calendar month (of the zone it is stamped in: the data services stamp bars in
    their exchange's zone). Per order: ``max(cost, minimum)``, then capped at ``maximum`` and
    at ``maximum_fraction`` of the order's notional.

    Interactive Brokers' published IBKR Pro US stock tables (broker commission only;
    https://www.interactivebrokers.com/en/pricing/commissions-stocks.php):

    ============================  =============  ================
    Monthly volume (shares)       Tiered         Fixed
    ============================  =============  ================
    <= 300,000                    USD 0.0035     USD 0.005
    300,001 - 3,000,000           USD 0.0020     USD 0.005
    3,000,001 - 20,000,000        USD 0.0015     USD 0.005
    20,000,001 - 100,000,000      USD 0.0010     USD 0.005
    > 100,000,000                 USD 0.0005     USD 0.005
    Minimum per order             USD 0.35       USD 1.00
    Maximum per order             1% of trade value (both)
    ============================  =============  ================

    (``preset: ibkr_pro_tiered`` / ``ibkr_pro_fixed`` in the config.) The Tiered plan's
    exchange, clearing, regulatory and pass-through fees are not modelled.
    """

    def __init__(
        self,
        tiers: Sequence[tuple[int | None, Decimal]],
        minimum: Decimal = ZERO,
        maximum: Decimal | None = None,
        maximum_fraction: Decimal | None = None,
    ) -> None:
        if not tiers or tiers[-1][0] is not None:
            raise ValueError("tiers must end with one that has no end (up_to None)")
        self._tiers = tuple(tiers)
        self._minimum = minimum
        self._maximum = maximum
        self._fraction = maximum_fraction
        self._month: tuple[int, int] | None = None
        self._traded = ZERO

    @property
    def month_volume(self) -> Decimal:
        """Shares counted so far in the current month."""
        return self._traded

    def fill_cost(self, quantity: Decimal, price: Decimal, at: datetime) -> Decimal:
        month = (at.year, at.month)
        if month != self._month:
            self._month, self._traded = month, ZERO
        start = self._traded
        end = start + quantity
        cost = ZERO
        low = ZERO  # where the current tier starts
        for up_to, rate in self._tiers:
            high = end if up_to is None else Decimal(up_to)
            overlap = min(end, high) - max(start, low)
            if overlap > 0:
                cost += overlap * rate
            if up_to is None or end <= high:
                break
            low = high
        self._traded = end
        return cost

    def order_total(self, cost: Decimal, quantity: Decimal, notional: Decimal) -> Decimal:
        total = max(cost, self._minimum)
        if self._maximum is not None:
            total = min(total, self._maximum)
        if self._fraction is not None:
            total = min(total, self._fraction * notional)
        return total


def build_commission_model(config: CommissionConfig) -> CommissionModel:
    """The commission model a config names."""
    if isinstance(config, PerShareCommissionConfig):
        return PerShareCommission(config.rate, config.minimum, config.maximum)
    if isinstance(config, PercentCommissionConfig):
        return PercentCommission(config.rate, config.minimum, config.maximum)
    if isinstance(config, FlatCommissionConfig):
        return FlatCommission(config.amount)
    if isinstance(config, TieredCommissionConfig):
        return TieredCommission(
            [(tier.up_to, tier.rate) for tier in config.tiers],
            config.minimum,
            config.maximum,
            config.maximum_fraction,
        )
    assert isinstance(config, NoCommissionConfig)
    return NoCommission()
