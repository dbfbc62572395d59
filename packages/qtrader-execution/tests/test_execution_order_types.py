"""Every order type against every bar shape, with each expected price worked out by hand.

Each order is decided at D1's close (16:00) and meets one D2 bar. A fill marked "open"
traded at D2's open (stamped 09:30); one marked "close" traded inside the bar, known
only at its close (stamped 16:00). ``None``: the order does not trade on that bar.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from qtrader.execution import (
    BarPrices,
    ExecutionConfig,
    NextOpenFillModel,
    SimulatedExecutionService,
    load_execution_config,
)
from qtrader.models import BarSlice, Order, OrderRequest, OrderStatus, Split
from qtrader.models.testing import make_bar, ny_close
from qtrader.models.testing.builders import ny_open

D1, D2 = date(2024, 1, 2), date(2024, 1, 3)
D = Decimal

# (open, high, low, close); the orders below sit around a previous close of 100.
SHAPES: dict[str, tuple[float, float, float, float]] = {
    "gap_up": (105.0, 107.0, 104.0, 106.0),
    "gap_down": (95.0, 96.0, 93.0, 94.0),
    "inside": (100.0, 101.0, 99.0, 100.5),
    "exact_touch": (100.0, 102.0, 98.0, 101.0),
    "wide_range": (100.0, 110.0, 90.0, 101.0),
}

ORDERS: dict[str, dict[str, Any]] = {
    "market buy": {"side": "buy", "type": "market"},
    "buy limit 98": {"side": "buy", "type": "limit", "limit_price": "98"},
    "sell limit 102": {"side": "sell", "type": "limit", "limit_price": "102"},
    "buy stop 102": {"side": "buy", "type": "stop", "stop_price": "102"},
    "sell stop 98": {"side": "sell", "type": "stop", "stop_price": "98"},
    "buy stop 102 limit 103": {
        "side": "buy",
        "type": "stop_limit",
        "stop_price": "102",
        "limit_price": "103",
    },
    "sell stop 98 limit 97": {
        "side": "sell",
        "type": "stop_limit",
        "stop_price": "98",
        "limit_price": "97",
    },
    "sell trailing 2": {"side": "sell", "type": "trailing_stop", "trail_amount": "2"},
    "buy trailing 2%": {"side": "buy", "type": "trailing_stop", "trail_percent": "2"},
    "market-on-open buy": {"side": "buy", "type": "market_on_open"},
    "market-on-close sell": {"side": "sell", "type": "market_on_close"},
}

Expected = tuple[str, str] | None  # (price, "open" | "close")

TABLE: dict[str, dict[str, Expected]] = {
    # A market order takes the open, whatever the bar does.
    "market buy": {
        "gap_up": ("105", "open"),
        "gap_down": ("95", "open"),
        "inside": ("100", "open"),
        "exact_touch": ("100", "open"),
        "wide_range": ("100", "open"),
    },
    # Buy limit 98: trades if low <= 98, at min(open, 98).
    "buy limit 98": {
        "gap_up": None,  # low 104 > 98
        "gap_down": ("95", "open"),  # opened at 95, below the limit: the better open
        "inside": None,  # low 99 > 98
        "exact_touch": ("98", "close"),  # low exactly 98: a touch fills, at the limit
        "wide_range": ("98", "close"),
    },
    # Sell limit 102: trades if high >= 102, at max(open, 102).
    "sell limit 102": {
        "gap_up": ("105", "open"),  # opened at 105, above the limit: the better open
        "gap_down": None,  # high 96
        "inside": None,  # high 101
        "exact_touch": ("102", "close"),
        "wide_range": ("102", "close"),
    },
    # Buy stop 102: triggers if high >= 102, at max(open, 102).
    "buy stop 102": {
        "gap_up": ("105", "open"),  # gapped through the stop: the worse open, not 102
        "gap_down": None,
        "inside": None,
        "exact_touch": ("102", "close"),
        "wide_range": ("102", "close"),
    },
    # Sell stop 98: triggers if low <= 98, at min(open, 98).
    "sell stop 98": {
        "gap_up": None,
        "gap_down": ("95", "open"),  # gapped through: the worse open
        "inside": None,
        "exact_touch": ("98", "close"),
        "wide_range": ("98", "close"),
    },
    # Buy stop 102 limit 103: triggers at t = max(open, 102); fills at t if t <= 103;
    # else at 103 only if triggered at the open and low <= 103.
    "buy stop 102 limit 103": {
        "gap_up": None,  # t = 105 > 103; triggered at the open but low 104 > 103
        "gap_down": None,  # never triggers (high 96)
        "inside": None,
        "exact_touch": ("102", "close"),  # t = 102 <= 103
        "wide_range": ("102", "close"),
    },
    # Sell stop 98 limit 97: t = min(open, 98); fills at t if t >= 97; else at 97 only if
    # triggered at the open and high >= 97.
    "sell stop 98 limit 97": {
        "gap_up": None,
        "gap_down": None,  # t = 95 < 97; triggered at the open but high 96 < 97
        "inside": None,
        "exact_touch": ("98", "close"),  # t = 98 >= 97
        "wide_range": ("98", "close"),
    },
    # Sell trailing stop 2: on its first bar the best price is the open, so the stop is
    # open - 2; the bar's high moves it only after the bar.
    "sell trailing 2": {
        "gap_up": None,  # stop 105 - 2 = 103; low 104 > 103
        "gap_down": ("93", "close"),  # stop 95 - 2 = 93; low 93 touches it
        "inside": None,  # stop 98; low 99
        "exact_touch": ("98", "close"),  # stop 98; low 98
        "wide_range": ("98", "close"),  # stop 98; low 90: at the stop, not the low
    },
    # Buy trailing stop 2%: stop = open x 1.02 on the first bar, triggers if high >= it.
    "buy trailing 2%": {
        "gap_up": None,  # 105 x 1.02 = 107.1 > high 107
        "gap_down": None,  # 95 x 1.02 = 96.9 > high 96
        "inside": None,  # 100 x 1.02 = 102 > high 101
        "exact_touch": ("102.00", "close"),  # 100 x 1.02 = 102.00; high 102
        "wide_range": ("102.00", "close"),
    },
    # On daily bars every bar opens a session: market-on-open fills at the next open.
    "market-on-open buy": {
        "gap_up": ("105", "open"),
        "gap_down": ("95", "open"),
        "inside": ("100", "open"),
        "exact_touch": ("100", "open"),
        "wide_range": ("100", "open"),
    },
    # Market-on-close fills at the close of D2 (never D1's, which decided it).
    "market-on-close sell": {
        "gap_up": ("106", "close"),
        "gap_down": ("94", "close"),
        "inside": ("100.5", "close"),
        "exact_touch": ("101", "close"),
        "wide_range": ("101", "close"),
    },
}

CASES = [(name, shape, TABLE[name][shape]) for name in ORDERS for shape in SHAPES]


def request(name: str, quantity: str = "10") -> OrderRequest:
    fields = {key: D(v) if key.endswith(("price", "amount", "percent")) else v
              for key, v in ORDERS[name].items()}  # fmt: skip
    return OrderRequest(strategy_id="s1", symbol="AAA", quantity=D(quantity), **fields)


def bar_slice(day: date, ohlc: tuple[float, float, float, float], volume: float = 1000) -> BarSlice:
    o, h, lo, c = ohlc
    return BarSlice.from_bars(
        [make_bar("AAA", day, c, open=o, high=h, low=lo, volume=volume)], opened_at=ny_open(day)
    )


def test_the_table_covers_every_order_and_shape() -> None:
    assert set(TABLE) == set(ORDERS)
    assert all(set(row) == set(SHAPES) for row in TABLE.values())


@pytest.mark.parametrize(
    ("name", "shape", "expected"), CASES, ids=[f"{n}-{s}" for n, s, _ in CASES]
)
def test_order_type_against_bar_shape(name: str, shape: str, expected: Expected) -> None:
    svc = SimulatedExecutionService(ExecutionConfig())
    svc.process(bar_slice(D1, (100.0, 100.0, 100.0, 100.0)))
    placed = svc.submit(request(name), at=ny_close(D1))
    report = svc.process(bar_slice(D2, SHAPES[shape]))
    if expected is None:
        assert report.fills == ()
        assert [o.id for o in svc.open_orders()] == [placed.id]  # GTC: still working
        return
    price, when = expected
    (fill,) = report.fills
    assert fill.price == D(price)
    assert fill.quantity == D(10)
    assert fill.side is placed.side
    assert fill.timestamp == (ny_open(D2) if when == "open" else ny_close(D2))
    assert (fill.slippage_per_share, fill.slippage_cost) == (D(0), D(0))
    assert svc.open_orders() == ()


@pytest.mark.parametrize("name", list(ORDERS))
def test_a_zero_volume_bar_fills_nothing_under_a_participation_cap(name: str) -> None:
    # participation 0.5 of a volume of 0 is 0 shares, for every order type, even on the
    # wide-range bar that fills them all without a cap.
    svc = SimulatedExecutionService(load_execution_config({"fill": {"participation": "0.5"}}))
    svc.submit(request(name), at=ny_close(D1))
    report = svc.process(bar_slice(D2, SHAPES["wide_range"], volume=0))
    assert report.fills == ()
    if name.startswith(("market-on-open", "market-on-close")):
        # They trade only at their session's open (close): what they did not fill there
        # is cancelled.
        (update,) = report.updates
        assert update.status is OrderStatus.CANCELLED
        assert "10 of 10 not filled" in update.reason
    else:
        assert report.updates == ()
        assert len(svc.open_orders()) == 1


def test_without_a_cap_volume_is_ignored_as_before() -> None:
    svc = SimulatedExecutionService()
    svc.submit(request("market buy"), at=ny_close(D1))
    (fill,) = svc.process(bar_slice(D2, SHAPES["inside"], volume=0)).fills
    assert (fill.price, fill.quantity) == (D(100), D(10))


def test_a_trailing_stop_ratchets_after_each_bar_and_never_on_the_extreme_that_moved_it() -> None:
    svc = SimulatedExecutionService()
    svc.process(bar_slice(D1, (100.0, 100.0, 100.0, 100.0)))
    placed = svc.submit(request("sell trailing 2"), at=ny_close(D1))
    days = [date(2024, 1, d) for d in (3, 4, 5, 8, 9)]
    # D2: opens 100 -> stop 98. The bar rallies to 105 and dips to 99: the dip may have
    # come before the rally, so the stop it meets is still 98 (99 > 98): no fill. After
    # the bar the best price is 105 -> stop 103.
    assert svc.process(bar_slice(days[0], (100.0, 105.0, 99.0, 104.0))).fills == ()
    # D3: opens 104 (below the best, 105: no change), high 104.5, low 103.5 > 103: no
    # fill; after it the best stays 105 (104.5 < 105).
    assert svc.process(bar_slice(days[1], (104.0, 104.5, 103.5, 104.0))).fills == ()
    # D4: opens 108 above the best: the best moves to 108 at once (the open comes first
    # in the bar) -> stop 106; low 105.5 <= 106: filled at 106, inside the bar.
    (fill,) = svc.process(bar_slice(days[2], (108.0, 109.0, 105.5, 106.0))).fills
    assert (fill.order_id, fill.price, fill.timestamp) == (placed.id, D(106), ny_close(days[2]))


def test_a_trailing_stop_gapped_through_fills_at_the_open() -> None:
    svc = SimulatedExecutionService()
    svc.submit(request("sell trailing 2"), at=ny_close(D1))
    # D2: opens 100 (stop 98), high 104 -> after it the stop is 102.
    assert svc.process(bar_slice(D2, (100.0, 104.0, 99.0, 103.0))).fills == ()
    # D3: no new high (103.5 < 104), low 102.5 > 102: the stop stays at 102.
    assert svc.process(bar_slice(date(2024, 1, 4), (103.0, 103.5, 102.5, 103.0))).fills == ()
    # D4 opens at 97, below the 102 stop: the worse open, 97.
    day = date(2024, 1, 5)
    (fill,) = svc.process(bar_slice(day, (97.0, 98.0, 96.0, 97.5))).fills
    assert (fill.price, fill.timestamp) == (D(97), ny_open(day))


def test_a_split_rescales_a_trailing_stop() -> None:
    svc = SimulatedExecutionService()
    svc.submit(request("sell trailing 2"), at=ny_close(D1))
    # D2: opens 100, high 104: best 104, stop 102.
    assert svc.process(bar_slice(D2, (100.0, 104.0, 99.0, 103.0))).fills == ()
    # 2-for-1: 20 shares, trail 1, best 52 -> stop 51.
    day = date(2024, 1, 4)
    svc.apply_action(Split(symbol="AAA", ex_date=day, ratio=D(2)), ny_open(day))
    (working,) = svc.open_orders()
    assert (working.quantity, working.trail_amount) == (D(20), D(1))
    # D3 at post-split prices: low 50.9 <= 51: filled at 51 (not at the pre-split 102).
    (fill,) = svc.process(bar_slice(day, (51.5, 51.8, 50.9, 51.2))).fills
    assert (fill.quantity, fill.price) == (D(20), D(51))


def test_the_fill_model_never_sees_a_trailing_stop() -> None:
    order = Order(**request("sell trailing 2").model_dump(), id="O-1", created_at=ny_close(D1))
    with pytest.raises(ValueError, match="a trailing stop is matched as a stop"):
        NextOpenFillModel().match(order, False, BarPrices(D(1), D(1), D(1), D(1)))


def test_a_percent_trailing_buy_follows_the_lows() -> None:
    svc = SimulatedExecutionService()
    svc.submit(request("buy trailing 2%"), at=ny_close(D1))
    # D2: opens 100 -> stop 102; high 101.5 < 102; after it the low 95 -> stop 95 x 1.02
    # = 96.90.
    assert svc.process(bar_slice(D2, (100.0, 101.5, 95.0, 96.0))).fills == ()
    day = date(2024, 1, 4)
    # D3: opens 96 below the best 95? No (96 > 95): stop stays 96.90; high 97 >= 96.90.
    (fill,) = svc.process(bar_slice(day, (96.0, 97.0, 95.5, 96.5))).fills
    assert fill.price == D("96.90")


def test_the_fills_of_a_bar_come_in_time_order_not_submission_order() -> None:
    # A sell limit at 101.5 submitted before a market buy: the buy fills at the open
    # (101.13, 09:30), the sell later in the bar when the high (103) reaches its limit
    # (stamped at the close). They used to come sell first, so the ledger went back from
    # 16:00 to 09:30 and the round trips saw a short that never existed.
    svc = SimulatedExecutionService(load_execution_config({"lifecycle_updates": True}))
    day1, day2 = date(2024, 6, 3), date(2024, 6, 4)
    sell = svc.submit(
        OrderRequest(
            strategy_id="s1", symbol="AAA", side="sell", quantity=D(100), type="limit",
            limit_price=D("101.5"),
        ),
        at=ny_close(day1),
    )  # fmt: skip
    buy = svc.submit(
        OrderRequest(strategy_id="s1", symbol="AAA", side="buy", quantity=D(100)),
        at=ny_close(day1),
    )
    report = svc.process(bar_slice(day2, (101.13, 103.0, 101.0, 102.0)))
    assert [(f.order_id, f.price, f.timestamp) for f in report.fills] == [
        (buy.id, D("101.13"), ny_open(day2)),
        (sell.id, D("101.5"), ny_close(day2)),
    ]
    # Their updates too: the acceptances (decided on day 1), then the fills in time order.
    assert [(u.order_id, u.status.value, u.timestamp) for u in report.updates] == [
        (sell.id, "accepted", ny_close(day1)),
        (buy.id, "accepted", ny_close(day1)),
        (buy.id, "filled", ny_open(day2)),
        (sell.id, "filled", ny_close(day2)),
    ]
