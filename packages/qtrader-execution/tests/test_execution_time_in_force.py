"""Time in force on daily and intraday bars: DAY by session (in the instrument's zone), GTD,
IOC, FOK; and market-on-open / market-on-close, which trade only at a session's open
(close). Expected prices and stamps are worked out by hand in the comments."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from qtrader.execution import (
    ExecutionConfigError,
    SimulatedExecutionService,
    load_execution_config,
)
from qtrader.models import (
    BarSlice,
    ExecutionReport,
    Instrument,
    OrderRequest,
    OrderStatus,
    Side,
    TimeInForce,
)
from qtrader.models.testing import make_bar, ny_close
from qtrader.models.testing.builders import ny_open

NY = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
D1, D2, D3, D4 = date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4), date(2024, 1, 5)
D = Decimal
FLAT = (100.0, 100.5, 99.5, 100.0)
HALF_HOURS = [time(10, 0)] + [time(10 + k // 2, 30 * (k % 2)) for k in range(1, 13)]
"""The close stamps of a session's 30-minute bars: 10:00, 10:30, ..., 16:00."""


def at(day: date, clock: time, zone: ZoneInfo = NY) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone)


def intraday(
    day: date,
    clock: time,
    ohlc: tuple[float, float, float, float] = FLAT,
    *,
    zone: ZoneInfo = NY,
    minutes: int = 30,
    volume: float = 1000.0,
    symbol: str = "AAA",
) -> BarSlice:
    """One intraday bar stamped at its close ``clock`` (local), ``minutes`` long."""
    stamp = at(day, clock, zone)
    o, h, lo, c = ohlc
    return BarSlice(
        timestamp=stamp,
        opened_at=stamp - timedelta(minutes=minutes),
        symbols=(symbol,),
        open=np.array([o]),
        high=np.array([h]),
        low=np.array([lo]),
        close=np.array([c]),
        volume=np.array([volume]),
    )


def daily(day: date, ohlc: tuple[float, float, float, float], volume: float = 1000.0) -> BarSlice:
    o, h, lo, c = ohlc
    return BarSlice.from_bars(
        [make_bar("AAA", day, c, open=o, high=h, low=lo, volume=volume)], opened_at=ny_open(day)
    )


def request(
    tif: TimeInForce = TimeInForce.GTC, quantity: str = "10", **fields: Any
) -> OrderRequest:
    fields.setdefault("side", Side.BUY)
    fields.setdefault("symbol", "AAA")
    return OrderRequest(strategy_id="s1", quantity=D(quantity), time_in_force=tif, **fields)


def far_limit(tif: TimeInForce = TimeInForce.DAY, **fields: Any) -> OrderRequest:
    """A buy limit at 90, never reached by bars around 100."""
    return request(tif, type="limit", limit_price=D(90), **fields)


# -- DAY -----------------------------------------------------------------------------


def test_a_day_order_on_intraday_bars_lives_until_its_sessions_closing_bar() -> None:
    # The bug: DAY expired after one bar, as if every bar were a session.
    svc = SimulatedExecutionService()
    svc.process(intraday(D1, time(10, 0)))
    placed = svc.submit(far_limit(), at=at(D1, time(10, 0)))
    for clock in HALF_HOURS[1:-1]:  # 10:30 ... 15:30: the session goes on
        report = svc.process(intraday(D1, clock))
        assert (report.fills, report.updates) == ((), ()), clock
        assert [o.id for o in svc.open_orders()] == [placed.id]
    # 16:00 is the session close: the last bar of 2024-01-02; the order expires after it.
    (update,) = svc.process(intraday(D1, time(16, 0))).updates
    assert (update.order_id, update.status, update.timestamp) == (
        placed.id,
        OrderStatus.EXPIRED,
        at(D1, time(16, 0)),
    )
    assert update.reason == "DAY order not filled in its session 2024-01-02"
    assert svc.open_orders() == ()
    # Reported once: the next bars report nothing.
    assert svc.process(intraday(D2, time(10, 0))) == ExecutionReport()


def test_a_day_order_fills_later_in_its_session() -> None:
    svc = SimulatedExecutionService()
    svc.process(intraday(D1, time(10, 0)))
    svc.submit(request(TimeInForce.DAY, type="limit", limit_price=D(99)), at=at(D1, time(10, 0)))
    assert svc.process(intraday(D1, time(10, 30))).fills == ()  # low 99.5 > 99
    # 11:00 bar: opens 99.8, low 98.9 <= 99: filled at the 99 limit, stamped at its close.
    (fill,) = svc.process(intraday(D1, time(11, 0), (99.8, 100.0, 98.9, 99.2))).fills
    assert (fill.price, fill.timestamp) == (D(99), at(D1, time(11, 0)))


def test_a_day_order_decided_at_the_close_lives_through_the_next_session() -> None:
    svc = SimulatedExecutionService()
    svc.process(intraday(D1, time(16, 0)))
    placed = svc.submit(far_limit(), at=at(D1, time(16, 0)))
    # It becomes active on D2's 10:00 bar: D2 is its session, until D2's 16:00 bar.
    for clock in HALF_HOURS[:-1]:
        assert svc.process(intraday(D2, clock)).updates == ()
    (update,) = svc.process(intraday(D2, time(16, 0))).updates
    assert (update.order_id, update.status) == (placed.id, OrderStatus.EXPIRED)
    assert "2024-01-03" in update.reason


def test_a_day_order_whose_session_had_no_closing_bar_expires_before_the_next_session() -> None:
    # D1 closes early (last bar 13:00, before the configured 16:00 close). The order is
    # still working after it; the first bar of D2 shows the session is over: it expires
    # before that bar trades, though the bar would have filled it (low 89 <= 90).
    svc = SimulatedExecutionService()
    svc.process(intraday(D1, time(10, 0)))
    placed = svc.submit(far_limit(), at=at(D1, time(10, 0)))
    for clock in HALF_HOURS[1:7]:  # 10:30 ... 13:00
        assert svc.process(intraday(D1, clock)).updates == ()
    report = svc.process(intraday(D2, time(10, 0), (95.0, 96.0, 89.0, 92.0)))
    assert report.fills == ()
    (update,) = report.updates
    assert (update.order_id, update.status, update.timestamp) == (
        placed.id,
        OrderStatus.EXPIRED,
        at(D2, time(10, 0)),
    )
    assert update.reason == (
        "DAY order not filled in its session 2024-01-02 (which had no bar at its close)"
    )


def test_sessions_are_in_the_instruments_zone() -> None:
    # Tokyo, 09:00-15:00 JST. The bars are stamped in New York time: 09:30 JST on
    # 2024-01-04 is 19:30 New York on 2024-01-03, 15:00 JST is 01:00 New York on 01-04.
    # In New York's zone these would be two sessions and no bar would reach 16:00; in
    # the instrument's zone they are one session ending at the 15:00 bar.
    config = load_execution_config({"session": {"open": "09:00", "close": "15:00"}})
    svc = SimulatedExecutionService(
        config, instruments=[Instrument(symbol="JJJ", timezone="Asia/Tokyo")]
    )

    def tokyo_bar(clock: time) -> BarSlice:
        return intraday(D3, clock, zone=TOKYO, symbol="JJJ")

    first = tokyo_bar(time(9, 30))
    assert first.timestamp.astimezone(NY) == at(D2, time(19, 30))
    svc.process(first)
    placed = svc.submit(
        OrderRequest(
            strategy_id="s1",
            symbol="JJJ",
            side=Side.BUY,
            quantity=D(10),
            type="limit",
            limit_price=D(90),
            time_in_force=TimeInForce.DAY,
        ),
        at=first.timestamp,
    )
    assert svc.process(tokyo_bar(time(12, 0))).updates == ()
    (update,) = svc.process(tokyo_bar(time(15, 0))).updates
    assert (update.order_id, update.status) == (placed.id, OrderStatus.EXPIRED)
    assert update.reason == "DAY order not filled in its session 2024-01-04"


def test_an_order_for_a_symbol_without_an_instrument_is_rejected_when_instruments_are_given() -> (
    None
):
    svc = SimulatedExecutionService(instruments=[Instrument(symbol="JJJ")])
    placed = svc.submit(request(), at=ny_close(D1))
    assert svc.open_orders() == ()
    # The rejection is reported with the next bars, stamped at the decision.
    (update,) = svc.process(daily(D2, FLAT)).updates
    assert (update.order_id, update.status, update.timestamp) == (
        placed.id,
        OrderStatus.REJECTED,
        ny_close(D1),
    )
    assert update.reason == "unknown symbol 'AAA' (strategy s1); the venue trades ['JJJ']"


# -- GTD -----------------------------------------------------------------------------


def test_gtd_trades_until_its_expiry_then_expires() -> None:
    svc = SimulatedExecutionService()
    order = far_limit(TimeInForce.GTD, expire_at=ny_close(D3))
    placed = svc.submit(order, at=ny_close(D1))
    # D2 and D3 end at or before 16:00 on D3: the order works through both.
    assert svc.process(daily(D2, FLAT)).updates == ()
    (update,) = svc.process(daily(D3, FLAT)).updates
    assert (update.order_id, update.status, update.timestamp) == (
        placed.id,
        OrderStatus.EXPIRED,
        ny_close(D3),
    )
    assert update.reason == "GTD order expired at 2024-01-04 16:00:00-05:00"


def test_gtd_fills_inside_its_last_bar_only_at_the_open() -> None:
    # Expires at 12:00 on D2. The D2 bar opened at 09:30, before the expiry: a fill at the
    # open is certainly in time. A fill inside the bar is known only at 16:00 and may have
    # happened after 12:00: refused.
    noon = at(D2, time(12, 0))
    svc = SimulatedExecutionService()
    at_open = svc.submit(
        request(TimeInForce.GTD, type="limit", limit_price=D(101), expire_at=noon),
        at=ny_close(D1),
    )
    inside = svc.submit(
        request(TimeInForce.GTD, type="limit", limit_price=D(99), expire_at=noon),
        at=ny_close(D1),
    )
    # D2 opens 100 (<= 101: the first fills at the open), low 98.5 (<= 99: the second
    # would fill inside the bar).
    report = svc.process(daily(D2, (100.0, 100.5, 98.5, 99.0)))
    assert [(f.order_id, f.price, f.timestamp) for f in report.fills] == [
        (at_open.id, D(100), ny_open(D2))
    ]
    assert [(u.order_id, u.status) for u in report.updates] == [(inside.id, OrderStatus.EXPIRED)]


def test_gtd_that_expired_before_the_bar_opened_never_meets_it() -> None:
    svc = SimulatedExecutionService()
    placed = svc.submit(request(TimeInForce.GTD, expire_at=at(D2, time(9, 0))), at=ny_close(D1))
    report = svc.process(daily(D2, FLAT))  # opens 09:30, after the 09:00 expiry
    assert report.fills == ()
    assert [(u.order_id, u.status, u.timestamp) for u in report.updates] == [
        (placed.id, OrderStatus.EXPIRED, ny_close(D2))
    ]


# -- IOC and FOK ------------------------------------------------------------------------


def test_ioc_not_reached_on_its_first_bar_is_cancelled() -> None:
    svc = SimulatedExecutionService()
    placed = svc.submit(far_limit(TimeInForce.IOC), at=ny_close(D1))
    (update,) = svc.process(daily(D2, FLAT)).updates
    assert (update.order_id, update.status, update.timestamp) == (
        placed.id,
        OrderStatus.CANCELLED,
        ny_close(D2),
    )
    assert update.reason == "IOC order: 10 of 10 not filled on its first bar"


def test_ioc_fills_what_the_volume_allows_and_cancels_the_rest() -> None:
    # participation 0.1 x volume 600 = 60 of the 100 asked.
    svc = SimulatedExecutionService(load_execution_config({"fill": {"participation": "0.1"}}))
    placed = svc.submit(request(TimeInForce.IOC, quantity="100"), at=ny_close(D1))
    report = svc.process(daily(D2, FLAT, volume=600))
    assert [(f.quantity, f.price) for f in report.fills] == [(D(60), D(100))]
    (update,) = report.updates
    assert (update.order_id, update.status) == (placed.id, OrderStatus.CANCELLED)
    assert update.reason == "IOC order: 40 of 100 not filled on its first bar"


def test_ioc_waits_for_its_first_bar() -> None:
    # A bar of another symbol is not the order's first bar.
    svc = SimulatedExecutionService()
    svc.submit(request(TimeInForce.IOC), at=ny_close(D1))
    other = BarSlice.from_bars([make_bar("BBB", D2, 50.0)], opened_at=ny_open(D2))
    assert svc.process(other).updates == ()
    assert [f.price for f in svc.process(daily(D3, FLAT)).fills] == [D(100)]


@pytest.mark.parametrize(
    ("volume", "filled", "reason"),
    [
        # 0.1 x 2000 = 200 >= 100: all of it, at the 100 open.
        (2000.0, [(D(100), D(100))], None),
        # 0.1 x 600 = 60 < 100: fill or kill -> nothing, and cancelled.
        (600.0, [], "FOK order: only 60 of 100 within the participation cap on its first bar"),
    ],
)
def test_fok_fills_in_full_or_not_at_all(
    volume: float, filled: list[tuple[Decimal, Decimal]], reason: str | None
) -> None:
    svc = SimulatedExecutionService(load_execution_config({"fill": {"participation": "0.1"}}))
    svc.submit(request(TimeInForce.FOK, quantity="100"), at=ny_close(D1))
    report = svc.process(daily(D2, FLAT, volume=volume))
    assert [(f.quantity, f.price) for f in report.fills] == filled
    assert [u.reason for u in report.updates] == ([] if reason is None else [reason])
    assert svc.open_orders() == ()


def test_fok_whose_price_is_not_reached_is_cancelled() -> None:
    svc = SimulatedExecutionService()
    svc.submit(far_limit(TimeInForce.FOK), at=ny_close(D1))
    (update,) = svc.process(daily(D2, FLAT)).updates
    assert update.status is OrderStatus.CANCELLED
    assert update.reason == "FOK order: its price was not reached on its first bar (all 10)"


# -- market-on-open and market-on-close ------------------------------------------------


def test_market_on_open_decided_intraday_fills_at_the_next_sessions_open() -> None:
    svc = SimulatedExecutionService()
    svc.process(intraday(D1, time(10, 0)))
    placed = svc.submit(request(type="market_on_open"), at=at(D1, time(10, 0)))
    for clock in HALF_HOURS[1:]:  # the rest of D1: no open there
        assert svc.process(intraday(D1, clock)).fills == ()
    # A pre-market bar of D2 (07:30-08:00) does not open the session either.
    assert svc.process(intraday(D2, time(8, 0))).fills == ()
    # D2's 09:30-10:00 bar opens the session: filled at its open, 101.5, stamped 09:30.
    (fill,) = svc.process(intraday(D2, time(10, 0), (101.5, 102.0, 101.0, 101.8))).fills
    assert (fill.order_id, fill.price, fill.timestamp) == (
        placed.id,
        D("101.5"),
        at(D2, time(9, 30)),
    )


def test_market_on_open_decided_before_the_open_fills_the_same_day() -> None:
    svc = SimulatedExecutionService()
    svc.process(intraday(D1, time(8, 0)))  # a pre-market bar
    svc.submit(request(type="market_on_open"), at=at(D1, time(8, 0)))
    assert svc.process(intraday(D1, time(9, 0))).fills == ()  # still pre-market
    (fill,) = svc.process(intraday(D1, time(10, 0), (100.2, 100.4, 100.0, 100.1))).fills
    assert (fill.price, fill.timestamp) == (D("100.2"), at(D1, time(9, 30)))


def test_a_post_market_bar_closes_no_session_for_market_on_close_or_day() -> None:
    # D1's 16:00-16:30 bar is after the close: it used to count as the session's last
    # bar, so a market-on-close decided at 16:00 filled at 16:30 (100.5) and a DAY order
    # decided then traded there and expired there, never seeing D2. A DAY order is for the
    # next regular session: not even its 98.5 low fills the 99 limit.
    svc = SimulatedExecutionService()
    svc.process(intraday(D1, time(16, 0)))
    moc = svc.submit(request(type="market_on_close"), at=at(D1, time(16, 0)))
    day = svc.submit(
        request(TimeInForce.DAY, type="limit", limit_price=D(99)), at=at(D1, time(16, 0))
    )
    after_hours = svc.process(intraday(D1, time(16, 30), (100.0, 101.0, 98.5, 100.5)))
    assert (after_hours.fills, after_hours.updates) == ((), ())
    # D2 10:00 reaches 98: the DAY limit buys at 99. The 16:00 bar closes D2: the
    # market-on-close fills at its close, 102.5, and nothing is left working.
    (limit_fill,) = svc.process(intraday(D2, time(10, 0), (100.0, 101.0, 98.0, 100.0))).fills
    assert (limit_fill.order_id, limit_fill.price) == (day.id, D(99))
    (close_fill,) = svc.process(intraday(D2, time(16, 0), (102.0, 103.0, 101.0, 102.5))).fills
    assert (close_fill.order_id, close_fill.price) == (moc.id, D("102.5"))
    assert svc.open_orders() == ()


def test_market_on_open_never_fills_on_a_post_market_bar() -> None:
    # Decided before D1's open, but D1's next bar is after its close (a halted day):
    # that bar opens no session; D2's 09:30-10:00 bar does (its open, 101).
    svc = SimulatedExecutionService()
    svc.process(intraday(D1, time(8, 0)))
    svc.submit(request(type="market_on_open"), at=at(D1, time(8, 0)))
    assert svc.process(intraday(D1, time(16, 30))).fills == ()
    (fill,) = svc.process(intraday(D2, time(10, 0), (101.0, 101.5, 100.5, 101.2))).fills
    assert (fill.price, fill.timestamp) == (D(101), at(D2, time(9, 30)))


def test_market_on_close_fills_at_the_close_of_its_session_not_the_next_bar() -> None:
    svc = SimulatedExecutionService()
    svc.process(intraday(D1, time(10, 0)))
    placed = svc.submit(request(side=Side.SELL, type="market_on_close"), at=at(D1, time(10, 0)))
    for clock in HALF_HOURS[1:-1]:
        assert svc.process(intraday(D1, clock)).fills == ()
    # The 16:00 bar closes the session: filled at its close, 100.25, stamped 16:00.
    (fill,) = svc.process(intraday(D1, time(16, 0), (100.0, 100.5, 99.9, 100.25))).fills
    assert (fill.order_id, fill.price, fill.timestamp) == (
        placed.id,
        D("100.25"),
        at(D1, time(16, 0)),
    )


def test_market_on_close_never_fills_at_the_close_that_decided_it() -> None:
    # Decided on D1's daily bar (its close, 100): it fills at D2's close, 103, not 100.
    svc = SimulatedExecutionService()
    svc.process(daily(D1, (99.0, 100.5, 98.5, 100.0)))
    svc.submit(request(type="market_on_close"), at=ny_close(D1))
    (fill,) = svc.process(daily(D2, (101.0, 103.5, 100.5, 103.0))).fills
    assert (fill.price, fill.timestamp) == (D(103), ny_close(D2))


def test_market_on_close_partly_filled_at_the_close_is_cancelled_for_the_rest() -> None:
    # participation 0.05 x 1000 = 50 of 80 at the close; the rest cannot wait a session.
    svc = SimulatedExecutionService(load_execution_config({"fill": {"participation": "0.05"}}))
    placed = svc.submit(request(quantity="80", type="market_on_close"), at=ny_close(D1))
    report = svc.process(daily(D2, FLAT))
    assert [f.quantity for f in report.fills] == [D(50)]
    (update,) = report.updates
    assert (update.order_id, update.status) == (placed.id, OrderStatus.CANCELLED)
    assert update.reason == (
        "market-on-close order: 30 of 80 not filled at the close of 2024-01-03"
    )


def test_day_market_on_open_decided_intraday_is_good_for_the_session_it_opens() -> None:
    # DAY counts from the session in which the order becomes active: for a market-on-open
    # decided at 10:00 on D1 that is D2 (the session it opens), so it does not expire at
    # D1's close.
    svc = SimulatedExecutionService()
    svc.process(intraday(D1, time(10, 0)))
    svc.submit(request(TimeInForce.DAY, type="market_on_open"), at=at(D1, time(10, 0)))
    assert svc.process(intraday(D1, time(16, 0))).updates == ()
    (fill,) = svc.process(intraday(D2, time(10, 0))).fills
    assert fill.timestamp == at(D2, time(9, 30))


def test_session_times_must_be_quoted_and_ordered() -> None:
    with pytest.raises(ExecutionConfigError, match="quoted string such as '16:00'"):
        load_execution_config({"session": {"close": 960}})
    with pytest.raises(ExecutionConfigError, match="open 16:00:00 must be before close"):
        load_execution_config({"session": {"open": "16:00", "close": "09:30"}})
    with pytest.raises(ExecutionConfigError, match="unknown timezone 'Mars/Base'"):
        load_execution_config({"session": {"timezone": "Mars/Base"}})
    with pytest.raises(ExecutionConfigError, match="must be a local time without offset"):
        load_execution_config({"session": {"close": "16:00:00+01:00"}})


def two_lengths(day: date, clock: time, aaa: tuple[float, float, float, float]) -> BarSlice:
    """AAA's 30-minute bar and GGG's hourly bar, both stamped ``clock``."""
    stamp = at(day, clock)
    o, h, lo, c = aaa
    return BarSlice(
        timestamp=stamp,
        opened_at=stamp - timedelta(hours=1),
        symbols=("AAA", "GGG"),
        open=np.array([o, 50.0]),
        high=np.array([h, 51.0]),
        low=np.array([lo, 49.0]),
        close=np.array([c, 50.5]),
        volume=np.array([1000.0, 1000.0]),
        bars_opened_at=(stamp - timedelta(minutes=30), stamp - timedelta(hours=1)),
    )


def test_each_symbols_own_bar_decides_its_session_and_its_fill_time() -> None:
    # At 16:30 AAA's bar (16:00-16:30) is post-market; GGG's hourly one (15:30-16:30) is not.
    # The slice opened at 15:30, the earliest: AAA's market-on-close used to fill there, and
    # a market order of AAA filled stamped 15:30, before AAA's bar began.
    svc = SimulatedExecutionService()
    svc.process(intraday(D1, time(16, 0)))
    moc = svc.submit(request(type="market_on_close"), at=at(D1, time(16, 0)))
    market = svc.submit(request(), at=at(D1, time(16, 0)))
    report = svc.process(two_lengths(D1, time(16, 30), (100.0, 101.0, 99.0, 100.5)))
    (fill,) = report.fills
    assert (fill.order_id, fill.price, fill.timestamp) == (market.id, D(100), at(D1, time(16, 0)))
    (close,) = svc.process(two_lengths(D2, time(16, 0), (102.0, 103.0, 101.0, 102.5))).fills
    assert (close.order_id, close.price) == (moc.id, D("102.5"))


def test_a_bar_that_opened_before_the_decision_never_fills_it() -> None:
    # Decided at 10:30 on AAA's 30-minute bar (10:00-10:30): GGG's hourly bar stamped 11:00
    # (10:00-11:00) opened half an hour before the order existed, so its open (50) is a price
    # from before the decision. It used to fill there, stamped 10:00. GGG's next bar (11:00-
    # 12:00) opened after the decision: the order fills at its open, stamped 11:00.
    svc = SimulatedExecutionService()
    svc.process(intraday(D1, time(10, 30)))
    order = svc.submit(request(symbol="GGG"), at=at(D1, time(10, 30)))
    stamp = at(D1, time(11, 0))
    ggg_only = BarSlice(
        timestamp=stamp,
        opened_at=stamp - timedelta(hours=1),
        symbols=("GGG",),
        open=np.array([50.0]),
        high=np.array([51.0]),
        low=np.array([49.0]),
        close=np.array([50.5]),
        volume=np.array([1000.0]),
    )
    assert svc.process(ggg_only).fills == ()
    (fill,) = svc.process(two_lengths(D1, time(12, 0), (100.0, 101.0, 99.0, 100.5))).fills
    assert (fill.order_id, fill.price, fill.timestamp) == (order.id, D(50), at(D1, time(11, 0)))


def test_on_a_bar_that_opened_before_the_decision_day_ends_and_on_close_fills() -> None:
    # Decided at 15:30 for GGG, whose hourly bar 15:00-16:00 closes the session: it cannot
    # trade on that bar's open or range (partly before the decision), but its close (50.5)
    # comes after, and its session ends on it. The DAY buy limit at 60 (the bar's range
    # reaches it) expires at 16:00 instead of living into the next session; the
    # market-on-close fills at 50.5 instead of a session late.
    svc = SimulatedExecutionService()
    svc.process(intraday(D1, time(15, 30)))
    day = svc.submit(
        request(TimeInForce.DAY, symbol="GGG", type="limit", limit_price=D(60)),
        at=at(D1, time(15, 30)),
    )
    on_close = svc.submit(request(symbol="GGG", type="market_on_close"), at=at(D1, time(15, 30)))
    report = svc.process(two_lengths(D1, time(16, 0), (100.0, 101.0, 99.0, 100.5)))
    assert [(f.order_id, f.price, f.timestamp) for f in report.fills] == [
        (on_close.id, D("50.5"), at(D1, time(16, 0)))
    ]
    expired = [u for u in report.updates if u.order_id == day.id]
    assert [(u.status, u.reason) for u in expired] == [
        (OrderStatus.EXPIRED, f"DAY order not filled in its session {D1}")
    ]
