"""Working orders indexed by symbol and strategy: a bar visits only its symbols' orders,
in submission order across symbols, and every index follows adds, fills, cancels and splits.
Orders and fills built without validating again; bar prices made exact when read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from qtrader.execution import (
    BarPrices,
    ExecutionConfig,
    ExecutionError,
    SimulatedExecutionService,
)
from qtrader.execution._book import OrderBook
from qtrader.models import (
    ExecutionReport,
    Fill,
    OrderRequest,
    OrderStatus,
    Side,
    Signal,
    SignalDirection,
    Split,
)
from qtrader.models.testing import daily_slices, ny_close

D1, D2, D3 = date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)


def request(symbol: str, strategy: str = "s1", limit: str | None = None) -> OrderRequest:
    return OrderRequest(
        strategy_id=strategy,
        symbol=symbol,
        side=Side.BUY,
        quantity=Decimal(10),
        type="market" if limit is None else "limit",
        limit_price=None if limit is None else Decimal(limit),
    )


def test_fills_follow_submission_order_across_the_symbols_that_have_a_bar() -> None:
    svc = SimulatedExecutionService()
    d1, d2, d3 = daily_slices(
        [D1, D2, D3],
        {
            "AAA": [(10.0, 10.0), (11.0, 11.0), (12.0, 12.0)],
            "BBB": [(20.0, 20.0), None, (22.0, 22.0)],
            "CCC": [(30.0, 30.0), (31.0, 31.0), (32.0, 32.0)],
        },
    )
    svc.process(d1)
    placed = [
        svc.submit(request(symbol, strategy), at=ny_close(D1))
        for symbol, strategy in [("CCC", "s1"), ("BBB", "s2"), ("AAA", "s1"), ("CCC", "s2")]
    ]
    assert svc.open_orders() == tuple(placed)
    assert svc.open_orders() is svc.open_orders()  # kept until the book changes
    assert svc.open_orders("s2") == (placed[1], placed[3])
    assert svc.open_orders("s9") == ()
    report = svc.process(d2)  # no BBB bar: its order waits
    assert [(f.id, f.order_id) for f in report.fills] == [
        ("F-000001", "O-000001"),
        ("F-000002", "O-000003"),
        ("F-000003", "O-000004"),
    ]
    assert svc.open_orders() == (placed[1],)
    assert svc.open_orders("s1") == ()
    assert [f.order_id for f in svc.process(d3).fills] == ["O-000002"]
    assert svc.open_orders() == ()
    assert svc.process(daily_slices([date(2024, 1, 5)], {"AAA": [(1.0, 1.0)]})[0]) == (
        ExecutionReport()
    )


def test_a_bar_of_one_symbol_visits_that_symbol_only() -> None:
    svc = SimulatedExecutionService()
    for symbol in ("AAA", "BBB", "AAA", "CCC"):
        svc.submit(request(symbol, limit="5"), at=ny_close(D1))
    (d2,) = daily_slices([D2], {"AAA": [(10.0, 10.0)]})
    book = svc._book
    assert [w.order.id for w in book.of_symbols(d2)] == ["O-000001", "O-000003"]
    assert [w.order.id for w in book.of_symbols(d2, d2.symbols)] == ["O-000001", "O-000003"]
    assert svc.process(d2).fills == ()  # limits not reached


def test_the_book_walks_the_bars_symbols_when_they_are_fewer_still_in_submission_order() -> None:
    svc = SimulatedExecutionService()
    for symbol in ("CCC", "AAA", "DDD", "CCC", "EEE", "AAA"):
        svc.submit(request(symbol), at=ny_close(D1))
    # Two symbols have bars, five have orders: the book walks the two, listed AAA first,
    # and still hands the orders over in submission order.
    (d2,) = daily_slices([D2], {"AAA": [(10.0, 10.0)], "CCC": [(30.0, 30.0)]})
    assert [w.order.id for w in svc._book.of_symbols(d2, d2.symbols)] == [
        "O-000001",
        "O-000002",
        "O-000004",
        "O-000006",
    ]
    assert [f.order_id for f in svc.process(d2).fills] == [
        "O-000001",
        "O-000002",
        "O-000004",
        "O-000006",
    ]


def test_the_index_follows_cancels_and_splits() -> None:
    svc = SimulatedExecutionService()
    first = svc.submit(request("AAA", limit="40"), at=ny_close(D1))
    second = svc.submit(request("BBB"), at=ny_close(D1))
    before = svc.open_orders()
    assert svc.apply_action(Split(symbol="AAA", ex_date=D2, ratio=Decimal(4)), ny_close(D1)) == ()
    adjusted = svc.open_orders()
    assert adjusted is not before
    assert adjusted[0].limit_price == Decimal(10)
    assert adjusted[0].quantity == Decimal(40)
    assert svc.open_orders("s1") == adjusted
    update = svc.cancel(first.id, ny_close(D1))
    assert update is not None
    assert update.status is OrderStatus.CANCELLED
    assert svc.open_orders() == (second,)
    assert svc._book.of_symbol("AAA") == []
    cancel = SimulatedExecutionService(ExecutionConfig(on_split="cancel"))
    placed = cancel.submit(request("AAA"), at=ny_close(D1))
    (update,) = cancel.apply_action(Split(symbol="AAA", ex_date=D2, ratio=Decimal(2)), ny_close(D1))
    assert (update.order_id, update.status) == (placed.id, OrderStatus.CANCELLED)
    assert cancel.open_orders() == ()


def test_replacing_a_working_order_keeps_its_identity() -> None:
    book = OrderBook()
    order = SimulatedExecutionService().submit(request("AAA"), at=ny_close(D1))
    working = book.add(order)
    other = SimulatedExecutionService().submit(request("BBB"), at=ny_close(D1))
    with pytest.raises(ValueError, match="can only be replaced by the same order"):
        book.replace(working, other)


def test_orders_and_fills_are_the_models_validation_would_build() -> None:
    svc = SimulatedExecutionService()
    placed = svc.submit(request("AAA", limit="12"), at=ny_close(D1))
    assert type(placed).model_validate(placed.model_dump()) == placed
    assert placed.model_fields_set == set(type(placed).model_fields)
    (d2,) = daily_slices([D2], {"AAA": [(11.0, 11.5)]})
    (fill,) = svc.process(d2).fills
    assert Fill.model_validate(fill.model_dump()) == fill


def test_submit_refuses_what_is_not_an_order_request() -> None:
    signal = Signal(strategy_id="s1", symbol="AAA", direction=SignalDirection.LONG)
    with pytest.raises(ExecutionError, match="expected an OrderRequest, got Signal"):
        SimulatedExecutionService().submit(signal, at=ny_close(D1))  # type: ignore[arg-type]


def test_bar_prices_from_columns_are_made_exact_when_read() -> None:
    columns = [np.array([1.0, value]) for value in (10.25, 11.5, 9.75, 10.125)]
    lazy = BarPrices.from_columns(*columns, 1)
    eager = BarPrices(
        open=Decimal("10.25"), high=Decimal("11.5"), low=Decimal("9.75"), close=Decimal("10.125")
    )
    assert isinstance(lazy, BarPrices)
    assert lazy._made == [None, None, None, None, None]  # type: ignore[attr-defined]
    assert lazy.open == Decimal("10.25")
    assert lazy._made[1:] == [None, None, None, None]  # type: ignore[attr-defined]
    assert lazy.volume == Decimal(0)  # no volume column given: none
    assert (lazy.open, lazy.high, lazy.low, lazy.close) == (
        eager.open,
        eager.high,
        eager.low,
        eager.close,
    )
    assert lazy.open is lazy.open  # made once
    assert hash(lazy) == hash(eager)
    assert repr(lazy).endswith(repr(eager).removeprefix("BarPrices"))
    with pytest.raises(AttributeError):
        lazy.open = Decimal(1)  # type: ignore[misc]
