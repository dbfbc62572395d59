"""Pre-trade limits. Each looks at one order and says whether it fits, and how much would.

A limit never decides between rejecting and resizing; the service does that
from ``RiskConfig.on_breach``. The limits of one order (shorting, position
size, cash) are here; those of the whole portfolio in ``portfolio_limits``,
the breakers in ``breakers``; ``limits_for`` puts a policy's together.
"""

from __future__ import annotations

from decimal import Decimal

from qtrader.models import Side
from qtrader.risk._arith import ZERO, fmt, lots_within
from qtrader.risk._watch import EquityWatch, MarketWatch
from qtrader.risk.breakers import DailyLossLimit, DrawdownBreaker
from qtrader.risk.checks import (
    Limit,
    LimitVerdict,
    OrderCheck,
    PortfolioBook,
    describe,
    fit_value,
    reference_price,
    shrinks,
)
from qtrader.risk.config import DEFAULT_ADV_WINDOW, RiskConfig
from qtrader.risk.portfolio_limits import (
    AdvParticipationLimit,
    GrossLeverageLimit,
    NetLeverageLimit,
    OpenPositionsLimit,
    StrategyBudgetLimit,
)

__all__ = [
    "AdvParticipationLimit",
    "CashLimit",
    "DailyLossLimit",
    "DrawdownBreaker",
    "GrossLeverageLimit",
    "Limit",
    "LimitVerdict",
    "MaxPositionLimit",
    "NetLeverageLimit",
    "OpenPositionsLimit",
    "OrderCheck",
    "PortfolioBook",
    "ShortSaleLimit",
    "StrategyBudgetLimit",
    "limits_for",
    "reference_price",
]


class ShortSaleLimit:
    """No strategy may sell below flat in a symbol (used when ``allow_short`` is false).

    Judged per strategy: one strategy's long does not cover another's short.
    """

    name = "allow_short"

    def check(self, c: OrderCheck) -> LimitVerdict:
        order = c.order
        if order.side is Side.BUY:
            return LimitVerdict(breached=False, fit=order.quantity)
        # A resting buy may never fill: it cannot cover a sale.
        held = c.strategy_position if c.strategy_floor is None else c.strategy_floor
        after = held - order.quantity
        if after >= ZERO:
            return LimitVerdict(breached=False, fit=order.quantity)
        return LimitVerdict(
            breached=True,
            # Closing the long exactly is the most that stays within the limit.
            fit=max(held, ZERO),
            reason=(
                f"allow_short is false: {describe(order)} would take strategy "
                f"{order.strategy_id!r} from {fmt(held)} to {fmt(after)}"
            ),
        )


class MaxPositionLimit:
    """The absolute value of the portfolio's position in one symbol stays within
    ``fraction`` x equity.

    Judged on the whole portfolio's position (all strategies), valued at the
    last close, because concentration is a property of the account. An order
    that only shrinks a position (towards flat, without crossing it) always
    passes, even when the position is above the limit after a price rise:
    refusing to reduce risk would be perverse.
    """

    name = "max_position_pct"

    def __init__(self, fraction: Decimal) -> None:
        self._fraction = fraction

    def check(self, c: OrderCheck) -> LimitVerdict:
        order = c.order
        before = c.account_position
        after = before + order.signed_quantity
        # A portfolio with no equity may hold no position at all.
        limit_value = self._fraction * max(c.equity, ZERO)
        value_after = abs(after) * c.price
        figures = {
            "account_position_before": before,
            "position_value_after": value_after,
            "position_limit": limit_value,
        }
        if shrinks(before, after) or value_after <= limit_value:
            return LimitVerdict(breached=False, fit=order.quantity, figures=figures)
        return LimitVerdict(
            breached=True,
            fit=fit_value(limit_value, ZERO, c, before),
            reason=(
                f"max_position_pct: {describe(order)} takes the position from "
                f"{fmt(before)} to {fmt(after)}, worth {fmt(value_after)} at {fmt(c.price)}, "
                f"above {fmt(self._fraction)} x equity {fmt(c.equity)} = {fmt(limit_value)}"
            ),
            figures=figures,
        )


class CashLimit:
    """Buys spend no more than the cash there is (used when ``allow_margin`` is false).

    budget = cash - cost of buys approved earlier in the batch - buffer x equity.
    Sells count for nothing: their proceeds arrive only when they fill, and
    short-sale proceeds are not money to spend.
    """

    name = "allow_margin"

    def __init__(self, buffer: Decimal) -> None:
        self._buffer = buffer

    def check(self, c: OrderCheck) -> LimitVerdict:
        order = c.order
        if order.side is Side.SELL:
            return LimitVerdict(breached=False, fit=order.quantity)
        cost = order.quantity * c.reference_price
        buffer = self._buffer * max(c.equity, ZERO)
        budget = c.cash - c.committed_cash - buffer
        figures = {
            "cash": c.cash,
            "committed_cash": c.committed_cash,
            "buffer_amount": buffer,
            "budget": budget,
            "cost": cost,
        }
        if cost <= budget:
            return LimitVerdict(breached=False, fit=order.quantity, figures=figures)
        fit = min(lots_within(budget, c.reference_price, c.lot), order.quantity)
        return LimitVerdict(
            breached=True,
            fit=fit,
            reason=(
                f"allow_margin is false: {describe(order)} at {fmt(c.reference_price)} "
                f"costs {fmt(cost)}, above the budget {fmt(budget)} (cash {fmt(c.cash)} - "
                f"committed {fmt(c.committed_cash)} - buffer {fmt(buffer)})"
            ),
            figures=figures,
        )


def limits_for(
    config: RiskConfig,
    market: MarketWatch | None = None,
    equity: EquityWatch | None = None,
) -> tuple[Limit, ...]:
    """The limits a policy switches on, in the order they are checked.

    Breakers first (no new risk at all), then direction (shorting), then size (one
    symbol, the whole book, one strategy's budget), then liquidity (volume), then money
    (cash): each later limit sees the order the earlier ones may have cut down.
    ``market`` and ``equity`` are what the volume limit and the breakers read; a policy
    with those limits needs them.
    """
    limits: list[Limit] = []
    if config.drawdown_breaker is not None:
        assert equity is not None, "the drawdown breaker needs the equity watch"
        limits.append(DrawdownBreaker(config.drawdown_breaker, equity))
    if config.daily_loss_limit is not None:
        assert equity is not None, "the daily loss limit needs the equity watch"
        limits.append(DailyLossLimit(config.daily_loss_limit, equity))
    if not config.allow_short:
        limits.append(ShortSaleLimit())
    if config.max_position_pct is not None:
        limits.append(MaxPositionLimit(config.max_position_pct))
    if config.max_gross_leverage is not None:
        limits.append(GrossLeverageLimit(config.max_gross_leverage))
    if config.max_net_leverage is not None:
        limits.append(NetLeverageLimit(config.max_net_leverage))
    if config.max_open_positions is not None:
        limits.append(OpenPositionsLimit(config.max_open_positions))
    if config.strategy_budgets:
        limits.append(StrategyBudgetLimit(config.strategy_budgets))
    if config.max_adv_participation is not None:
        assert market is not None, "the volume limit needs the market watch"
        window = config.adv_window or DEFAULT_ADV_WINDOW
        limits.append(AdvParticipationLimit(config.max_adv_participation, window, market))
    if not config.allow_margin:
        limits.append(CashLimit(config.cash_buffer))
    return tuple(limits)
