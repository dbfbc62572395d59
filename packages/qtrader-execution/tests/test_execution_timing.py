"""When orders become active, fill, wait, expire or are cancelled."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from qtrader.execution import ExecutionConfig, ExecutionError, SimulatedExecutionService
from qtrader.execution._book import OrderBook
from qtrader.models import (
    BarSlice,
    ExecutionService,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from qtrader.models.testing import daily_slices, make_bar, ny_close
from qtrader.models.testing.builders import ny_open

D1, D2, D3, D4, D5 = (date(2024, 1, d) for d in (2, 3, 4, 5, 8))


def order(
    symbol: str = "AAA",
    side: Side = Side.BUY,
    quantity: int = 10,
    *,
    limit: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
    strategy: str = "s1",
) -> OrderRequest:
    return OrderRequest(
        strategy_id=strategy,
        symbol=symbol,
        side=side,
        quantity=Decimal(quantity),
        type=OrderType.MARKET if limit is None else OrderType.LIMIT,
        limit_price=None if limit is None else Decimal(limit),
        time_in_force=tif,
    )


def bars(day: date, **ohlc: tuple[float, float, float, float]) -> BarSlice:
    """A slice of bars given as symbol=(open, high, low, close)."""
    return BarSlice.from_bars(
        [make_bar(s, day, c, open=o, high=h, low=lo) for s, (o, h, lo, c) in ohlc.items()],
        opened_at=ny_open(day),
    )


def test_implements_the_execution_port() -> None:
    svc = SimulatedExecutionService(ExecutionConfig())
    assert isinstance(svc, ExecutionService)
    assert svc.fill_model_name == "next_open"
    assert svc.config == ExecutionConfig()


def test_market_order_fills_at_next_open_not_on_the_bar_it_was_decided_on() -> None:
    svc = SimulatedExecutionService(ExecutionConfig())
    d1, d2 = daily_slices([D1, D2], {"AAA": [(99.0, 100.0), (101.0, 103.0)]})
    placed = svc.submit(order(), at=ny_close(D1))
    assert placed.id == "O-000001"
    assert placed.created_at == ny_close(D1)
    # The D1 bar is stamped at the decision time: the order must not see it.
    assert svc.process(d1).fills == ()
    report = svc.process(d2)
    (fill,) = report.fills
    # D2 opens at 101.0: the whole 10 shares at 101, stamped at D2's open.
    assert fill.id == "F-000001"
    assert fill.order_id == "O-000001"
    assert fill.strategy_id == "s1"
    assert (fill.symbol, fill.side, fill.quantity) == ("AAA", Side.BUY, Decimal(10))
    assert fill.price == Decimal("101.0")
    assert fill.commission == Decimal(0)
    assert fill.timestamp == ny_open(D2)
    assert report.updates == ()
    assert svc.open_orders() == ()


def test_order_waits_for_the_next_bar_of_its_own_symbol() -> None:
    svc = SimulatedExecutionService(ExecutionConfig())
    d1, d2, d3 = daily_slices(
        [D1, D2, D3],
        {
            "AAA": [(10.0, 10.0), (11.0, 11.0), (12.0, 12.0)],
            "BBB": [(50.0, 50.0), None, (52.5, 53.0)],
        },
    )
    svc.process(d1)
    svc.submit(order("BBB", tif=TimeInForce.DAY), at=ny_close(D1))
    # D2 has no BBB bar: nothing fills and the DAY order is not yet active, so it does not expire.
    report = svc.process(d2)
    assert (report.fills, report.updates) == ((), ())
    assert len(svc.open_orders()) == 1
    (fill,) = svc.process(d3).fills
    # BBB's next bar opens at 52.5 on D3.
    assert fill.price == Decimal("52.5")
    assert fill.timestamp == ny_open(D3)


def test_day_market_order_on_daily_bars_fills_at_next_open_and_does_not_expire() -> None:
    svc = SimulatedExecutionService(ExecutionConfig())
    d1, d2 = daily_slices([D1, D2], {"AAA": [(99.0, 100.0), (101.0, 103.0)]})
    svc.process(d1)
    svc.submit(order(tif=TimeInForce.DAY), at=ny_close(D1))
    report = svc.process(d2)
    # Active session = D2 (not D1, the submit session): it fills at D2's open of 101.
    assert [f.price for f in report.fills] == [Decimal("101.0")]
    assert report.updates == ()


def test_day_limit_order_expires_at_the_end_of_its_active_session() -> None:
    svc = SimulatedExecutionService(ExecutionConfig())
    svc.process(bars(D1, AAA=(100.0, 101.0, 99.0, 100.0)))
    placed = svc.submit(order(limit="95", tif=TimeInForce.DAY), at=ny_close(D1))
    # D2's low 96 stays above the 95 limit: no fill; the session of D2 is over.
    report = svc.process(bars(D2, AAA=(100.0, 101.0, 96.0, 97.0)))
    assert report.fills == ()
    (update,) = report.updates
    assert update.order_id == placed.id
    assert update.status is OrderStatus.EXPIRED
    assert update.timestamp == ny_close(D2)
    assert "2024-01-03" in update.reason
    assert svc.open_orders() == ()
    # D3 would have filled (low 94) but the order is gone.
    assert svc.process(bars(D3, AAA=(96.0, 97.0, 94.0, 95.0))).fills == ()


def test_gtc_limit_rests_across_bars_until_touched() -> None:
    svc = SimulatedExecutionService(ExecutionConfig())
    svc.process(bars(D1, AAA=(100.0, 101.0, 99.0, 100.0)))
    svc.submit(order(limit="95"), at=ny_close(D1))
    # D2 low 96, D3 low 95.5: both above 95, the order rests.
    for day, lo in ((D2, 96.0), (D3, 95.5)):
        report = svc.process(bars(day, AAA=(97.0, 98.0, lo, 97.0)))
        assert (report.fills, report.updates) == ((), ())
        assert len(svc.open_orders()) == 1
    # D4 opens at 96 (above the limit) and trades down to 94.5: filled at the limit, 95,
    # somewhere inside the bar, so stamped at the bar's close.
    (fill,) = svc.process(bars(D4, AAA=(96.0, 96.5, 94.5, 95.0))).fills
    assert fill.price == Decimal(95)
    assert fill.timestamp == ny_close(D4)


def test_cancel_a_working_order() -> None:
    svc = SimulatedExecutionService(ExecutionConfig())
    svc.process(bars(D1, AAA=(100.0, 101.0, 99.0, 100.0)))
    placed = svc.submit(order(limit="95"), at=ny_close(D1))
    update = svc.cancel(placed.id, at=ny_close(D1))
    assert update is not None
    assert (update.order_id, update.status, update.timestamp) == (
        "O-000001",
        OrderStatus.CANCELLED,
        ny_close(D1),
    )
    assert svc.open_orders() == ()
    # The D2 bar trades through 95, but the order is cancelled.
    assert svc.process(bars(D2, AAA=(94.0, 95.0, 93.0, 94.0))).fills == ()
    assert svc.cancel(placed.id, at=ny_close(D2)) is None
    assert svc.cancel("O-999999", at=ny_close(D2)) is None


def test_cancel_after_fill_returns_none() -> None:
    svc = SimulatedExecutionService(ExecutionConfig())
    placed = svc.submit(order(), at=ny_close(D1))
    svc.process(bars(D2, AAA=(10.0, 10.0, 10.0, 10.0)))
    assert svc.cancel(placed.id, at=ny_close(D2)) is None


def test_ids_count_up_and_fills_follow_submission_order() -> None:
    svc = SimulatedExecutionService(ExecutionConfig())
    first = svc.submit(order("BBB", strategy="s2"), at=ny_close(D1))
    second = svc.submit(order("AAA", side=Side.SELL, quantity=5), at=ny_close(D1))
    third = svc.submit(order("AAA", limit="1"), at=ny_close(D1))  # never touched
    assert [first.id, second.id, third.id] == ["O-000001", "O-000002", "O-000003"]
    assert svc.open_orders("s2") == (first,)
    assert svc.open_orders("s1") == (second, third)
    assert svc.open_orders() == (first, second, third)
    report = svc.process(bars(D2, AAA=(20.0, 21.0, 19.0, 20.0), BBB=(30.0, 31.0, 29.0, 30.0)))
    # Submission order (BBB first), not slice order; fill ids count separately.
    assert [(f.id, f.order_id, f.price) for f in report.fills] == [
        ("F-000001", "O-000001", Decimal("30.0")),
        ("F-000002", "O-000002", Decimal("20.0")),
    ]
    assert svc.open_orders() == (third,)


def test_warmup_slices_never_trade() -> None:
    svc = SimulatedExecutionService(ExecutionConfig())
    d1, d2, d3 = daily_slices(
        [D1, D2, D3], {"AAA": [(10.0, 10.0), (11.0, 11.0), (12.0, 12.0)]}, warmup=2
    )
    svc.submit(order(), at=ny_close(D1))
    assert svc.process(d1).fills == ()
    assert svc.process(d2).fills == ()  # warmup: active in time, but never traded
    assert [f.price for f in svc.process(d3).fills] == [Decimal("12.0")]


def test_order_submitted_ahead_of_the_bars_is_not_active_yet() -> None:
    svc = SimulatedExecutionService(ExecutionConfig())
    svc.submit(order(), at=ny_close(D3))
    assert svc.process(bars(D2, AAA=(10.0, 10.0, 10.0, 10.0))).fills == ()
    assert svc.process(bars(D3, AAA=(11.0, 11.0, 11.0, 11.0))).fills == ()
    assert [f.price for f in svc.process(bars(D4, AAA=(12.0, 12.0, 12.0, 12.0))).fills] == [
        Decimal("12.0")
    ]


def test_time_must_not_run_backwards() -> None:
    svc = SimulatedExecutionService(ExecutionConfig())
    svc.process(bars(D2, AAA=(10.0, 10.0, 10.0, 10.0)))
    with pytest.raises(ExecutionError, match=r"process: bars at 2024-01-03T16:00:00-05:00"):
        svc.process(bars(D2, AAA=(10.0, 10.0, 10.0, 10.0)))
    with pytest.raises(ExecutionError, match="submit: decision time 2024-01-02T16:00:00-05:00"):
        svc.submit(order(), at=ny_close(D1))
    assert svc.open_orders() == ()


def test_naive_times_are_refused() -> None:
    svc = SimulatedExecutionService()
    naive = datetime(2024, 1, 2, 16, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ExecutionError, match="submit: time 2024-01-02T16:00:00 must be timezone"):
        svc.submit(order(), at=naive)
    with pytest.raises(ExecutionError, match="cancel: time"):
        svc.cancel("O-000001", at=naive)


def test_times_in_other_zones_compare_as_instants() -> None:
    svc = SimulatedExecutionService()
    # 21:00 UTC on D1 is 16:00 New York: the D1 bar (stamped 16:00 NY) is the decision bar.
    svc.submit(order(), at=datetime(2024, 1, 2, 21, 0, tzinfo=ZoneInfo("UTC")))
    assert svc.process(bars(D1, AAA=(10.0, 10.0, 10.0, 10.0))).fills == ()
    assert len(svc.process(bars(D2, AAA=(11.0, 11.0, 11.0, 11.0))).fills) == 1


def test_the_book_refuses_a_duplicate_id() -> None:
    book = OrderBook()
    placed = SimulatedExecutionService().submit(order(), at=ny_close(D1))
    book.add(placed)
    with pytest.raises(ValueError, match="order id 'O-000001' is already working"):
        book.add(placed)


def test_an_order_submitted_again_is_a_new_order() -> None:
    svc = SimulatedExecutionService()
    first = svc.submit(order(limit="5"), at=ny_close(D1))
    again = svc.submit(first, at=ny_close(D2))
    assert (again.id, again.created_at, again.limit_price) == ("O-000002", ny_close(D2), Decimal(5))
