"""Signal sizing: how many shares a strategy's view on a symbol becomes.

A sizer answers, for a LONG or SHORT signal, how many shares (unsigned, before
rounding to lots) the strategy should hold, or why it cannot say. The service
signs it, scales it by ``strength`` if the policy says so, rounds it down to
the symbol's lot, and orders the difference from the strategy's position. FLAT
never reaches a sizer: getting out never depends on how entries are sized.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from qtrader.models import Intent, Signal, SignalDirection
from qtrader.risk._arith import ZERO, fmt, fmt_short
from qtrader.risk._watch import MarketWatch
from qtrader.risk.sections import (
    EqualWeightSizing,
    FixedNotionalSizing,
    FixedQuantitySizing,
    PercentOfEquitySizing,
    SizingPolicy,
    TargetWeightSizing,
    VolatilityTargetSizing,
)


class SignalSizer(Protocol):
    """Turns a LONG or SHORT signal into the size of the position its strategy should hold."""

    @property
    def name(self) -> str:
        """The sizing method, which starts the reasons of its refusals."""
        ...

    @property
    def needs_price(self) -> bool:
        """Whether ``size`` needs the symbol's last price (checked usable before the call)."""
        ...

    def size(
        self, signal: Signal, price: Decimal | None, equity: Decimal, figures: dict[str, Decimal]
    ) -> Decimal | str:
        """The unsigned quantity to hold (before lot rounding), or the reason there is none.

        ``price`` is the last close when ``needs_price`` (else ``None``); ``equity`` the
        portfolio's. A sizer may add what it computed to ``figures``.
        """
        ...


class FixedQuantitySizer:
    """LONG holds ``+quantity``, SHORT ``-quantity``, whatever the price."""

    __slots__ = ("_quantity",)
    name = "fixed_quantity"
    needs_price = False

    def __init__(self, quantity: Decimal) -> None:
        self._quantity = quantity

    def size(
        self, signal: Signal, price: Decimal | None, equity: Decimal, figures: dict[str, Decimal]
    ) -> Decimal | str:
        return self._quantity


class FixedNotionalSizer:
    """Holds ``notional`` worth at the last close: quantity = notional / price."""

    __slots__ = ("_notional",)
    name = "fixed_notional"
    needs_price = True

    def __init__(self, notional: Decimal) -> None:
        self._notional = notional

    def size(
        self, signal: Signal, price: Decimal | None, equity: Decimal, figures: dict[str, Decimal]
    ) -> Decimal | str:
        assert price is not None  # needs_price: the service checked it
        figures["target_value"] = self._notional
        return self._notional / price


def _of_equity(
    name: str, fraction: Decimal, price: Decimal, equity: Decimal, figures: dict[str, Decimal]
) -> Decimal | str:
    """``fraction`` x equity worth at ``price``; nothing to size with no equity."""
    if equity <= ZERO:
        return f"{name}: equity is {fmt(equity)}; there is nothing to size a position from"
    value = fraction * equity
    figures["target_value"] = value
    return value / price


class PercentOfEquitySizer:
    """Holds ``fraction`` x equity at the last close."""

    __slots__ = ("_fraction",)
    name = "percent_of_equity"
    needs_price = True

    def __init__(self, fraction: Decimal) -> None:
        self._fraction = fraction

    def size(
        self, signal: Signal, price: Decimal | None, equity: Decimal, figures: dict[str, Decimal]
    ) -> Decimal | str:
        assert price is not None
        return _of_equity(self.name, self._fraction, price, equity, figures)


class TargetWeightSizer:
    """Holds weight x equity: the signal's own ``weight``, else the policy's weight of the
    symbol, else its default weight."""

    __slots__ = ("_default", "_weights")
    name = "target_weight"
    needs_price = True

    def __init__(self, weights: dict[str, Decimal], default: Decimal | None) -> None:
        self._weights = weights
        self._default = default

    def size(
        self, signal: Signal, price: Decimal | None, equity: Decimal, figures: dict[str, Decimal]
    ) -> Decimal | str:
        assert price is not None
        weight = signal.weight
        if weight is None:
            weight = self._weights.get(signal.symbol, self._default)
        if weight is None:
            return (
                f"{self.name}: no weight for {signal.symbol} (the signal has none, the "
                "policy's weights do not name it and there is no default_weight)"
            )
        figures["weight"] = weight
        return _of_equity(self.name, weight, price, equity, figures)


class EqualWeightSizer:
    """``fraction`` x equity shared equally among the strategy's current signals.

    A strategy's current signals are the symbols whose *last* signal from it is LONG or
    SHORT (FLAT takes a symbol out), counting the signals of the batch being decided:
    ``see`` is called with every batch's intents before any is sized. So a strategy
    that signals only on changes keeps its earlier entries counted.
    """

    __slots__ = ("_active", "_fraction")
    name = "equal_weight"
    needs_price = True

    def __init__(self, fraction: Decimal) -> None:
        self._fraction = fraction
        self._active: dict[str, set[str]] = {}

    def see(self, intents: Sequence[Intent]) -> None:
        for intent in intents:
            if isinstance(intent, Signal):
                active = self._active.setdefault(intent.strategy_id, set())
                if intent.direction is SignalDirection.FLAT:
                    active.discard(intent.symbol)
                else:
                    active.add(intent.symbol)

    def size(
        self, signal: Signal, price: Decimal | None, equity: Decimal, figures: dict[str, Decimal]
    ) -> Decimal | str:
        assert price is not None
        # The signal itself was seen, so its strategy has at least one current signal.
        count = len(self._active.get(signal.strategy_id, ())) or 1
        figures["active_signals"] = Decimal(count)
        return _of_equity(self.name, self._fraction / count, price, equity, figures)


class VolatilityTargetSizer:
    """Size so that the position's annualised volatility is the target's share of equity.

    volatility = sample standard deviation of the last ``window`` close-to-close
    returns the service observed for the symbol, x sqrt(``periods_per_year``) (252 for
    daily bars: set it to the bars per year of the feed). value = equity x target /
    volatility, capped at ``max_weight`` x equity (a symbol that did not move gets the
    cap). Until ``window`` + 1 closes have been observed, the signal is rejected.
    """

    __slots__ = ("_market", "_policy")
    name = "volatility_target"
    needs_price = True

    def __init__(self, policy: VolatilityTargetSizing, market: MarketWatch) -> None:
        self._policy = policy
        self._market = market

    def size(
        self, signal: Signal, price: Decimal | None, equity: Decimal, figures: dict[str, Decimal]
    ) -> Decimal | str:
        assert price is not None
        policy = self._policy
        closes = self._market.closes(signal.symbol)
        if len(closes) <= policy.window:
            return (
                f"{self.name}: {max(len(closes) - 1, 0)} of the {policy.window} returns of "
                f"{signal.symbol} needed have been seen; cannot size yet "
                "(more warmup_bars would fill the window)"
            )
        returns = [now / before - 1.0 for before, now in itertools.pairwise(closes)]
        annual = statistics.stdev(returns) * math.sqrt(policy.periods_per_year)
        cap = policy.max_weight
        volatility = Decimal(repr(annual))
        figures["volatility"] = volatility
        if volatility > ZERO:
            cap = min(cap, policy.target_volatility / volatility)
        return _of_equity(self.name, cap, price, equity, figures)


def sizer_for(policy: SizingPolicy | None, market: MarketWatch | None) -> SignalSizer | None:
    """The sizer of a sizing policy (``None``: signals are not sized)."""
    if policy is None:
        return None
    if isinstance(policy, FixedQuantitySizing):
        return FixedQuantitySizer(policy.quantity)
    if isinstance(policy, FixedNotionalSizing):
        return FixedNotionalSizer(policy.notional)
    if isinstance(policy, PercentOfEquitySizing):
        return PercentOfEquitySizer(policy.fraction)
    if isinstance(policy, TargetWeightSizing):
        return TargetWeightSizer(dict(policy.weights), policy.default_weight)
    if isinstance(policy, EqualWeightSizing):
        return EqualWeightSizer(policy.fraction)
    assert isinstance(policy, VolatilityTargetSizing)
    assert market is not None, "volatility targeting needs the observed closes"
    return VolatilityTargetSizer(policy, market)


def describe_small(name: str, size: Decimal, symbol: str, lot: Decimal) -> str:
    """The reason of a LONG / SHORT signal whose size is less than one lot."""
    return f"{name}: {fmt_short(size)} shares of {symbol} is less than one lot ({fmt(lot)})"
