"""FakeStrategyContext: drive a strategy by hand, without an engine."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from qtrader.models import (
    BarSlice,
    OrderType,
    Side,
    SignalDirection,
    Split,
    StrategyContext,
    TimeInForce,
)
from qtrader.models.testing import FakeStrategyContext, daily_slices, ny_close

DAYS = [date(2024, 3, 4), date(2024, 3, 5), date(2024, 3, 6)]
D = Decimal


def context() -> FakeStrategyContext:
    ctx = FakeStrategyContext(("AAA", "BBB"), cash=D(10_000))
    slices = daily_slices(
        DAYS, {"AAA": [(10.0, 11.0), (12.0, 13.0), (13.5, 14.0)], "BBB": [(5.0, 6.0), None, None]}
    )
    for bars in slices:
        ctx.push(bars)
    return ctx


def test_it_is_a_strategy_context() -> None:
    assert isinstance(context(), StrategyContext)


def test_history_and_current_bar() -> None:
    ctx = context()
    assert ctx.timestamp == ny_close(DAYS[2])
    assert ctx.history("AAA", "close", 2).tolist() == [13.0, 14.0]
    assert ctx.history("AAA", "open", 10).tolist() == [10.0, 12.0, 13.5]
    assert ctx.history("BBB", "close", 5).tolist() == [6.0]
    with pytest.raises(ValueError, match="read-only"):
        ctx.history("AAA", "close", 1)[0] = 1.0
    assert ctx.has_bar("AAA")
    assert not ctx.has_bar("BBB")
    assert ctx.bar("BBB") is None
    bar = ctx.bar("AAA")
    assert bar is not None
    assert bar.close == 14.0
    assert (ctx.strategy_id, ctx.symbols) == ("test", ("AAA", "BBB"))


def test_a_split_pushed_adjusts_the_history_as_the_engine_does() -> None:
    # 2-for-1 of AAA on the third day, as traded 11, 13, then 7: history as of that day is
    # 5.5, 6.5, 7 (prices halved, volumes doubled), never a fall from 13 to 7.
    ctx = FakeStrategyContext(("AAA",))
    slices = daily_slices(DAYS, {"AAA": [(10.0, 11.0), (12.0, 13.0), (6.5, 7.0)]})
    split = Split(symbol="AAA", ex_date=DAYS[2], ratio=D(2))
    slices[2] = BarSlice.from_bars([slices[2].bar("AAA")], actions=(split,))
    for bars in slices:
        ctx.push(bars)
    assert ctx.history("AAA", "close", 3).tolist() == [5.5, 6.5, 7.0]
    volumes = ctx.history("AAA", "volume", 3).tolist()
    assert volumes[:2] == [2 * v for v in (slices[0].volume[0], slices[1].volume[0])]
    with pytest.raises(ValueError, match="n must be >= 0, got -1"):
        ctx.history("AAA", "close", -1)
    with pytest.raises(KeyError, match="unknown symbol 'ZZZ'; the universe is"):
        ctx.history("ZZZ", "close", 1)
    with pytest.raises(KeyError, match="unknown field 'vwap'"):
        ctx.history("AAA", "vwap", 1)


def test_reading_more_history_than_declared_is_refused_as_in_the_engine() -> None:
    ctx = FakeStrategyContext(("AAA",), strategy_id="s1", history_bars=2)
    for bars in daily_slices(DAYS, {"AAA": [(10.0, 11.0), (12.0, 13.0), (13.5, 14.0)]}):
        ctx.push(bars)
    assert ctx.history("AAA", "close", 2).tolist() == [13.0, 14.0]
    for read in (lambda: ctx.history("AAA", "close", 3), lambda: ctx.history_matrix("close", 3)):
        with pytest.raises(ValueError, match="strategy 's1' declared at most 2"):
            read()


def test_before_any_slice() -> None:
    ctx = FakeStrategyContext(("AAA",))
    with pytest.raises(RuntimeError, match="push"):
        _ = ctx.timestamp
    assert not ctx.has_bar("AAA")
    (bars,) = daily_slices(DAYS[:1], {"ZZZ": [(1.0, 1.0)]})
    with pytest.raises(KeyError, match="'ZZZ' is not in the universe"):
        ctx.push(bars)


def test_orders_are_recorded_with_the_type_their_prices_imply() -> None:
    ctx = context()
    ctx.buy("AAA", 1)
    ctx.sell("AAA", 2, limit_price=D(20), time_in_force=TimeInForce.DAY)
    ctx.sell("AAA", 3, stop_price=D(9))
    ctx.buy("AAA", 4, limit_price=D(16), stop_price=D(15), tag="t")
    assert [(o.side, o.quantity, o.type) for o in ctx.orders] == [
        (Side.BUY, D(1), OrderType.MARKET),
        (Side.SELL, D(2), OrderType.LIMIT),
        (Side.SELL, D(3), OrderType.STOP),
        (Side.BUY, D(4), OrderType.STOP_LIMIT),
    ]
    assert ctx.orders[1].time_in_force is TimeInForce.DAY
    assert ctx.orders[3].tag == "t"


def test_equity_and_target_percent() -> None:
    ctx = context()
    ctx.positions["AAA"] = D(10)
    # equity = 10,000 + 10 x 14 = 10,140; 50% = 5,070 at 14 -> 362.14 -> 362 shares,
    # less the 10 held -> buy 352
    assert ctx.equity == D(10_140)
    assert ctx.cash == D(10_000)
    ctx.order_target_percent("AAA", 0.5)
    assert [(o.side, o.quantity) for o in ctx.orders] == [(Side.BUY, D(352))]
    # targets that cancel working orders, and bad requests refused rather than raised:
    # test_models_context_orders.py


def test_signals_cancels_logs_and_clear() -> None:
    ctx = context()
    ctx.signal("BBB", SignalDirection.SHORT, 0.25)
    ctx.cancel("O-1")
    ctx.log("hi")
    assert [(s.symbol, s.direction, s.strength) for s in ctx.signals] == [
        ("BBB", SignalDirection.SHORT, 0.25)
    ]
    assert (ctx.cancels, ctx.logs, ctx.open_orders()) == (["O-1"], ["hi"], ())
    ctx.buy("AAA", 1)
    ctx.clear()
    assert (ctx.orders, ctx.signals, ctx.cancels, ctx.logs) == ([], [], [], [])


@pytest.mark.parametrize(
    ("limit", "stop", "expected"),
    [
        (None, None, OrderType.MARKET),
        (D(1), None, OrderType.LIMIT),
        (None, D(1), OrderType.STOP),
        (D(1), D(1), OrderType.STOP_LIMIT),
    ],
)
def test_order_type_for_prices(
    limit: Decimal | None, stop: Decimal | None, expected: OrderType
) -> None:
    assert OrderType.for_prices(limit, stop) is expected
