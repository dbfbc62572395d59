"""Volume participation: partial fills across bars, the cap shared by a symbol's orders,
lot sizes, per-order commission bounds across parts, and the order life cycle."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from qtrader.execution import SimulatedExecutionService, load_execution_config
from qtrader.models import (
    BarSlice,
    Instrument,
    OrderRequest,
    OrderStatus,
    ReplaceRequest,
    Side,
    TimeInForce,
)
from qtrader.models.testing import make_bar, ny_close
from qtrader.models.testing.builders import ny_open

DAYS = [date(2024, 1, d) for d in (2, 3, 4, 5, 8, 9)]
D = Decimal


def service(**config: Any) -> SimulatedExecutionService:
    config.setdefault("fill", {"participation": "0.1"})
    instruments = config.pop("instruments", ())
    return SimulatedExecutionService(load_execution_config(config), instruments=instruments)


def bar(
    day: date, o: float, h: float, lo: float, c: float, volume: float, symbol: str = "AAA"
) -> BarSlice:
    return BarSlice.from_bars(
        [make_bar(symbol, day, c, open=o, high=h, low=lo, volume=volume)], opened_at=ny_open(day)
    )


def request(quantity: str, side: Side = Side.BUY, **fields: Any) -> OrderRequest:
    return OrderRequest(strategy_id="s1", symbol="AAA", side=side, quantity=D(quantity), **fields)


def test_a_market_order_fills_over_several_bars_within_the_cap() -> None:
    # 10% of 1000 = 100 shares a bar: 250 fills 100, 100, 50 at each bar's open.
    # Per share 0.005, minimum 1.00 per ORDER:
    #   after 100: 0.50 -> total max(0.50, 1) = 1.00, charged 1.00
    #   after 200: 1.00 -> total 1.00, charged 0
    #   after 250: 1.25 -> total 1.25, charged 0.25
    # 1.00 + 0 + 0.25 = 1.25, what one fill of 250 pays (250 x 0.005), not three minimums.
    svc = service(commission={"model": "per_share", "rate": "0.005", "minimum": "1.00"})
    placed = svc.submit(request("250"), at=ny_close(DAYS[0]))
    fills = []
    for day, price in zip(DAYS[1:4], (10.0, 10.5, 11.0), strict=True):
        (fill,) = svc.process(bar(day, price, price, price, price, 1000)).fills
        fills.append(fill)
    assert [(f.quantity, f.price, f.commission, f.timestamp) for f in fills] == [
        (D(100), D("10.0"), D("1.00"), ny_open(DAYS[1])),
        (D(100), D("10.5"), D(0), ny_open(DAYS[2])),
        (D(50), D("11.0"), D("0.25"), ny_open(DAYS[3])),
    ]
    assert {f.order_id for f in fills} == {placed.id}
    assert svc.open_orders() == ()


def test_orders_of_a_symbol_share_its_volume_in_submission_order() -> None:
    # Cap 0.1 x 1500 = 150: the first order takes its 80, the second the 70 left.
    svc = service()
    first = svc.submit(request("80"), at=ny_close(DAYS[0]))
    second = svc.submit(request("80", Side.SELL), at=ny_close(DAYS[0]))
    report = svc.process(bar(DAYS[1], 20, 20, 20, 20, 1500))
    assert [(f.order_id, f.quantity) for f in report.fills] == [
        (first.id, D(80)),
        (second.id, D(70)),
    ]
    # The next bar (cap 150 again) finishes the second: 10.
    (fill,) = svc.process(bar(DAYS[2], 21, 21, 21, 21, 1500)).fills
    assert (fill.order_id, fill.quantity) == (second.id, D(10))


def test_the_cap_is_rounded_down_to_whole_lots() -> None:
    # Cap 0.1 x 2345 = 234.5 shares. With lots of 100 (from the instrument): 200.
    svc = service(instruments=[Instrument(symbol="AAA", lot_size=D(100))])
    svc.submit(request("1000"), at=ny_close(DAYS[0]))
    (fill,) = svc.process(bar(DAYS[1], 5, 5, 5, 5, 2345)).fills
    assert fill.quantity == D(200)
    # Without an instrument a lot is one share: 234.
    plain = service()
    plain.submit(request("1000"), at=ny_close(DAYS[0]))
    (fill,) = plain.process(bar(DAYS[1], 5, 5, 5, 5, 2345)).fills
    assert fill.quantity == D(234)


def test_a_replace_to_a_quantity_off_the_lot_is_refused() -> None:
    # Lots of 100: a replace of a 200 order to 150 would trade half a lot; it is refused and
    # the order stays at 200 (a replace to 300 is made).
    svc = service(instruments=[Instrument(symbol="AAA", lot_size=D(100))])
    placed = svc.submit(request("200"), at=ny_close(DAYS[0]))
    change = {"strategy_id": "s1", "order_id": placed.id}
    refused = svc.replace(ReplaceRequest(**change, quantity=D(150)), at=ny_close(DAYS[0]))
    assert refused is not None
    assert (refused.status, refused.reason) == (
        OrderStatus.ACCEPTED,
        "replace refused: quantity 150 is not a whole number of lots of 100",
    )
    made = svc.replace(ReplaceRequest(**change, quantity=D(300)), at=ny_close(DAYS[0]))
    assert made is not None
    assert made.status is OrderStatus.REPLACED
    (working,) = svc.open_orders()
    assert working.quantity == D(300)


def test_what_is_left_fills_even_if_smaller_than_a_lot() -> None:
    # 0.1 x 1000 = 100 available; the 30.5 left of a split-adjusted order fits: all of it.
    svc = service()
    svc.submit(request("30.5"), at=ny_close(DAYS[0]))
    (fill,) = svc.process(bar(DAYS[1], 5, 5, 5, 5, 1000)).fills
    assert fill.quantity == D("30.5")


def test_a_limit_order_fills_in_parts_only_on_bars_that_reach_it() -> None:
    svc = service()
    svc.submit(request("150", type="limit", limit_price=D(10)), at=ny_close(DAYS[0]))
    # D2 low 9.5 <= 10, opens 10.2: 100 at the limit (cap 0.1 x 1000).
    (fill,) = svc.process(bar(DAYS[1], 10.2, 10.4, 9.5, 10.0, 1000)).fills
    assert (fill.quantity, fill.price) == (D(100), D(10))
    # D3 stays above 10: nothing; D4 opens at 9.8: the last 50 at the 9.8 open.
    assert svc.process(bar(DAYS[2], 10.5, 10.8, 10.1, 10.6, 1000)).fills == ()
    (fill,) = svc.process(bar(DAYS[3], 9.8, 10.0, 9.7, 9.9, 1000)).fills
    assert (fill.quantity, fill.price, fill.timestamp) == (D(50), D("9.8"), ny_open(DAYS[3]))


def test_a_partly_filled_day_order_expires_for_the_rest() -> None:
    svc = service()
    placed = svc.submit(request("300", time_in_force=TimeInForce.DAY), at=ny_close(DAYS[0]))
    report = svc.process(bar(DAYS[1], 10, 10, 10, 10, 1000))
    assert [f.quantity for f in report.fills] == [D(100)]
    (update,) = report.updates
    assert (update.order_id, update.status) == (placed.id, OrderStatus.EXPIRED)


def test_the_life_cycle_of_an_order_when_asked_for() -> None:
    # accepted (reported with the next bars, stamped at the decision) -> partially filled
    # -> filled; a replace and a cancel are always reported.
    svc = service(lifecycle_updates=True)
    placed = svc.submit(request("150"), at=ny_close(DAYS[0]))
    report = svc.process(bar(DAYS[1], 10, 10, 10, 10, 1000))
    assert [(u.status, u.timestamp, u.reason) for u in report.updates] == [
        (OrderStatus.ACCEPTED, ny_close(DAYS[0]), "accepted"),
        (OrderStatus.PARTIALLY_FILLED, ny_open(DAYS[1]), "filled 100 of 150; 50 working"),
    ]
    report = svc.process(bar(DAYS[2], 10, 10, 10, 10, 1000))
    assert [(u.order_id, u.status, u.reason) for u in report.updates] == [
        (placed.id, OrderStatus.FILLED, "filled 150 in 2 fill(s)")
    ]


def test_without_the_life_cycle_only_endings_and_changes_are_reported() -> None:
    svc = service()
    svc.submit(request("150"), at=ny_close(DAYS[0]))
    assert svc.process(bar(DAYS[1], 10, 10, 10, 10, 1000)).updates == ()
    assert svc.process(bar(DAYS[2], 10, 10, 10, 10, 1000)).updates == ()


def test_acceptances_are_reported_even_when_nothing_is_left_to_match() -> None:
    # Submitted, then cancelled before the next bars: the acceptance still comes out,
    # with those bars (on a warmup slice too).
    svc = service(lifecycle_updates=True)
    placed = svc.submit(request("10"), at=ny_close(DAYS[0]))
    svc.cancel(placed.id, at=ny_close(DAYS[0]))
    warm = BarSlice.from_bars([make_bar("AAA", DAYS[1], 10.0)], warmup=True)
    assert [u.status for u in svc.process(warm).updates] == [OrderStatus.ACCEPTED]
    assert svc.process(bar(DAYS[2], 10, 10, 10, 10, 1000)).updates == ()


def test_replacing_the_quantity_of_a_partly_filled_order() -> None:
    # The quantity asked is what is left to fill, as open_orders() shows it: 300 with 100
    # filled shows 200 left; a replace to 50 leaves 50 to fill (150 in total). It was the
    # new total, which a strategy could not read from open_orders(), and risk then counted
    # the filled part twice.
    svc = service()
    placed = svc.submit(request("300"), at=ny_close(DAYS[0]))
    svc.process(bar(DAYS[1], 10, 10, 10, 10, 1000))  # 100 filled
    (working,) = svc.open_orders()
    assert working.quantity == D(200)
    refused = svc.replace(
        ReplaceRequest(strategy_id="s1", order_id=placed.id, quantity=D(0)), ny_close(DAYS[1])
    )
    assert refused is not None
    assert refused.status is OrderStatus.PARTIALLY_FILLED
    assert refused.reason == (
        "replace refused: quantity 0 to fill is not positive (cancel the order instead)"
    )
    update = svc.replace(
        ReplaceRequest(strategy_id="s1", order_id=placed.id, quantity=D(50)), ny_close(DAYS[1])
    )
    assert update is not None
    assert (update.status, update.reason) == (OrderStatus.REPLACED, "replaced: quantity 200 -> 50")
    (left,) = svc.open_orders()
    assert left.quantity == D(50)
    (fill,) = svc.process(bar(DAYS[2], 11, 11, 11, 11, 1000)).fills
    assert fill.quantity == D(50)
    assert svc.open_orders() == ()


def test_every_part_of_a_fill_carries_the_lots_its_order_names() -> None:
    # 250 to sell at 10% of 1000 a bar: three parts, each naming the lots F-1 then F-7
    svc = service()
    placed = svc.submit(
        request("250", side=Side.SELL, close_lots=("F-1", "F-7")), at=ny_close(DAYS[0])
    )
    assert placed.close_lots == ("F-1", "F-7")
    parts = [svc.process(bar(day, 10, 10, 10, 10, 1000)).fills[0] for day in DAYS[1:4]]
    assert [(p.quantity, p.close_lots) for p in parts] == [
        (D(100), ("F-1", "F-7")),
        (D(100), ("F-1", "F-7")),
        (D(50), ("F-1", "F-7")),
    ]
    svc.submit(request("10"), at=ny_close(DAYS[4]))
    (plain,) = svc.process(bar(DAYS[5], 10, 10, 10, 10, 1000)).fills
    assert plain.close_lots == ()


def test_the_acceptance_of_an_order_without_a_next_bar_is_drained_once() -> None:
    svc = service(lifecycle_updates=True)
    placed = svc.submit(request("10"), at=ny_close(DAYS[0]))
    (accepted,) = svc.drain_updates()
    assert (accepted.order_id, accepted.status, accepted.timestamp) == (
        placed.id,
        OrderStatus.ACCEPTED,
        ny_close(DAYS[0]),
    )
    assert svc.drain_updates() == ()
    # drained, it does not go out again with the next bars
    report = svc.process(bar(DAYS[1], 10, 10, 10, 10, 1000))
    assert OrderStatus.ACCEPTED not in {u.status for u in report.updates}


def test_open_orders_show_what_is_left_to_fill_after_each_part() -> None:
    # 10% of 1000 = 100 a bar: 250 works as 250, then 150, then 50, then is gone.
    svc = service()
    placed = svc.submit(request("250"), at=ny_close(DAYS[0]))
    assert [o.quantity for o in svc.open_orders()] == [D(250)]
    left = []
    for day in DAYS[1:4]:
        svc.process(bar(day, 10.0, 10.0, 10.0, 10.0, 1000))
        left.append(([o.quantity for o in svc.open_orders()], svc.open_orders("s1")))
    assert [quantities for quantities, _ in left] == [[D(150)], [D(50)], []]
    assert [tuple(o.quantity for o in mine) for _, mine in left] == [(D(150),), (D(50),), ()]
    assert left[0][1][0].id == placed.id


def test_what_a_triggered_stop_left_to_fill_goes_at_market_on_later_bars() -> None:
    # Sell stop at 9 for 300 under a cap of 10% of 1000 = 100 a bar. Day 2 (low 8.5)
    # triggers it: 100 at 9. It is a market order from then on: 100 at day 3's open (10)
    # and 100 at day 4's, although neither bar comes back down to the stop (it used to
    # wait, re-armed, for the price to fall to 9 again).
    svc = service()
    svc.submit(request("300", Side.SELL, type="stop", stop_price=D(9)), at=ny_close(DAYS[0]))
    fills = svc.process(bar(DAYS[1], 10, 10.5, 8.5, 9.5, 1000)).fills
    for day in DAYS[2:4]:
        fills += svc.process(bar(day, 10, 11, 9.5, 10.5, 1000)).fills
    assert [(f.quantity, f.price, f.timestamp) for f in fills] == [
        (D(100), D(9), ny_close(DAYS[1])),
        (D(100), D(10), ny_open(DAYS[2])),
        (D(100), D(10), ny_open(DAYS[3])),
    ]
    assert svc.open_orders() == ()


def test_the_stop_of_a_triggered_stop_limit_cannot_be_replaced() -> None:
    # Buy stop 10 limit 9.8: day 2 (9.9 / 10.1 / 9.7) triggers it without a fill (the low
    # may have come before the trigger). It now rests as a limit at 9.8: moving its stop to
    # 20 would change nothing, and was reported as REPLACED.
    svc = service(fill={})
    placed = svc.submit(
        request("100", type="stop_limit", stop_price=D(10), limit_price=D("9.8")),
        at=ny_close(DAYS[0]),
    )
    assert svc.process(bar(DAYS[1], 9.9, 10.1, 9.7, 10.0, 1000)).fills == ()
    change = ReplaceRequest(strategy_id="s1", order_id=placed.id, stop_price=D(20))
    update = svc.replace(change, at=ny_close(DAYS[1]))
    assert update is not None
    assert (update.status, update.reason) == (
        OrderStatus.ACCEPTED,
        "replace refused: its stop has triggered (it now works as a limit order)",
    )
