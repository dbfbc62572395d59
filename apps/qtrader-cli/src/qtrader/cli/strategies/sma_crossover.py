"""Long-only simple-moving-average crossover of the close.

"Fast crosses above slow at bar t" means fast < slow at t-1 and fast > slow
at t, strictly; likewise below. Equal averages are never a cross. No signal
until both averages exist at t-1 (``slow + 1`` bars of the symbol), and none
for a symbol without a bar at t. On a cross above the strategy targets
``quantity`` shares, on a cross below it targets zero: market orders, filled
at the next bar's open.

All symbols are computed at once from ``ctx.history_matrix``; Python runs only
for the symbols that cross, in the order of ``ctx.symbols``.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from qtrader.models import BaseStrategy, FloatArray, FrozenModel, StrategyContext


class SmaCrossoverParams(FrozenModel):
    fast: int = Field(default=10, ge=1)
    slow: int = Field(default=30, ge=2)
    quantity: int = Field(default=100, gt=0)

    @model_validator(mode="after")
    def _fast_below_slow(self) -> SmaCrossoverParams:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be smaller than slow ({self.slow})")
        return self


def averages(
    closes: FloatArray, fast: int, slow: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per row of a C-contiguous ``(symbols, slow + 1)`` block of closes: the fast and slow
    averages at t-1 and at t, as ``(fast_prev, fast_now, slow_prev, slow_now)``.

    Row-wise ``sum() / n``: numpy reduces each row with the same pairwise summation as the
    1-D ``closes[-fast:].sum() / fast`` of one symbol (what ``ndarray.mean()`` computes), so
    the averages are bit for bit those of a per-symbol loop. Never a rolling sum: its
    rounding differs and could move a crossing by a bar.
    """
    return (
        closes[:, -fast - 1 : -1].sum(axis=1) / fast,
        closes[:, -fast:].sum(axis=1) / fast,
        closes[:, :-1].sum(axis=1) / slow,
        closes[:, -slow:].sum(axis=1) / slow,
    )


class SmaCrossover(BaseStrategy):
    Params = SmaCrossoverParams

    def __init__(self, params: SmaCrossoverParams) -> None:
        self.params = params
        self.history_bars = params.slow + 1  # the averages at t and t-1

    def on_bar(self, ctx: StrategyContext) -> None:
        fast, slow = self.params.fast, self.params.slow
        window = ctx.history_matrix("close", slow + 1)
        ready = ctx.has_bars() & window.complete
        if not ready.any():
            return
        # Incomplete rows are NaN-padded, give NaN averages and never compare true; ``ready``
        # excludes them anyway.
        fast_prev, fast_now, slow_prev, slow_now = averages(window.values, fast, slow)
        above = ready & (fast_prev < slow_prev) & (fast_now > slow_now)
        below = ready & (fast_prev > slow_prev) & (fast_now < slow_now)
        symbols = ctx.symbols
        for i in np.flatnonzero(above | below).tolist():
            ctx.order_target_quantity(symbols[i], self.params.quantity if above[i] else 0)
