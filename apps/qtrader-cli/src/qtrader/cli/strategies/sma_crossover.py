"""Long-only simple-moving-average crossover of the close.

"Fast crosses above slow at bar t" means fast < slow at t-1 and fast > slow
at t, strictly; likewise below. Equal averages are never a cross. No signal
until both averages exist at t-1 (``slow + 1`` bars of the symbol). On a
cross above the strategy targets ``quantity`` shares, on a cross below it
targets zero: market orders, filled at the next bar's open.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from qtrader.models import BaseStrategy, FrozenModel, StrategyContext


class SmaCrossoverParams(FrozenModel):
    fast: int = Field(default=10, ge=1)
    slow: int = Field(default=30, ge=2)
    quantity: int = Field(default=100, gt=0)

    @model_validator(mode="after")
    def _fast_below_slow(self) -> SmaCrossoverParams:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be smaller than slow ({self.slow})")
        return self


class SmaCrossover(BaseStrategy):
    Params = SmaCrossoverParams

    def __init__(self, params: SmaCrossoverParams) -> None:
        self.params = params

    def on_bar(self, ctx: StrategyContext) -> None:
        fast, slow = self.params.fast, self.params.slow
        for symbol in ctx.symbols:
            if not ctx.has_bar(symbol):
                continue
            closes = ctx.history(symbol, "close", slow + 1)
            if len(closes) < slow + 1:
                continue
            # sum() / n is what ndarray.mean() computes, bit for bit, without its overhead.
            fast_now = closes[-fast:].sum() / fast
            fast_prev = closes[-fast - 1 : -1].sum() / fast
            slow_now = closes[-slow:].sum() / slow
            slow_prev = closes[:-1].sum() / slow
            if fast_prev < slow_prev and fast_now > slow_now:
                ctx.order_target_quantity(symbol, self.params.quantity)
            elif fast_prev > slow_prev and fast_now < slow_now:
                ctx.order_target_quantity(symbol, 0)
