"""Signal sizing: how many shares a strategy's view on a symbol becomes.

A sizer turns a ``Signal`` into a *target position* for the signalling
strategy; the service orders the difference from the current position. More
methods (fixed notional, percent of equity, volatility targeting) implement
the same ``SignalSizer`` protocol.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from qtrader.models import Signal, SignalDirection
from qtrader.risk._arith import ZERO


class SignalSizer(Protocol):
    """Turns a signal into the target signed quantity of its strategy in its symbol."""

    def target(self, signal: Signal) -> Decimal | None:
        """The target position, or ``None`` when this sizer cannot size the signal."""
        ...


class FixedQuantitySizer:
    """LONG holds ``+quantity``, SHORT ``-quantity``, FLAT nothing.

    ``strength`` is ignored: a fixed quantity is fixed. FLAT needs no
    quantity, so a strategy can always get out even when nothing sizes entries.
    """

    __slots__ = ("_quantity",)

    def __init__(self, quantity: Decimal | None) -> None:
        self._quantity = quantity

    def target(self, signal: Signal) -> Decimal | None:
        if signal.direction is SignalDirection.FLAT:
            return ZERO
        if self._quantity is None:
            return None
        return self._quantity if signal.direction is SignalDirection.LONG else -self._quantity
