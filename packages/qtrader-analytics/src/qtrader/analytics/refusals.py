"""Every refusal of a run (by a strategy's context, by risk or by the venue), in time order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from qtrader.models import BacktestResult, Order, OrderStatus


@dataclass(frozen=True, slots=True)
class Refusal:
    """One order, target or signal of a run that was refused: by the strategy's context
    (``"context"``: a bad request), by ``"risk"`` or by the ``"venue"``."""

    timestamp: datetime
    strategy_id: str
    symbol: str
    by: str
    reason: str


_REFUSERS = ("context", "risk", "venue")  # in the order they see a request


def refusals(result: BacktestResult) -> tuple[Refusal, ...]:
    """Every refusal of a run, in time order (at one timestamp: the contexts', then
    risk's, then the venue's). A context's refusal gives its problem alone (the other
    fields say where); risk's and the venue's give their reasons."""
    ours = {r.id: r for r in result.rejections}
    orders: dict[str, Order] | None = None
    found = []
    for update in result.order_updates:
        if update.status is not OrderStatus.REJECTED:
            continue
        mine = ours.get(update.order_id)
        if mine is not None:
            found.append(
                Refusal(update.timestamp, mine.strategy_id, mine.symbol, "context", mine.problem)
            )
            continue
        if orders is None:
            orders = {o.id: o for o in result.orders}
        order = orders.get(update.order_id)
        strategy, symbol = ("", "") if order is None else (order.strategy_id, order.symbol)
        found.append(Refusal(update.timestamp, strategy, symbol, "venue", update.reason))
    found.extend(
        Refusal(d.timestamp, d.intent.strategy_id, d.intent.symbol, "risk", d.reason)
        for d in result.decisions
        if not d.approved
    )
    found.sort(key=lambda refusal: (refusal.timestamp, _REFUSERS.index(refusal.by)))
    return tuple(found)
