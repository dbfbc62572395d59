"""The next-open fill model against bar shapes: gaps, touches, inside bars, wide ranges."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qtrader.execution import (
    BarPrices,
    ExecutionConfig,
    Match,
    NextOpenFillModel,
    SimulatedExecutionService,
)
from qtrader.models import BarSlice, Order, OrderRequest, OrderType, Side
from qtrader.models.testing import make_bar, ny_close
from qtrader.models.testing.builders import ny_open

D1, D2, D3 = date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)
D = Decimal


def request(
    side: Side, kind: OrderType, *, limit: str | None = None, stop: str | None = None
) -> OrderRequest:
    return OrderRequest(
        strategy_id="s1",
        symbol="AAA",
        side=side,
        quantity=D(10),
        type=kind,
        limit_price=None if limit is None else D(limit),
        stop_price=None if stop is None else D(stop),
    )


def bar(day: date, o: float, h: float, lo: float, c: float) -> BarSlice:
    return BarSlice.from_bars(
        [make_bar("AAA", day, c, open=o, high=h, low=lo)], opened_at=ny_open(day)
    )


BUY, SELL = Side.BUY, Side.SELL
LIMIT, STOP, STOP_LIMIT = OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT


def parse(spec: str) -> OrderRequest:
    """``"buy limit 99"``, ``"sell stop 95"``, ``"buy stop_limit 105 106"`` (stop, then limit)."""
    side, kind, *prices = spec.split()
    order_type = OrderType(kind)
    if order_type is STOP_LIMIT:
        return request(Side(side), order_type, stop=prices[0], limit=prices[1])
    if order_type is STOP:
        return request(Side(side), order_type, stop=prices[0])
    return request(Side(side), order_type, limit=prices[0])


def case(
    name: str, spec: str, ohlc: tuple[float, ...], expected: str | None, at_open: bool = False
) -> object:
    return pytest.param(spec, ohlc, expected, at_open, id=name)


# order, bar (open, high, low, close), expected price (None: no fill), filled at the open?
CASES = [
    case("buy limit inside bar", "buy limit 99", (100, 101, 98.5, 100), "99"),
    case("buy limit exact touch", "buy limit 99", (100, 101, 99, 100), "99"),
    case("buy limit not touched", "buy limit 99", (100, 101, 99.01, 100), None),
    # Opens at 97, below the 99 limit: marketable at the open, the better price.
    case("buy limit gap down", "buy limit 99", (97, 98, 96.5, 97.5), "97", at_open=True),
    case("sell limit inside bar", "sell limit 105", (103, 105.5, 102, 104), "105"),
    case("sell limit not touched", "sell limit 105", (103, 104.99, 102, 104), None),
    case("sell limit gap up", "sell limit 105", (106, 107, 105.5, 106), "106", at_open=True),
    case("buy stop inside bar", "buy stop 105", (103, 106, 102, 105.5), "105"),
    case("buy stop exact touch", "buy stop 105", (103, 105, 102, 104), "105"),
    case("buy stop not triggered", "buy stop 105", (103, 104.99, 102, 104), None),
    # Opens at 107, above the 105 stop: fills at the worse open, never at the stop.
    case("buy stop gap up", "buy stop 105", (107, 108, 106, 107.5), "107", at_open=True),
    case("sell stop inside bar", "sell stop 95", (97, 98, 94, 96), "95"),
    case("sell stop not triggered", "sell stop 95", (97, 98, 95.01, 96), None),
    case("sell stop gap down", "sell stop 95", (93, 94, 92, 93.5), "93", at_open=True),
    # Buy stop 105 limit 106. Opens 103, triggers at 105 <= 106: fills at 105.
    case("buy stop-limit within", "buy stop_limit 105 106", (103, 107, 102, 106), "105"),
    # Opens at 105.5 (triggered at the open, within the limit): fills at the open.
    case("buy stop-limit open", "buy stop_limit 105 106", (105.5, 107, 105, 106), "105.5", True),
    # Opens at 107.5 (triggered at the open, above 106), later trades down to 105.5: 106.
    case("buy stop-limit gap back", "buy stop_limit 105 106", (107.5, 109, 105.5, 108), "106"),
    case("buy stop-limit gap away", "buy stop_limit 105 106", (107.5, 109, 107, 108), None),
    case("buy stop-limit untriggered", "buy stop_limit 105 106", (103, 104, 102, 103.5), None),
    # Sell stop 95 limit 94. Opens 97, triggers at 95 >= 94: fills at 95.
    case("sell stop-limit within", "sell stop_limit 95 94", (97, 98, 93, 94), "95"),
    # Opens at 92.5 (triggered at the open, below 94), trades back up to 94.5: 94.
    case("sell stop-limit gap back", "sell stop_limit 95 94", (92.5, 94.5, 92, 93), "94"),
    case("sell stop-limit gap away", "sell stop_limit 95 94", (92.5, 93.5, 92, 93), None),
]


@pytest.mark.parametrize(("spec", "ohlc", "expected", "at_open"), CASES)
def test_fill_price_for_bar_shape(
    spec: str, ohlc: tuple[float, ...], expected: str | None, at_open: bool
) -> None:
    svc = SimulatedExecutionService(ExecutionConfig())
    svc.submit(parse(spec), at=ny_close(D1))
    o, h, lo, c = map(float, ohlc)
    report = svc.process(bar(D2, o, h, lo, c))
    if expected is None:
        assert report.fills == ()
        assert len(svc.open_orders()) == 1
        return
    (fill,) = report.fills
    assert fill.price == D(expected)
    assert fill.timestamp == (ny_open(D2) if at_open else ny_close(D2))


def test_stop_limit_triggered_but_unfilled_rests_as_a_limit() -> None:
    # Buy stop 105, limit 104 (limit under the stop). D2 opens at 103 and trades up to 108:
    # triggered at 105 > 104, and whether the low of 102 came after the trigger is unknown,
    # so no fill in D2. From D3 on it is a plain buy limit at 104.
    svc = SimulatedExecutionService(ExecutionConfig())
    svc.submit(request(BUY, STOP_LIMIT, stop="105", limit="104"), at=ny_close(D1))
    assert svc.process(bar(D2, 103, 108, 102, 106)).fills == ()
    # D3 opens at 103.5 <= 104 (never reaching the 105 stop again): fills at the open.
    (fill,) = svc.process(bar(D3, 103.5, 104.5, 103, 104)).fills
    assert fill.price == D("103.5")


def test_untriggered_stop_limit_ignores_a_limit_touch() -> None:
    # Buy stop 105 limit 106: a bar with low 100 and high 104 never triggers the stop,
    # so the low under the limit must not fill it.
    model = NextOpenFillModel()
    order = Order(
        **request(BUY, STOP_LIMIT, stop="105", limit="106").model_dump(),
        id="O-1",
        created_at=ny_close(D1),
    )
    prices = BarPrices(open=D(102), high=D(104), low=D(100), close=D(103))
    assert model.match(order, False, prices) == Match(price=None)
    # Once triggered (in an earlier bar) the same bar is a limit fill at the 102 open.
    assert model.match(order, True, prices) == Match(price=D(102), at_open=True, triggered=True)


prices_st = st.decimals(min_value=D("0.01"), max_value=D("1000"), places=2)


@given(
    side=st.sampled_from([BUY, SELL]),
    # A trailing stop reaches the fill model as a stop (the service converts it).
    kind=st.sampled_from([k for k in OrderType if k is not OrderType.TRAILING_STOP]),
    first=prices_st,
    second=prices_st,
    ohlc=st.lists(prices_st, min_size=4, max_size=4),
    triggered=st.booleans(),
)
def test_no_fill_outside_the_bar_range(
    side: Side,
    kind: OrderType,
    first: Decimal,
    second: Decimal,
    ohlc: list[Decimal],
    triggered: bool,
) -> None:
    low, high = min(ohlc), max(ohlc)
    o, c = ohlc[1], ohlc[2]
    if not (low <= o <= high and low <= c <= high):  # pragma: no cover - always true
        return
    order = Order(
        strategy_id="s1",
        symbol="AAA",
        side=side,
        quantity=D(1),
        type=kind,
        limit_price=first if kind in (LIMIT, STOP_LIMIT) else None,
        stop_price=second if kind in (STOP, STOP_LIMIT) else None,
        id="O-1",
        created_at=ny_close(D1),
    )
    match = NextOpenFillModel().match(order, triggered, BarPrices(o, high, low, c))
    if match.price is None:
        return
    assert low <= match.price <= high
    if order.limit_price is not None:  # never worse than the limit
        assert match.price <= order.limit_price if side is BUY else match.price >= order.limit_price
    if match.at_open:
        assert match.price == o
