"""Equal weight across the universe, rebalanced on the first session of each month.

On the first bar of each calendar month (the month of the bar's session date in the
exchange's zone), and on the first bar of the run so that the strategy starts invested,
every symbol with a bar at that time is targeted at ``invested / N`` of equity, where N is
the number of such symbols, through ``ctx.order_target_percent`` (whole shares, rounded
down, valued at that bar's close). Symbols without a bar then are left as they are.

``invested`` (default 0.95) leaves cash for the move between the deciding close and the
next open, where the market orders fill: at 1.0 the buys of a rebalance would often need
more cash than the account has, and risk would refuse some of them.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from qtrader.models import BaseStrategy, FrozenModel, StrategyContext


class MonthlyRebalanceParams(FrozenModel):
    invested: float = Field(default=0.95, gt=0, le=1, allow_inf_nan=False)


class MonthlyRebalance(BaseStrategy):
    Params = MonthlyRebalanceParams

    def __init__(self, params: MonthlyRebalanceParams) -> None:
        self.params = params
        self._month: tuple[int, int] | None = None
        self.history_bars = 1  # reads no history (prices come from the portfolio)

    def on_bar(self, ctx: StrategyContext) -> None:
        session = ctx.timestamp.date()
        month = (session.year, session.month)
        if month == self._month:
            return
        self._month = month
        present = np.flatnonzero(ctx.has_bars()).tolist()
        if not present:
            return
        weight = self.params.invested / len(present)
        symbols = ctx.symbols
        for i in present:
            ctx.order_target_percent(symbols[i], weight)
