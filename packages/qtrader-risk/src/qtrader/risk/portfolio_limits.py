"""Limits on the whole portfolio: leverage, number of positions, strategies' budgets,
and participation in a symbol's volume.

They read ``OrderCheck.book``: the portfolio as it will be if every order approved
so far in the call fills, valued at the call's prices. An order that only reduces
what a limit measures always passes, even when the figure is still above the limit
(after a price move): refusing to reduce risk would be perverse.
"""

from __future__ import annotations

from decimal import Decimal

from qtrader.risk._arith import ZERO, floor_lots, fmt, lots_within
from qtrader.risk._watch import MarketWatch
from qtrader.risk.checks import (
    LimitVerdict,
    OrderCheck,
    PortfolioBook,
    describe,
    fit_value,
    shrinks,
)


def _book(c: OrderCheck) -> PortfolioBook:
    assert c.book is not None, "portfolio limits need OrderCheck.book"
    return c.book


class GrossLeverageLimit:
    """Sum of |position| x price over every symbol <= ``multiple`` x equity."""

    name = "max_gross_leverage"

    def __init__(self, multiple: Decimal) -> None:
        self._multiple = multiple

    def check(self, c: OrderCheck) -> LimitVerdict:
        order, book = c.order, _book(c)
        before = c.account_position
        after = before + order.signed_quantity
        gross_after = book.gross_exposure + (abs(after) - abs(before)) * c.price
        limit_value = self._multiple * max(c.equity, ZERO)
        figures = {"gross_exposure_after": gross_after, "gross_limit": limit_value}
        if shrinks(before, after) or gross_after <= limit_value:
            return LimitVerdict(breached=False, fit=order.quantity, figures=figures)
        other = book.gross_exposure - abs(before) * c.price  # every other symbol
        return LimitVerdict(
            breached=True,
            fit=fit_value(limit_value, other, c, before),
            reason=(
                f"max_gross_leverage: {describe(order)} takes the gross exposure to "
                f"{fmt(gross_after)}, above {fmt(self._multiple)} x equity {fmt(c.equity)} "
                f"= {fmt(limit_value)}"
            ),
            figures=figures,
        )


class NetLeverageLimit:
    """|Sum of position x price over every symbol| <= ``multiple`` x equity."""

    name = "max_net_leverage"

    def __init__(self, multiple: Decimal) -> None:
        self._multiple = multiple

    def check(self, c: OrderCheck) -> LimitVerdict:
        order, book = c.order, _book(c)
        net = book.net_exposure
        net_after = net + order.signed_quantity * c.price
        limit_value = self._multiple * max(c.equity, ZERO)
        figures = {"net_exposure_after": net_after, "net_limit": limit_value}
        # Towards zero without crossing it always passes; past zero, the far side counts.
        if abs(net_after) <= limit_value or shrinks(net, net_after):
            return LimitVerdict(breached=False, fit=order.quantity, figures=figures)
        # On the order's side: sign x (net + sign x q x price) <= limit.
        room = limit_value - order.side.sign * net
        return LimitVerdict(
            breached=True,
            fit=min(lots_within(room, c.price, c.lot), order.quantity),
            reason=(
                f"max_net_leverage: {describe(order)} takes the net exposure from {fmt(net)} "
                f"to {fmt(net_after)}, beyond {fmt(self._multiple)} x equity "
                f"{fmt(c.equity)} = {fmt(limit_value)} either way"
            ),
            figures=figures,
        )


class OpenPositionsLimit:
    """At most ``most`` symbols with a position in the portfolio. Only an order in a
    symbol not counted open (``PortfolioBook.counts_open``) can breach it; it cannot be
    cut down to fit (any quantity opens the position)."""

    name = "max_open_positions"

    def __init__(self, most: int) -> None:
        self._most = most

    def check(self, c: OrderCheck) -> LimitVerdict:
        order, book = c.order, _book(c)
        if book.counts_open(order.symbol):
            return LimitVerdict(breached=False, fit=order.quantity)
        count = book.open_positions
        if count < self._most:
            return LimitVerdict(breached=False, fit=order.quantity)
        return LimitVerdict(
            breached=True,
            fit=ZERO,
            reason=(
                f"max_open_positions: {describe(order)} would open position number "
                f"{count + 1}; {count} are open and the most allowed is {self._most}"
            ),
            figures={"open_positions": Decimal(count)},
        )


class StrategyBudgetLimit:
    """A strategy's gross exposure (sum of |its position| x price over every symbol)
    <= its budget x equity, for the strategies the policy names; others are free."""

    name = "strategy_budgets"

    def __init__(self, budgets: dict[str, Decimal]) -> None:
        self._budgets = dict(budgets)

    def check(self, c: OrderCheck) -> LimitVerdict:
        order = c.order
        budget = self._budgets.get(order.strategy_id)
        if budget is None:
            return LimitVerdict(breached=False, fit=order.quantity)
        before = c.strategy_position
        after = before + order.signed_quantity
        if shrinks(before, after):
            return LimitVerdict(breached=False, fit=order.quantity)
        gross = _book(c).strategy_gross(order.strategy_id)
        gross_after = gross + (abs(after) - abs(before)) * c.price
        limit_value = budget * max(c.equity, ZERO)
        figures = {"strategy_gross_after": gross_after, "strategy_budget": limit_value}
        if gross_after <= limit_value:
            return LimitVerdict(breached=False, fit=order.quantity, figures=figures)
        other = gross - abs(before) * c.price
        return LimitVerdict(
            breached=True,
            fit=fit_value(limit_value, other, c, before),
            reason=(
                f"strategy_budgets: {describe(order)} takes strategy {order.strategy_id!r}'s "
                f"gross exposure to {fmt(gross_after)}, above its budget {fmt(budget)} x "
                f"equity {fmt(c.equity)} = {fmt(limit_value)}"
            ),
            figures=figures,
        )


class AdvParticipationLimit:
    """The quantity of a symbol working or approved in one call, this order included,
    <= ``fraction`` x the symbol's average daily volume over the last ``window``
    completed sessions. Exits too: a market is as thin either way.

    Until ``window`` sessions of the symbol have been observed the volume is not known
    and the order is rejected (never guessed): warmup bars fill the window.
    """

    name = "max_adv_participation"

    def __init__(self, fraction: Decimal, window: int, market: MarketWatch) -> None:
        self._fraction = fraction
        self._window = window
        self._market = market

    def check(self, c: OrderCheck) -> LimitVerdict:
        order = c.order
        adv, seen = self._market.average_daily_volume(order.symbol)
        if adv is None:
            return LimitVerdict(
                breached=True,
                fit=ZERO,
                reason=(
                    f"max_adv_participation: {seen} of the {self._window} completed sessions "
                    f"of {order.symbol}'s volume needed have been seen; its average daily "
                    "volume is not known yet (more warmup_bars would fill the window)"
                ),
            )
        traded = _book(c).traded(order.symbol)
        cap = self._fraction * adv
        figures = {"average_daily_volume": adv, "volume_cap": cap, "quantity_traded": traded}
        if traded + order.quantity <= cap:
            return LimitVerdict(breached=False, fit=order.quantity, figures=figures)
        return LimitVerdict(
            breached=True,
            fit=min(floor_lots(cap - traded, c.lot), order.quantity),
            reason=(
                f"max_adv_participation: {describe(order)} with {fmt(traded)} already working "
                f"or approved is above {fmt(self._fraction)} x the average daily volume "
                f"{fmt(adv)} = {fmt(cap)}"
            ),
            figures=figures,
        )
