"""Orders the venue derives from accepted ones: split-adjusted, resized, replaced,
a trailing stop's current stop, and the exits of a bracket."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import ValidationError

from qtrader.execution._book import Role
from qtrader.models import Order, OrderType, Side, TimeInForce, split_fraction

HUNDRED = Decimal(100)


def split_adjusted(order: Order, ratio: Decimal) -> Order:
    """The same order in post-split units: ratio new shares per old share (as the exact
    fraction ``split_fraction`` reads it, so 300 at 20 after a 1-for-3 is 100 at 60). Every
    price (limit, stop, the bracket's exits, the sizing price) and a trailing amount are
    divided by the ratio; a trailing percent is unchanged."""
    new, old = split_fraction(ratio)

    def per_share(value: Decimal | None) -> Decimal | None:
        return None if value is None else value * old / new

    return Order.model_validate(
        {
            **order.model_dump(),
            "quantity": order.quantity * new / old,
            "limit_price": per_share(order.limit_price),
            "stop_price": per_share(order.stop_price),
            "trail_amount": per_share(order.trail_amount),
            "stop_loss_price": per_share(order.stop_loss_price),
            "take_profit_price": per_share(order.take_profit_price),
            "sizing_price": per_share(order.sizing_price),
        }
    )


def resized(order: Order, quantity: Decimal) -> Order:
    """``order`` for ``quantity`` shares (a bracket exit following its entry's fills);
    the quantity is positive, so nothing needs validating again."""
    return Order.trusted({**order.__dict__, "quantity": quantity})


def replaced(order: Order, changes: dict[str, Decimal]) -> Order | str:
    """``order`` with ``changes``, validated as a new order would be; or why it cannot be."""
    try:
        return Order.model_validate({**order.model_dump(), **changes})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            where = ".".join(map(str, error["loc"]))
            problems.append(f"{where}: {message}" if where else message)
        return "; ".join(problems)


def trail_stop(order: Order, extreme: Decimal) -> Decimal:
    """Where a trailing stop stands when the best price since it became active is
    ``extreme`` (the highest for a sell, the lowest for a buy)."""
    sign = order.side.sign  # a sell trails below the best price, a buy above
    if order.trail_amount is not None:
        return extreme + sign * order.trail_amount
    assert order.trail_percent is not None, "a trailing stop has an amount or a percent"
    return extreme * (1 + sign * order.trail_percent / HUNDRED)


def as_stop(order: Order, stop: Decimal) -> Order:
    """What a trailing stop amounts to while its stop is at ``stop``: a plain stop order
    (same id and quantity) that any fill model can match."""
    return Order.trusted(
        {
            **order.__dict__,
            "type": OrderType.STOP,
            "stop_price": stop,
            "trail_amount": None,
            "trail_percent": None,
        }
    )


def exit_order(entry: Order, role: Role, quantity: Decimal, order_id: str, at: datetime) -> Order:
    """The stop-loss (a stop) or take-profit (a limit) exit of a bracket entry that filled
    ``quantity`` at ``at``: the other side, good until cancelled, tagged after the entry."""
    stop = role is Role.STOP_LOSS
    tag = role.value if entry.tag is None else f"{entry.tag}:{role.value}"
    # From a validated entry: its exit prices are positive, on the right side of each other.
    return Order.trusted(
        {
            "strategy_id": entry.strategy_id,
            "symbol": entry.symbol,
            "side": Side.SELL if entry.side is Side.BUY else Side.BUY,
            "quantity": quantity,
            "type": OrderType.STOP if stop else OrderType.LIMIT,
            "limit_price": None if stop else entry.take_profit_price,
            "stop_price": entry.stop_loss_price if stop else None,
            "time_in_force": TimeInForce.GTC,
            "tag": tag,
            "trail_amount": None,
            "trail_percent": None,
            "expire_at": None,
            "stop_loss_price": None,
            "take_profit_price": None,
            "sizing_price": None,
            "close_lots": (),
            "id": order_id,
            "created_at": at,
            "parent_id": entry.id,
        }
    )
