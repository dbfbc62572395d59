"""The order kinds of issue 7: trailing stops, market-on-open/close, GTD/IOC/FOK, brackets,
the sizing price, replace requests, slippage on fills and venue-placed orders in reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from qtrader.models import (
    ExecutionReport,
    Fill,
    Order,
    OrderHelpers,
    OrderRequest,
    OrderStatus,
    OrderType,
    ReplaceRequest,
    Side,
    TimeInForce,
)
from qtrader.models.testing import FakeExecutionService, FakeStrategyContext

D = Decimal
EST = timezone(timedelta(hours=-5))
T0 = datetime(2024, 1, 2, 16, 0, tzinfo=EST)


def request(**overrides: Any) -> OrderRequest:
    fields: dict[str, Any] = {
        "strategy_id": "s1",
        "symbol": "AAPL",
        "side": "buy",
        "quantity": "10",
    }
    fields.update(overrides)
    return OrderRequest.model_validate(fields)


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "trailing_stop", "trail_amount": "0.50"},
        {"type": "trailing_stop", "trail_percent": "2.5"},
        {"type": "market_on_open"},
        {"type": "market_on_close", "time_in_force": "day"},
        {"time_in_force": "gtd", "expire_at": T0},
        {"time_in_force": "ioc"},
        {"type": "limit", "limit_price": "10", "time_in_force": "fok"},
    ],
)
def test_new_kinds_validate(fields: dict[str, Any]) -> None:
    req = request(**fields)
    assert req.is_bracket is False
    assert req.type == fields.get("type", "market")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"type": "trailing_stop"}, "needs exactly one of trail_amount and trail_percent"),
        (
            {"type": "trailing_stop", "trail_amount": "1", "trail_percent": "1"},
            "needs exactly one of trail_amount and trail_percent",
        ),
        ({"type": "trailing_stop", "trail_amount": "1", "stop_price": "9"}, "takes no stop_price"),
        ({"trail_amount": "1"}, "a market order takes no trail_amount or trail_percent"),
        ({"type": "trailing_stop", "trail_percent": "100"}, "trail_percent"),
        ({"type": "market_on_close", "limit_price": "10"}, "takes no limit_price"),
        ({"time_in_force": "gtd"}, "a gtd order needs expire_at"),
        ({"expire_at": T0}, "a gtc order takes no expire_at"),
        ({"time_in_force": "gtd", "expire_at": "2024-01-02T16:00:00"}, "expire_at"),
        ({"sizing_price": "0"}, "sizing_price"),
    ],
)
def test_new_kinds_refuse_what_they_do_not_take(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        request(**fields)


def test_bracket_exits_on_either_side_of_the_entry() -> None:
    buy = request(type="limit", limit_price="100", stop_loss_price="95", take_profit_price="110")
    assert buy.is_bracket
    sell = request(side="sell", stop_loss_price="105", take_profit_price="90")
    assert sell.is_bracket
    assert request(stop_loss_price="95").is_bracket  # one exit is enough


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"stop_loss_price": "110", "take_profit_price": "95"},
            "a buy bracket needs stop_loss_price below take_profit_price, got "
            "stop_loss_price=110, take_profit_price=95",
        ),
        (
            {"side": "sell", "stop_loss_price": "90", "take_profit_price": "105"},
            "a sell bracket needs stop_loss_price above take_profit_price",
        ),
        (
            {"type": "limit", "limit_price": "100", "stop_loss_price": "101"},
            "a buy bracket needs its exits on either side of its entry price 100, got "
            "stop_loss_price=101",
        ),
        (
            {"type": "stop", "stop_price": "100", "take_profit_price": "99"},
            "exits on either side of its entry price 100",
        ),
    ],
)
def test_bracket_exits_on_the_wrong_side_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        request(**fields)


def test_an_order_placed_by_the_venue_names_its_parent() -> None:
    order = Order(**request().model_dump(), id="O-2", created_at=T0, parent_id="O-1")
    assert order.parent_id == "O-1"
    assert Order(**request().model_dump(), id="O-1", created_at=T0).parent_id is None


def test_replace_request_lists_its_changes() -> None:
    req = ReplaceRequest(strategy_id="s1", order_id="O-1", limit_price=D("9.5"))
    assert req.changes() == {"limit_price": D("9.5")}
    assert ReplaceRequest(strategy_id="s1", order_id="O-1").changes() == {}
    every = ReplaceRequest(
        strategy_id="s1", order_id="O-1", quantity=D(5), limit_price=D(1), stop_price=D(2)
    )
    assert list(every.changes()) == ["quantity", "limit_price", "stop_price"]
    with pytest.raises(ValidationError, match="order_id"):
        ReplaceRequest(strategy_id="s1", order_id="")


def test_fill_slippage_defaults_to_zero_and_is_kept() -> None:
    base: dict[str, Any] = {
        "id": "F-1",
        "order_id": "O-1",
        "strategy_id": "s1",
        "symbol": "AAPL",
        "side": Side.BUY,
        "quantity": D(10),
        "price": D("100.1"),
        "timestamp": T0,
    }
    assert (Fill(**base).slippage_per_share, Fill(**base).slippage_cost) == (D(0), D(0))
    slipped = Fill(**base, slippage_per_share=D("0.1"), slippage_cost=D(1))
    assert (slipped.slippage_per_share, slipped.slippage_cost) == (D("0.1"), D(1))
    # Slippage explains the price; it is not charged again.
    assert slipped.cash_flow == D("-1001.0")


def test_execution_report_carries_the_orders_a_venue_placed() -> None:
    order = Order(
        **request(type="stop", stop_price="95", side="sell").model_dump(),
        id="O-2",
        created_at=T0,
        parent_id="O-1",
    )
    assert ExecutionReport().orders == ()
    assert ExecutionReport(orders=(order,)).orders == (order,)


def test_the_kinds_are_strings() -> None:
    assert OrderType("trailing_stop") is OrderType.TRAILING_STOP
    assert TimeInForce("fok") is TimeInForce.FOK


def test_the_fake_execution_service_replaces_in_place() -> None:
    fake = FakeExecutionService()
    placed = fake.submit(request(type="limit", limit_price="10"), at=T0)
    update = fake.replace(
        ReplaceRequest(strategy_id="s1", order_id=placed.id, limit_price=D("9.5")), at=T0
    )
    assert update is not None
    assert (update.status, update.reason) == (OrderStatus.REPLACED, "limit_price 9.5")
    (working,) = fake.open_orders()
    assert (working.id, working.limit_price) == (placed.id, D("9.5"))
    assert fake.replace(ReplaceRequest(strategy_id="s1", order_id="nope"), at=T0) is None


# -- the strategy helpers ------------------------------------------------------------------


def test_buy_and_sell_with_trailing_make_trailing_stops() -> None:
    ctx = FakeStrategyContext(("AAPL",), strategy_id="s1")
    ctx.sell("AAPL", 10, trailing=D("0.50"))
    ctx.sell("AAPL", 10, trailing="2%")
    ctx.buy("AAPL", 5, trailing=" 1.5 % ", tag="t")
    ctx.buy("AAPL", 5, trailing=1)
    ctx.buy("AAPL", 5)  # no trailing: a market order, as before
    assert [(o.type, o.trail_amount, o.trail_percent) for o in ctx.orders] == [
        (OrderType.TRAILING_STOP, D("0.50"), None),
        (OrderType.TRAILING_STOP, None, D(2)),
        (OrderType.TRAILING_STOP, None, D("1.5")),
        (OrderType.TRAILING_STOP, D(1), None),
        (OrderType.MARKET, None, None),
    ]
    # bad ones are refused with a reason, not raised (issue 7)
    ctx.buy("AAPL", 5, limit_price=D(10), trailing="1%")
    ctx.sell("AAPL", 5, trailing="two%")
    first, second = (r.problem for r in ctx.rejections)
    assert first == "a trailing_stop order takes no limit_price"
    assert second.startswith("trailing 'two%' is not an amount (such as")
    assert [r.type for r in ctx.rejections] == [OrderType.TRAILING_STOP] * 2
    # a replace with a value that is not a number is refused too, not raised
    # (impossible numbers, such as a negative quantity, are the venue's to refuse)
    ctx.replace("O-1", limit_price="x")
    assert ctx.rejections[2].problem == "'x' is not a number"
    assert "replace of O-1 in (an order not working)" in ctx.rejections[2].reason
    assert ctx.replaces == []


def test_bracket_asks_for_an_entry_carrying_its_exits() -> None:
    ctx = FakeStrategyContext(("AAPL",), strategy_id="s1")
    ctx.bracket("AAPL", 100, stop_loss=95, take_profit="110.5")
    ctx.bracket("AAPL", 50, stop_loss=D(105), take_profit=None, side=Side.SELL, limit_price=D(100))
    first, second = ctx.orders
    assert (first.side, first.type, first.stop_loss_price, first.take_profit_price) == (
        Side.BUY,
        OrderType.MARKET,
        D(95),
        D("110.5"),
    )
    assert (second.side, second.type, second.limit_price, second.stop_loss_price) == (
        Side.SELL,
        OrderType.LIMIT,
        D(100),
        D(105),
    )
    assert second.take_profit_price is None
    ctx.bracket("AAPL", 1, stop_loss=110, take_profit=95)  # refused, not raised (issue 7)
    ctx.bracket("AAPL", 1, stop_loss="x", take_profit=95)
    assert [r.problem for r in ctx.rejections] == [
        "a buy bracket needs stop_loss_price below take_profit_price, got "
        "stop_loss_price=110, take_profit_price=95",
        "stop_loss_price must be a number, got 'x'",
    ]


def test_replace_asks_the_venue_for_a_change() -> None:
    ctx = FakeStrategyContext(("AAPL",), strategy_id="s1")
    ctx.replace("O-1", limit_price="9.5")
    ctx.replace("O-2", quantity=3, stop_price=D(8))
    assert ctx.replaces == [
        ReplaceRequest(strategy_id="s1", order_id="O-1", limit_price=D("9.5")),
        ReplaceRequest(strategy_id="s1", order_id="O-2", quantity=D(3), stop_price=D(8)),
    ]
    ctx.clear()
    assert ctx.replaces == []


def test_a_replaced_quantity_is_rounded_to_whole_lots_like_an_order() -> None:
    # Lots of 100: 250 -> 200 (toward zero, as buy() rounds); 50 rounds to nothing and is
    # refused like a bad order (it went to the venue as 50 and traded half a lot).
    ctx = FakeStrategyContext(("AAPL",), strategy_id="s1", lot_sizes={"AAPL": D(100)})
    ctx.working = [
        Order(
            id="O-1",
            created_at=datetime(2024, 1, 2, 16, tzinfo=UTC),
            strategy_id="s1",
            symbol="AAPL",
            side=Side.BUY,
            quantity=D(100),
            type=OrderType.LIMIT,
            limit_price=D(10),
        )
    ]
    ctx.replace("O-1", quantity=250)
    ctx.replace("O-1", quantity=50)
    ctx.replace("O-1", quantity=-1)
    assert ctx.replaces == [ReplaceRequest(strategy_id="s1", order_id="O-1", quantity=D(200))]
    assert [(r.symbol, r.problem) for r in ctx.rejections] == [
        ("AAPL", "quantity 50 rounds to 0 at the lot size of 100"),
        ("AAPL", "quantity must be positive, got -1"),
    ]


def test_the_helpers_place_the_types_prices_cannot_imply() -> None:
    # Market-on-open / -close and GTD orders were reachable through the venue only: buy and
    # sell had no way to name them (a GTD was refused for want of expire_at).
    ctx = FakeStrategyContext(("AAPL",), strategy_id="s1")
    until = datetime(2024, 1, 5, 16, tzinfo=UTC)
    ctx.sell("AAPL", 5, order_type="market_on_close")
    ctx.buy("AAPL", 5, order_type=OrderType.MARKET_ON_OPEN)
    ctx.buy("AAPL", 5, limit_price=9, time_in_force=TimeInForce.GTD, expire_at=until)
    assert [(o.side, o.type, o.time_in_force, o.expire_at) for o in ctx.orders] == [
        (Side.SELL, OrderType.MARKET_ON_CLOSE, TimeInForce.GTC, None),
        (Side.BUY, OrderType.MARKET_ON_OPEN, TimeInForce.GTC, None),
        (Side.BUY, OrderType.LIMIT, TimeInForce.GTD, until),
    ]
    ctx.buy("AAPL", 5, order_type="at_noon")
    ctx.buy("AAPL", 5, time_in_force=TimeInForce.GTD)
    problems = [r.problem for r in ctx.rejections]
    assert problems[0].startswith("order_type must be one of 'market', 'limit', ")
    assert problems[0].endswith(", got 'at_noon'")
    assert "a gtd order needs expire_at" in problems[1]


def test_a_context_that_sends_no_replaces_says_so() -> None:
    class Minimal(FakeStrategyContext):
        def _ask_replace(self, request: ReplaceRequest) -> None:
            OrderHelpers._ask_replace(self, request)

    with pytest.raises(NotImplementedError, match="Minimal does not send replaces"):
        Minimal(("AAPL",)).replace("O-1", quantity=1)
