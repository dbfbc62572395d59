"""Issue 7, the new-user order bugs, on FakeStrategyContext: quantities from floats and
lot sizes, targets that cancel the strategy's own working orders, bad orders refused with
a reason instead of an exception, and a limit price for target percent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from qtrader.models import Order, OrderRejection, OrderType, Side, SignalDirection, TimeInForce
from qtrader.models.testing import FakeStrategyContext, daily_slices, ny_close

DAYS = [date(2024, 3, 4), date(2024, 3, 5), date(2024, 3, 6)]
LAST = "2024-03-06T16:00:00-05:00"  # the close stamp of DAYS[-1]: the bar of the decisions
D = Decimal


def context(lot_sizes: dict[str, Decimal] | None = None) -> FakeStrategyContext:
    ctx = FakeStrategyContext(
        ("AAA", "BBB"), strategy_id="momo", cash=D(10_000), lot_sizes=lot_sizes
    )
    for bars in daily_slices(
        DAYS, {"AAA": [(10.0, 11.0), (12.0, 13.0), (13.5, 14.0)], "BBB": [(5.0, 6.0), None, None]}
    ):
        ctx.push(bars)
    return ctx


def working(ctx: FakeStrategyContext, *orders: tuple[str, str, Side, int, Decimal | None]) -> None:
    """Give the context resting orders: (id, symbol, side, quantity, limit price)."""
    at = ny_close(DAYS[0])
    ctx.working = [
        Order(
            id=oid, strategy_id=ctx.strategy_id, symbol=symbol, side=side, quantity=D(qty),
            type=OrderType.LIMIT if limit else OrderType.MARKET, limit_price=limit, created_at=at,
        )
        for oid, symbol, side, qty, limit in orders
    ]  # fmt: skip


# -- 1. quantities from floats, rounded to the lot ------------------------------------
def test_a_float_quantity_goes_through_str_and_rounds_toward_zero_to_whole_shares() -> None:
    ctx = context()
    ctx.buy("AAA", 10.3)  # Decimal(10.3) would be 10.300000000000000710542735760100...
    ctx.sell("AAA", 2.9)
    ctx.buy("AAA", D("7.99"))
    # lot 1 share: 10.3 -> 10, 2.9 -> 2 (never more than asked), 7.99 -> 7
    assert [(o.side, o.quantity) for o in ctx.orders] == [
        (Side.BUY, D(10)),
        (Side.SELL, D(2)),
        (Side.BUY, D(7)),
    ]
    assert [str(o.quantity) for o in ctx.orders] == ["10", "2", "7"]
    assert ctx.rejections == []


def test_a_fractional_lot_keeps_the_fraction_down_to_the_lot() -> None:
    ctx = context({"AAA": D("0.001"), "BBB": D("0.5")})
    ctx.buy("AAA", 1.23456)  # 1,234.56 lots of 0.001 -> 1,234 lots = 1.234
    ctx.buy("BBB", 2.7)  # 5.4 lots of 0.5 -> 5 lots = 2.5
    ctx.sell("AAA", 0.1)  # 100 lots exactly = 0.1
    assert [o.quantity for o in ctx.orders] == [D("1.234"), D("2.5"), D("0.1")]


def test_an_order_that_rounds_to_nothing_is_refused_with_a_reason() -> None:
    ctx = context({"BBB": D("0.5")})
    ctx.buy("AAA", 0.4)  # lot 1: 0.4 -> 0
    ctx.sell("BBB", D("0.49"))  # lot 0.5: 0.98 lots -> 0
    assert ctx.orders == []
    first, second = ctx.rejections
    assert (first.id, first.strategy_id, first.symbol, first.side) == (
        "R-000001",
        "momo",
        "AAA",
        Side.BUY,
    )
    assert first.quantity == D("0.4")
    assert first.created_at == ny_close(DAYS[-1])
    assert first.reason == (
        f"quantity 0.4 rounds to 0 at the lot size of 1 (strategy 'momo', buy AAA, bar {LAST})"
    )
    assert second.id == "R-000002"
    assert "quantity 0.49 rounds to 0 at the lot size of 0.5" in second.reason


# -- 3. bad orders are refused, never raised --------------------------------------------
@pytest.mark.parametrize(
    ("ask", "symbol", "problem"),
    [
        (lambda c: c.buy("ZZZ", 1), "ZZZ", "'ZZZ' is not in the universe ['AAA', 'BBB']"),
        (lambda c: c.buy("AAA", -5), "AAA", "quantity must be positive, got -5"),
        (lambda c: c.sell("AAA", 0), "AAA", "quantity must be positive, got 0"),
        (lambda c: c.buy("AAA", float("nan")), "AAA", "quantity must be a finite number, got nan"),
        (lambda c: c.buy("AAA", "ten"), "AAA", "quantity must be a number, got 'ten'"),
        (
            lambda c: c.buy("AAA", 1, limit_price=D("NaN")),
            "AAA",
            "limit_price must be a finite number, got NaN",
        ),
        (
            lambda c: c.buy("AAA", 1, limit_price=float("inf")),
            "AAA",
            "limit_price must be a finite number, got inf",
        ),
        (
            lambda c: c.sell("AAA", 1, stop_price=D(-2)),
            "AAA",
            "stop_price must be positive, got -2",
        ),
        (
            lambda c: c.buy("AAA", 1, limit_price=D(9), time_in_force=TimeInForce.GTD),
            "AAA",
            "a gtd order needs expire_at",
        ),
        (lambda c: c.buy("AAA", 1, trailing="x%"), "AAA", "trailing 'x%' is not an amount"),
    ],
)
def test_a_bad_order_is_refused_with_a_reason_naming_strategy_symbol_and_bar(
    ask: object, symbol: str, problem: str
) -> None:
    ctx = context()
    ask(ctx)  # type: ignore[operator]
    ctx.buy("AAA", 3)  # the strategy goes on: later orders are taken
    assert [(o.symbol, o.quantity) for o in ctx.orders] == [("AAA", D(3))]
    (rejection,) = ctx.rejections
    assert isinstance(rejection, OrderRejection)
    assert (rejection.strategy_id, rejection.symbol) == ("momo", symbol)
    assert problem in rejection.reason
    assert "(strategy 'momo', " in rejection.reason
    assert rejection.reason.endswith(f", bar {LAST})")


def test_a_refused_order_keeps_what_was_asked_for_the_record() -> None:
    ctx = context()
    ctx.sell("AAA", -5, limit_price=D("12.5"), tag="exit")
    (rejection,) = ctx.rejections
    assert (rejection.side, rejection.quantity, rejection.type) == (
        Side.SELL,
        D(-5),
        OrderType.LIMIT,
    )
    assert (rejection.limit_price, rejection.stop_price, rejection.tag) == (D("12.5"), None, "exit")
    assert rejection.time_in_force is TimeInForce.GTC
    assert rejection.reason == (
        f"quantity must be positive, got -5 (strategy 'momo', sell AAA, bar {LAST})"
    )


def test_a_float_price_goes_through_str() -> None:
    ctx = context()
    ctx.buy("AAA", 1, limit_price=10.1)
    assert ctx.orders[0].limit_price == D("10.1")


def test_a_bad_signal_is_refused_too() -> None:
    ctx = context()
    ctx.signal("ZZZ", SignalDirection.LONG)
    ctx.signal("AAA", SignalDirection.LONG, strength=2.0)
    assert ctx.signals == []
    first, second = ctx.rejections
    assert (first.symbol, first.side, first.type) == ("ZZZ", None, None)
    assert first.reason.startswith("'ZZZ' is not in the universe")
    assert "signal long ZZZ" in first.reason
    assert "strength: Input should be less than or equal to 1" in second.reason


def test_a_refusal_before_any_bar_has_no_bar_to_name() -> None:
    ctx = FakeStrategyContext(("AAA",))
    ctx.buy("AAA", 0)
    (rejection,) = ctx.rejections
    assert rejection.created_at is None
    assert rejection.reason.endswith("(strategy 'test', buy AAA, before any bar)")
    ctx.clear()
    assert ctx.rejections == []


# -- 2. targets cancel the strategy's working orders and order from the position -------
def test_target_zero_while_flat_with_a_resting_buy_cancels_it_and_sells_nothing() -> None:
    ctx = context()
    working(ctx, ("O-1", "AAA", Side.BUY, 100, D(9)))
    ctx.order_target_quantity("AAA", 0)
    # position 0 -> target 0: nothing to trade; the resting buy of 100 is cancelled
    # (before the fix: a market sell of 100, ending short 100 once the buy did not fill)
    assert ctx.orders == []
    assert ctx.cancels == ["O-1"]


def test_targets_cancel_only_their_symbol_and_order_the_difference_from_the_position() -> None:
    ctx = context()
    ctx.positions["AAA"] = D(30)
    working(
        ctx,
        ("O-1", "AAA", Side.BUY, 25, None),
        ("O-2", "BBB", Side.BUY, 7, None),
        ("O-3", "AAA", Side.SELL, 5, D(20)),
    )
    ctx.order_target_quantity("AAA", 50)
    # AAA: 30 held, its working orders O-1 and O-3 cancelled: buy 50 - 30 = 20. BBB untouched.
    assert ctx.cancels == ["O-1", "O-3"]
    assert [(o.symbol, o.side, o.quantity, o.type) for o in ctx.orders] == [
        ("AAA", Side.BUY, D(20), OrderType.MARKET)
    ]


def test_the_last_target_of_a_bar_wins_over_what_was_asked_before_in_that_symbol() -> None:
    ctx = context()
    ctx.positions["AAA"] = D(30)
    working(ctx, ("O-1", "AAA", Side.BUY, 25, None))
    ctx.buy("AAA", 10)
    ctx.sell("BBB", 1)
    ctx.cancel("O-1")
    ctx.order_target_quantity("AAA", 100)  # withdraws the buy of 10: buy 100 - 30 = 70
    ctx.order_target_quantity("AAA", 0)  # withdraws the buy of 70: sell 30
    ctx.order_target_quantity("AAA", 30)  # withdraws the sell: at the target, nothing
    assert [(o.symbol, o.side, o.quantity) for o in ctx.orders] == [("BBB", Side.SELL, D(1))]
    assert ctx.cancels == ["O-1"]  # cancelled once, however often it is asked for


def test_a_target_rounds_toward_zero_to_the_lot() -> None:
    ctx = context({"AAA": D(10)})
    ctx.order_target_quantity("AAA", 57.9)  # 5.79 lots of 10 -> 5 lots = 50
    ctx.order_target_quantity("BBB", -3.5)  # lot 1: -3.5 -> -3 (toward zero)
    assert [(o.symbol, o.side, o.quantity) for o in ctx.orders] == [
        ("AAA", Side.BUY, D(50)),
        ("BBB", Side.SELL, D(3)),
    ]


def test_a_bad_target_is_refused_and_cancels_nothing() -> None:
    ctx = context()
    working(ctx, ("O-1", "AAA", Side.BUY, 100, D(9)))
    ctx.order_target_quantity("AAA", float("nan"))
    ctx.order_target_quantity("ZZZ", 5)
    assert (ctx.orders, ctx.cancels) == ([], [])
    assert [r.symbol for r in ctx.rejections] == ["AAA", "ZZZ"]
    assert "target must be a finite number, got nan" in ctx.rejections[0].reason
    assert "(strategy 'momo', target AAA, bar" in ctx.rejections[0].reason


def test_a_target_with_a_limit_price_is_a_limit_order() -> None:
    ctx = context()
    ctx.order_target_quantity("AAA", 40, limit_price=D("13.5"))
    (order,) = ctx.orders
    assert (order.side, order.quantity, order.type, order.limit_price) == (
        Side.BUY, D(40), OrderType.LIMIT, D("13.5"),
    )  # fmt: skip
    ctx.order_target_quantity("AAA", 10, limit_price=D(0))
    # refused before it withdraws anything: the first target's order stands
    assert "limit_price must be positive, got 0" in ctx.rejections[0].reason
    assert ctx.orders == [order]


# -- 4. target percent with a limit price, sized at the last close ----------------------
def test_target_percent_passes_a_limit_price_and_records_the_sizing_price() -> None:
    ctx = context()
    ctx.positions["AAA"] = D(10)
    # equity 10,000 + 10 x 14 = 10,140; 50% = 5,070 at the last close 14 -> 362.14 -> 362,
    # less the 10 held -> buy 352, limit 13.9
    ctx.order_target_percent("AAA", 0.5, limit_price=D("13.9"))
    (order,) = ctx.orders
    assert (order.side, order.quantity, order.type, order.limit_price) == (
        Side.BUY, D(352), OrderType.LIMIT, D("13.9"),
    )  # fmt: skip
    assert order.sizing_price == D(14)


def test_target_percent_short_rounds_toward_zero() -> None:
    ctx = context()
    # equity 10,000; -50% = -5,000 at 14 -> -357.14 -> -357 (never more than asked)
    ctx.order_target_percent("AAA", -0.5)
    assert [(o.side, o.quantity) for o in ctx.orders] == [(Side.SELL, D(357))]


def test_target_percent_without_a_price_or_a_finite_fraction_is_refused() -> None:
    ctx = context()
    ctx.order_target_percent("AAA", float("inf"))
    fresh = FakeStrategyContext(("AAA",))
    fresh.order_target_percent("AAA", 0.1)
    (bad,) = ctx.rejections
    assert "fraction must be a finite number, got inf" in bad.reason
    (no_price,) = fresh.rejections
    assert no_price.reason == (
        "no price for AAA yet: cannot size a target percent "
        "(strategy 'test', target AAA, before any bar)"
    )


def test_a_target_of_zero_closes_an_odd_lot_too() -> None:
    # 150 held with a lot of 100 (a 3-for-2 split of 100): a target of 0 sold 100 and left
    # 50, and a short of -150 bought back 100. Flat is flat, as risk's FLAT signal has it.
    ctx = context({"AAA": D(100), "BBB": D(100)})
    ctx.positions = {"AAA": D(150), "BBB": D(-150)}
    ctx.order_target_quantity("AAA", 0)
    ctx.order_target_percent("BBB", 0)
    assert [(o.symbol, o.side, o.quantity) for o in ctx.orders] == [
        ("AAA", Side.SELL, D(150)),
        ("BBB", Side.BUY, D(150)),
    ]


def test_a_target_percent_of_no_equity_is_refused_and_zero_still_closes() -> None:
    # Cash -2000 and 100 AAA at the last close 14: equity -600. 0.5 of it used to be a target
    # of -21 shares: a sale of 121 that turned the long into a short.
    ctx = context()
    ctx.cash_balance = D(-2000)
    ctx.positions = {"AAA": D(100)}
    ctx.order_target_percent("AAA", 0.5)
    ctx.order_target_percent("AAA", 0)
    assert [(o.side, o.quantity) for o in ctx.orders] == [(Side.SELL, D(100))]
    (refused,) = ctx.rejections
    assert "equity is -600: there is nothing to take a percent of" in refused.reason
