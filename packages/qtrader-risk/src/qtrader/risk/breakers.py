"""Breakers: no new risk while equity is down too far. Exits always pass.

An order is *new risk* for the part that opens or grows its strategy's position;
the part that only takes the position towards flat is an exit. While a breaker
is tripped, an order that is all exit passes, and an order that goes through
flat is cut to the exit (whatever ``on_breach`` says: a breaker never blocks a
way out); an order with no exit part is rejected.
"""

from __future__ import annotations

from decimal import Decimal

from qtrader.risk._arith import fmt, fmt_short
from qtrader.risk._watch import EquityWatch
from qtrader.risk.checks import LimitVerdict, OrderCheck, describe, exit_part
from qtrader.risk.sections import DrawdownBreakerPolicy


def _blocked(c: OrderCheck, why: str, figures: dict[str, Decimal]) -> LimitVerdict:
    order = c.order
    out = exit_part(c)
    if out == order.quantity:
        return LimitVerdict(breached=False, fit=order.quantity)
    after = c.strategy_position + order.signed_quantity
    return LimitVerdict(
        breached=True,
        fit=out,
        exits_pass=True,
        reason=(
            f"{why}: {describe(order)} would take strategy {order.strategy_id!r} from "
            f"{fmt(c.strategy_position)} to {fmt(after)}"
        ),
        figures=figures,
    )


class DrawdownBreaker:
    """No new risk once equity is more than ``threshold`` below its peak (strictly: a
    drawdown equal to the threshold still trades), until the drawdown is back to
    ``recover_to`` or ``cooldown_sessions`` sessions have passed since it tripped.

    After a cooldown the peak starts again from the equity at that time (measured
    from the old peak, it would trip again at once). Without either, it stays tripped
    for the rest of the run.
    """

    name = "drawdown_breaker"

    def __init__(self, policy: DrawdownBreakerPolicy, watch: EquityWatch) -> None:
        self._policy = policy
        self._watch = watch

    def check(self, c: OrderCheck) -> LimitVerdict:
        watch = self._watch
        if watch.tripped_on is None:
            return LimitVerdict(breached=False, fit=c.order.quantity)
        policy = self._policy
        until = [
            f"the drawdown is back to {fmt(policy.recover_to)}"
            if policy.recover_to is not None
            else "",
            f"{policy.cooldown_sessions} sessions have passed"
            if policy.cooldown_sessions is not None
            else "",
        ]
        resume = " or ".join(u for u in until if u) or "the end of the run"
        assert watch.peak is not None  # tripped: a peak was seen
        why = (
            f"drawdown_breaker: equity {fmt(c.equity)} is {fmt_short(watch.drawdown)} below "
            f"the peak {fmt(watch.peak)}, more than the threshold {fmt(policy.threshold)} "
            f"(tripped {watch.tripped_on.isoformat()}); no new risk until {resume}"
        )
        figures = {"peak_equity": watch.peak, "drawdown": watch.drawdown}
        return _blocked(c, why, figures)


class DailyLossLimit:
    """No new risk for the rest of a session once equity has fallen more than
    ``fraction`` below its value at the previous session's close (strictly)."""

    name = "daily_loss_limit"

    def __init__(self, fraction: Decimal, watch: EquityWatch) -> None:
        self._fraction = fraction
        self._watch = watch

    def check(self, c: OrderCheck) -> LimitVerdict:
        watch = self._watch
        if not watch.daily_tripped:
            return LimitVerdict(breached=False, fit=c.order.quantity)
        why = (
            f"daily_loss_limit: this session lost more than {fmt(self._fraction)} of "
            f"{fmt(watch.session_start)}, the equity at the previous session's close (now "
            f"{fmt(c.equity)}, a loss of {fmt_short(watch.daily_loss)}); no new risk until "
            "the next session"
        )
        figures = {"session_start_equity": watch.session_start, "daily_loss": watch.daily_loss}
        return _blocked(c, why, figures)
