"""Long-only Bollinger-band mean reversion of the close.

At each bar t of a symbol with at least ``window`` closes (t's included):

- ``mean`` is the average of the last ``window`` closes and ``sd`` their *population*
  standard deviation (divided by ``window``, not ``window - 1``, as Bollinger defined the
  bands); the lower band is ``mean - k * sd``.
- **Entry**: flat and ``close < lower band`` (strictly) -> target ``quantity`` shares.
- **Exit**: long and ``close > mean`` (strictly: back above the middle band) -> target 0.

"Flat" and "long" are the strategy's own position at t's close. Decided at the close,
market orders filled at the next bar's open. No signal for a symbol without a bar at t.
All symbols are computed at once from ``ctx.history_matrix``; Python runs only for the
symbols whose close is outside the band or above the mean.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from qtrader.models import BaseStrategy, FrozenModel, StrategyContext


class BollingerMeanReversionParams(FrozenModel):
    window: int = Field(default=20, ge=2)
    k: float = Field(default=2.0, gt=0, allow_inf_nan=False)
    quantity: int = Field(default=100, gt=0)


class BollingerMeanReversion(BaseStrategy):
    Params = BollingerMeanReversionParams

    def __init__(self, params: BollingerMeanReversionParams) -> None:
        self.params = params
        self.history_bars = params.window

    def on_bar(self, ctx: StrategyContext) -> None:
        window, k = self.params.window, self.params.k
        closes = ctx.history_matrix("close", window)
        ready = ctx.has_bars() & (closes.counts == window)
        if not ready.any():
            return
        values = closes.values
        mean = values.sum(axis=1) / window
        sd = np.sqrt(((values - mean[:, None]) ** 2).sum(axis=1) / window)
        close = values[:, -1]
        # NaN rows (not enough bars) compare false; ``ready`` excludes them anyway.
        below = ready & (close < mean - k * sd)
        above = ready & (close > mean)
        symbols = ctx.symbols
        for i in np.flatnonzero(below | above).tolist():
            symbol = symbols[i]
            held = ctx.position(symbol)
            if below[i] and held == 0:
                ctx.order_target_quantity(symbol, self.params.quantity)
            elif above[i] and held > 0:
                ctx.order_target_quantity(symbol, 0)
