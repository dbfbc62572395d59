"""Brackets (entry, then stop-loss and take-profit exits, one cancelling the other) and
cancel/replace of working orders. Prices worked out by hand in the comments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from qtrader.execution import (
    ExecutionError,
    SimulatedExecutionService,
    SplitPolicy,
    load_execution_config,
)
from qtrader.models import (
    BarSlice,
    OrderRequest,
    OrderStatus,
    OrderType,
    ReplaceRequest,
    Side,
    Split,
    TimeInForce,
)
from qtrader.models.testing import make_bar, ny_close
from qtrader.models.testing.builders import ny_open

DAYS = [date(2024, 1, d) for d in (2, 3, 4, 5, 8)]
D1, D2, D3, D4, D5 = DAYS
D = Decimal


def bar(day: date, o: float, h: float, lo: float, c: float, volume: float = 1000) -> BarSlice:
    return BarSlice.from_bars(
        [make_bar("AAA", day, c, open=o, high=h, low=lo, volume=volume)], opened_at=ny_open(day)
    )


def bracket(side: Side = Side.BUY, quantity: str = "100", **fields: Any) -> OrderRequest:
    if side is Side.BUY:
        fields.setdefault("stop_loss_price", D(95))
        fields.setdefault("take_profit_price", D(110))
    else:
        fields.setdefault("stop_loss_price", D(105))
        fields.setdefault("take_profit_price", D(90))
    return OrderRequest(strategy_id="s1", symbol="AAA", side=side, quantity=D(quantity), **fields)


def entered(
    config: dict[str, Any] | None = None, side: Side = Side.BUY
) -> SimulatedExecutionService:
    """A bracket whose market entry filled at D2's open of 100; its exits work from D3."""
    svc = SimulatedExecutionService(load_execution_config(config or {}))
    svc.submit(bracket(side), at=ny_close(D1))
    # D2 trades down to 94 and up to 111 after the entry: the exits exist only from the
    # end of D2 (created with the fill's bar), so neither fills on D2.
    report = svc.process(bar(D2, 100, 111, 94, 100))
    assert [f.price for f in report.fills] == [D(100)]
    return svc


def test_the_exits_are_placed_when_the_entry_fills() -> None:
    svc = SimulatedExecutionService()
    entry = svc.submit(bracket(tag="breakout"), at=ny_close(D1))
    assert svc.process(bar(D1, 100, 100, 100, 100)).orders == ()  # the decision bar
    report = svc.process(bar(D2, 100, 101, 99, 100))
    stop_loss, take_profit = report.orders
    assert (stop_loss.id, take_profit.id) == ("O-000002", "O-000003")
    for exit_ in (stop_loss, take_profit):
        assert (exit_.side, exit_.quantity, exit_.parent_id) == (Side.SELL, D(100), entry.id)
        assert (exit_.time_in_force, exit_.created_at) == (TimeInForce.GTC, ny_close(D2))
    assert (stop_loss.type, stop_loss.stop_price, stop_loss.tag) == (
        OrderType.STOP,
        D(95),
        "breakout:stop_loss",
    )
    assert (take_profit.type, take_profit.limit_price, take_profit.tag) == (
        OrderType.LIMIT,
        D(110),
        "breakout:take_profit",
    )
    assert svc.open_orders() == (stop_loss, take_profit)


def test_the_take_profit_fills_and_cancels_the_stop_loss() -> None:
    svc = entered()
    # D3 reaches 111 (>= 110) and stays above 95: the take-profit sells at 110.
    report = svc.process(bar(D3, 101, 111, 100, 108))
    assert [(f.order_id, f.price, f.timestamp) for f in report.fills] == [
        ("O-000003", D(110), ny_close(D3))
    ]
    (update,) = report.updates
    assert (update.order_id, update.status) == ("O-000002", OrderStatus.CANCELLED)
    assert update.reason == "one-cancels-other: O-000003 (take_profit) filled"
    assert svc.open_orders() == ()
    assert svc.process(bar(D4, 100, 100, 100, 100)).updates == ()  # reported once


@pytest.mark.parametrize(
    ("conflict", "expected"),
    [
        # D3 reaches both 94 <= 95 and 111 >= 110; the bar cannot say which came first.
        (None, ("O-000002", D(95))),  # default: the pessimistic leg, the stop at 95
        ("stop_loss", ("O-000002", D(95))),
        ("take_profit", ("O-000003", D(110))),  # optimistic: the target at 110
    ],
)
def test_both_exits_reachable_in_one_bar(
    conflict: str | None, expected: tuple[str, Decimal]
) -> None:
    config = {} if conflict is None else {"fill": {"bracket_conflict": conflict}}
    svc = entered(config)
    report = svc.process(bar(D3, 100, 111, 94, 100))
    assert [(f.order_id, f.price) for f in report.fills] == [expected]
    assert [u.status for u in report.updates] == [OrderStatus.CANCELLED]


def test_an_exit_marketable_at_the_open_wins_whatever_the_rule() -> None:
    # D3 gaps down to a 93 open (below the 95 stop) and later trades up to 112: the stop
    # filled at the open, before anything else in the bar, at the worse 93.
    svc = entered({"fill": {"bracket_conflict": "take_profit"}})
    report = svc.process(bar(D3, 93, 112, 92, 100))
    assert [(f.order_id, f.price, f.timestamp) for f in report.fills] == [
        ("O-000002", D(93), ny_open(D3))
    ]


def test_a_sell_bracket_mirrors() -> None:
    # Short 100 at 100; stop-loss a buy stop at 105, take-profit a buy limit at 90.
    svc = entered(side=Side.SELL)
    report = svc.process(bar(D3, 100, 106, 89, 100))  # both reachable: the stop, 105
    assert [(f.order_id, f.side, f.price) for f in report.fills] == [("O-000002", Side.BUY, D(105))]


def test_exits_grow_with_partial_fills_of_the_entry_and_reduce_each_other() -> None:
    svc = SimulatedExecutionService(load_execution_config({"fill": {"participation": "0.1"}}))
    svc.submit(bracket(quantity="150"), at=ny_close(D1))
    # D2: cap 0.1 x 1000 = 100 of the entry at 100 -> exits of 100.
    report = svc.process(bar(D2, 100, 101, 99, 100))
    assert [o.quantity for o in report.orders] == [D(100), D(100)]
    # D3: the last 50 of the entry (first in submission order, cap 100): the exits grow to
    # 150 before they are matched; D3 stays within 95-110, so they rest.
    report = svc.process(bar(D3, 100, 101, 99, 100))
    assert [f.quantity for f in report.fills] == [D(50)]
    assert report.orders == ()
    assert [(o.id, o.quantity) for o in svc.open_orders()] == [
        ("O-000002", D(150)),
        ("O-000003", D(150)),
    ]
    # D4 reaches 110: the take-profit sells 100 (the cap); the stop-loss now covers only
    # the 50 still held.
    report = svc.process(bar(D4, 105, 111, 104, 109))
    assert [(f.order_id, f.quantity, f.price) for f in report.fills] == [
        ("O-000003", D(100), D(110))
    ]
    assert report.updates == ()
    # Each working order shows what is left to fill: the take-profit 150 - 100 = 50 too.
    assert [(o.id, o.quantity) for o in svc.open_orders()] == [
        ("O-000002", D(50)),
        ("O-000003", D(50)),
    ]
    # D5 drops to 94: the stop sells the last 50 at 95; the take-profit is cancelled.
    report = svc.process(bar(D5, 99, 100, 94, 96))
    assert [(f.order_id, f.quantity, f.price) for f in report.fills] == [("O-000002", D(50), D(95))]
    assert [(u.order_id, u.status) for u in report.updates] == [("O-000003", OrderStatus.CANCELLED)]
    assert svc.open_orders() == ()


def test_a_limit_entry_with_its_exits_on_either_side() -> None:
    svc = SimulatedExecutionService()
    svc.submit(bracket(type="limit", limit_price=D(98)), at=ny_close(D1))
    assert svc.process(bar(D2, 100, 101, 99, 100)).orders == ()  # 98 not reached: no exits
    report = svc.process(bar(D3, 99, 100, 97, 98))  # low 97: bought at 98
    assert [f.price for f in report.fills] == [D(98)]
    assert [o.quantity for o in report.orders] == [D(100), D(100)]


def test_a_bracket_with_only_a_stop_loss_places_one_exit() -> None:
    svc = SimulatedExecutionService()
    svc.submit(bracket(take_profit_price=None), at=ny_close(D1))
    (stop_loss,) = svc.process(bar(D2, 100, 101, 99, 100)).orders
    assert stop_loss.type is OrderType.STOP
    (fill,) = svc.process(bar(D3, 96, 97, 94, 95)).fills
    assert (fill.order_id, fill.price) == (stop_loss.id, D(95))


def test_cancelling_one_exit_leaves_the_other_alone() -> None:
    svc = entered()
    update = svc.cancel("O-000003", at=ny_close(D2))
    assert update is not None
    assert update.status is OrderStatus.CANCELLED
    (fill,) = svc.process(bar(D3, 100, 101, 94, 96)).fills  # the stop still works
    assert (fill.order_id, fill.price) == ("O-000002", D(95))


def test_new_exits_when_the_entry_fills_again_after_the_first_ones_finished() -> None:
    # A limit entry of 150 at 100 under a 0.1 cap (100 shares a bar of 1000).
    svc = SimulatedExecutionService(load_execution_config({"fill": {"participation": "0.1"}}))
    svc.submit(bracket(quantity="150", type="limit", limit_price=D(100)), at=ny_close(D1))
    # D2 opens at the limit: 100 bought; exits O-000002 / O-000003 for 100.
    svc.process(bar(D2, 100, 101, 99, 100))
    # D3 stays above 100 (the entry waits) and reaches 111: the take-profit sells the 100
    # and cancels the stop. Both exits are done.
    report = svc.process(bar(D3, 104, 111, 103, 108))
    assert [(f.order_id, f.quantity, f.price) for f in report.fills] == [
        ("O-000003", D(100), D(110))
    ]
    # D4 opens at 100 again: the entry's last 50, and a new pair of exits for them.
    report = svc.process(bar(D4, 100, 101, 99, 100))
    assert [(f.order_id, f.quantity) for f in report.fills] == [("O-000001", D(50))]
    assert [(o.id, o.quantity, o.parent_id) for o in report.orders] == [
        ("O-000004", D(50), "O-000001"),
        ("O-000005", D(50), "O-000001"),
    ]


def test_exits_and_bracket_prices_follow_a_split() -> None:
    svc = SimulatedExecutionService()
    svc.submit(bracket(type="limit", limit_price=D(98)), at=ny_close(D1))
    # A 2-for-1 before the entry fills: entry 200 at 49, exits at 47.5 and 55.
    svc.apply_action(Split(symbol="AAA", ex_date=D2, ratio=D(2)), ny_open(D2))
    (entry,) = svc.open_orders()
    assert (entry.quantity, entry.limit_price) == (D(200), D(49))
    assert (entry.stop_loss_price, entry.take_profit_price) == (D("47.5"), D(55))
    report = svc.process(bar(D2, 50, 50.5, 48.5, 49))  # low 48.5: bought 200 at 49
    assert [(o.quantity, o.stop_price, o.limit_price) for o in report.orders] == [
        (D(200), D("47.5"), None),
        (D(200), None, D(55)),
    ]


def test_a_split_cancels_the_exits_under_on_split_cancel() -> None:
    svc = entered({"on_split": SplitPolicy.CANCEL.value})
    updates = svc.apply_action(Split(symbol="AAA", ex_date=D3, ratio=D(2)), ny_open(D3))
    assert [(u.order_id, u.status) for u in updates] == [
        ("O-000002", OrderStatus.CANCELLED),
        ("O-000003", OrderStatus.CANCELLED),
    ]
    assert svc.open_orders() == ()


# -- cancel/replace ------------------------------------------------------------------------


def limit_order(price: str = "95", quantity: str = "10") -> OrderRequest:
    return OrderRequest(
        strategy_id="s1",
        symbol="AAA",
        side=Side.BUY,
        quantity=D(quantity),
        type="limit",
        limit_price=D(price),
    )


def test_replace_moves_a_limit_and_the_next_bar_uses_it() -> None:
    svc = SimulatedExecutionService()
    placed = svc.submit(limit_order("95"), at=ny_close(D1))
    assert svc.process(bar(D2, 100, 101, 97, 98)).fills == ()  # low 97 > 95
    update = svc.replace(
        ReplaceRequest(strategy_id="s1", order_id=placed.id, limit_price=D("97.5")),
        ny_close(D2),
    )
    assert update is not None
    assert (update.order_id, update.status, update.timestamp) == (
        placed.id,
        OrderStatus.REPLACED,
        ny_close(D2),
    )
    assert update.reason == "replaced: limit_price 95 -> 97.5"
    (working,) = svc.open_orders()
    assert (working.id, working.limit_price, working.created_at) == (
        placed.id,
        D("97.5"),
        ny_close(D1),
    )
    # D3 low 97 <= 97.5 (but > 95): filled at the new limit.
    (fill,) = svc.process(bar(D3, 99, 100, 97, 98)).fills
    assert (fill.order_id, fill.price) == (placed.id, D("97.5"))


def test_replace_moves_a_stop_loss_exit() -> None:
    svc = entered()
    # Move the stop up to break-even (100): D3's low 99.5 then stops the position out.
    update = svc.replace(
        ReplaceRequest(strategy_id="s1", order_id="O-000002", stop_price=D(100)), ny_close(D2)
    )
    assert update is not None
    assert update.reason == "replaced: stop_price 95 -> 100"
    report = svc.process(bar(D3, 101, 102, 99.5, 100))
    assert [(f.order_id, f.price) for f in report.fills] == [("O-000002", D(100))]
    assert [u.order_id for u in report.updates] == ["O-000003"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"strategy_id": "s2", "quantity": D(5)}, "the order belongs to strategy s1, not s2"),
        ({}, "nothing to change (give quantity, limit_price or stop_price)"),
        ({"stop_price": D(90)}, "a limit order takes no stop_price"),
        ({"limit_price": D(-1)}, "limit_price: Input should be greater than 0"),
        ({"quantity": D(0)}, "quantity 0 to fill is not positive (cancel the order instead)"),
    ],
)
def test_a_replace_the_venue_cannot_make_leaves_the_order_as_it_was(
    change: dict[str, Any], reason: str
) -> None:
    svc = SimulatedExecutionService()
    placed = svc.submit(limit_order(), at=ny_close(D1))
    fields = {"strategy_id": "s1", "order_id": placed.id, **change}
    update = svc.replace(ReplaceRequest(**fields), ny_close(D1))
    assert update is not None
    assert (update.status, update.reason) == (OrderStatus.ACCEPTED, f"replace refused: {reason}")
    assert svc.open_orders() == (placed,)


def test_a_trailing_stops_stop_cannot_be_replaced() -> None:
    svc = SimulatedExecutionService()
    placed = svc.submit(
        OrderRequest(
            strategy_id="s1",
            symbol="AAA",
            side=Side.SELL,
            quantity=D(10),
            type="trailing_stop",
            trail_amount=D(2),
        ),
        at=ny_close(D1),
    )
    update = svc.replace(
        ReplaceRequest(strategy_id="s1", order_id=placed.id, stop_price=D(90)), ny_close(D1)
    )
    assert update is not None
    assert update.reason == (
        "replace refused: a trailing stop's stop follows the market; replace it by a new order"
    )
    # Its quantity can change: 10 -> 4.
    update = svc.replace(
        ReplaceRequest(strategy_id="s1", order_id=placed.id, quantity=D(4)), ny_close(D1)
    )
    assert update is not None
    assert update.status is OrderStatus.REPLACED
    (fill,) = svc.process(bar(D2, 100, 100, 97, 98)).fills  # stop 98: low 97
    assert (fill.quantity, fill.price) == (D(4), D(98))


def test_replace_of_an_order_not_working_is_none_and_time_runs_forward() -> None:
    svc = SimulatedExecutionService()
    assert (
        svc.replace(ReplaceRequest(strategy_id="s1", order_id="O-9", quantity=D(1)), ny_close(D1))
        is None
    )
    svc.process(bar(D2, 100, 100, 100, 100))
    with pytest.raises(ExecutionError, match="replace: decision time"):
        svc.replace(ReplaceRequest(strategy_id="s1", order_id="O-9", quantity=D(1)), ny_close(D1))


def test_the_exits_life_cycle_and_a_bar_without_volume_for_them() -> None:
    config = {"fill": {"participation": "0.5"}, "lifecycle_updates": True}
    svc = SimulatedExecutionService(load_execution_config(config))
    svc.submit(bracket(), at=ny_close(D1))
    report = svc.process(bar(D2, 100, 101, 99, 100))
    assert [(u.order_id, u.status, u.reason) for u in report.updates] == [
        ("O-000001", OrderStatus.ACCEPTED, "accepted"),
        ("O-000001", OrderStatus.FILLED, "filled 100 in 1 fill(s)"),
        ("O-000002", OrderStatus.ACCEPTED, "stop_loss of O-000001"),
        ("O-000003", OrderStatus.ACCEPTED, "take_profit of O-000001"),
    ]
    # D3 reaches the target but trades no shares: 0.5 x 0 = 0 offered, nothing fills.
    assert svc.process(bar(D3, 101, 111, 100, 108, volume=0)).fills == ()
    assert len(svc.open_orders()) == 2


def test_exits_grown_by_a_later_entry_fill_trade_the_new_part_from_the_next_bar() -> None:
    # Cap 10% of volume. Buy limit 10 for 150, stop-loss 8, take-profit 11.
    # D2 (10.5 / 10.6 / 9.9, volume 1000): the entry fills 100 at 10; exits for 100.
    # D3 (10.5 / 11.5 / 9.5, volume 5000): the entry fills its last 50 at 10 and the
    # take-profit trades at 11, but only the 100 it had: the bar cannot tell whether its
    # high came after the low that bought the 50 (it used to sell 150). The stop-loss is
    # cancelled (OCO) and a new pair covers the 50.
    svc = SimulatedExecutionService(load_execution_config({"fill": {"participation": "0.1"}}))
    entry = svc.submit(
        bracket(quantity="150", type="limit", limit_price=D(10), stop_loss_price=D(8),
                take_profit_price=D(11)),
        at=ny_close(D1),
    )  # fmt: skip
    first = svc.process(bar(D2, 10.5, 10.6, 9.9, 10.2, volume=1000))
    assert [(f.order_id, f.quantity, f.price) for f in first.fills] == [(entry.id, D(100), D(10))]
    stop_loss, take_profit = first.orders
    report = svc.process(bar(D3, 10.5, 11.5, 9.5, 11.2, volume=5000))
    assert [(f.order_id, f.side, f.quantity, f.price) for f in report.fills] == [
        (entry.id, Side.BUY, D(50), D(10)),
        (take_profit.id, Side.SELL, D(100), D(11)),
    ]
    new_stop, new_take = report.orders
    assert [(o.parent_id, o.type, o.quantity) for o in (new_stop, new_take)] == [
        (entry.id, OrderType.STOP, D(50)),
        (entry.id, OrderType.LIMIT, D(50)),
    ]
    assert {o.id for o in svc.open_orders()} == {new_stop.id, new_take.id}
    assert stop_loss.id not in {o.id for o in svc.open_orders()}
