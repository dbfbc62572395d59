"""Buy a fixed quantity of every symbol once, at its first bar on or after start."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from qtrader.models import BaseStrategy, FrozenModel, StrategyContext
from qtrader.models.ports import BoolArray


class BuyAndHoldParams(FrozenModel):
    quantity: int = Field(default=100, gt=0)


class BuyAndHold(BaseStrategy):
    """A market buy of ``quantity`` per symbol (filled at the next bar's open), then hold.

    A symbol that starts trading after ``start`` is bought at its first bar. Once every
    symbol is bought, ``on_bar`` does nothing (one check of a boolean mask).
    """

    Params = BuyAndHoldParams

    def __init__(self, params: BuyAndHoldParams) -> None:
        self.params = params
        self.history_bars = 1  # reads no history
        self._bought: set[str] = set()
        self._universe: tuple[str, ...] | None = None
        self._waiting: BoolArray = np.zeros(0, dtype=np.bool_)  # not bought yet, per symbol

    def on_bar(self, ctx: StrategyContext) -> None:
        symbols = ctx.symbols
        if symbols != self._universe:
            self._universe = symbols
            self._waiting = np.array([s not in self._bought for s in symbols], dtype=np.bool_)
        if not self._waiting.any():
            return
        due = ctx.has_bars() & self._waiting
        for i in np.flatnonzero(due).tolist():
            ctx.buy(symbols[i], self.params.quantity)
            self._bought.add(symbols[i])
        self._waiting &= ~due
