"""Buy a fixed quantity of every symbol once, at its first bar on or after start."""

from __future__ import annotations

from pydantic import Field

from qtrader.models import BaseStrategy, FrozenModel, StrategyContext


class BuyAndHoldParams(FrozenModel):
    quantity: int = Field(default=100, gt=0)


class BuyAndHold(BaseStrategy):
    """A market buy of ``quantity`` per symbol (filled at the next bar's open), then hold.

    A symbol that starts trading after ``start`` is bought at its first bar.
    """

    Params = BuyAndHoldParams

    def __init__(self, params: BuyAndHoldParams) -> None:
        self.params = params
        self._bought: set[str] = set()

    def on_bar(self, ctx: StrategyContext) -> None:
        for symbol in ctx.symbols:
            if symbol not in self._bought and ctx.has_bar(symbol):
                ctx.buy(symbol, self.params.quantity)
                self._bought.add(symbol)
