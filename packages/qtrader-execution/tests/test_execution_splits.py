"""Working orders across corporate actions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from qtrader.execution import ExecutionConfig, SimulatedExecutionService, SplitPolicy
from qtrader.models import (
    BarSlice,
    CashDividend,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    Split,
    TimeInForce,
)
from qtrader.models.testing import make_bar, ny_close
from qtrader.models.testing.builders import ny_open

D1, D2, D3 = date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)
D = Decimal


def limit(symbol: str, side: Side, quantity: str, price: str) -> OrderRequest:
    return OrderRequest(
        strategy_id="s1",
        symbol=symbol,
        side=side,
        quantity=D(quantity),
        type=OrderType.LIMIT,
        limit_price=D(price),
        time_in_force=TimeInForce.GTC,
    )


def bars(day: date, **ohlc: tuple[float, float, float, float]) -> BarSlice:
    return BarSlice.from_bars(
        [make_bar(s, day, c, open=o, high=h, low=lo) for s, (o, h, lo, c) in ohlc.items()],
        opened_at=ny_open(day),
    )


def test_split_adjusts_a_resting_500_limit_to_125_and_quantity_times_4() -> None:
    svc = SimulatedExecutionService(ExecutionConfig())
    svc.process(bars(D1, AAA=(520.0, 525.0, 515.0, 520.0)))
    placed = svc.submit(limit("AAA", Side.BUY, "10", "500"), at=ny_close(D1))
    # D2 low 505 > 500: rests.
    assert svc.process(bars(D2, AAA=(520.0, 522.0, 505.0, 512.0))).fills == ()
    updates = svc.apply_action(Split(symbol="AAA", ex_date=D3, ratio=D(4)), ny_close(D3))
    assert updates == ()
    (adjusted,) = svc.open_orders()
    # 10 x 4 = 40 shares; 500 / 4 = 125.
    assert (adjusted.id, adjusted.quantity, adjusted.limit_price) == (placed.id, D(40), D(125))
    assert adjusted.created_at == placed.created_at
    # Post-split D3 opens at 128 and trades down to 124: the adjusted limit fills at 125.
    # Unadjusted, the $500 limit would have "filled" at the 128 open.
    (fill,) = svc.process(bars(D3, AAA=(128.0, 129.0, 124.0, 126.0))).fills
    assert (fill.quantity, fill.price) == (D(40), D(125))


def test_reverse_split_and_stop_prices() -> None:
    svc = SimulatedExecutionService(ExecutionConfig())
    svc.submit(limit("AAA", Side.SELL, "100", "50"), at=ny_close(D1))
    stop = svc.submit(
        OrderRequest(
            strategy_id="s1",
            symbol="AAA",
            side=Side.SELL,
            quantity=D(30),
            type=OrderType.STOP_LIMIT,
            stop_price=D(40),
            limit_price=D("39.5"),
        ),
        at=ny_close(D1),
    )
    other = svc.submit(limit("BBB", Side.BUY, "7", "20"), at=ny_close(D1))
    # 1-for-10 reverse split: ratio 0.1. 100 x 0.1 = 10 shares at 50 / 0.1 = 500;
    # 30 x 0.1 = 3 shares, stop 40 / 0.1 = 400, limit 39.5 / 0.1 = 395.
    svc.apply_action(Split(symbol="AAA", ex_date=D2, ratio=D("0.1")), ny_close(D2))
    first, second, third = svc.open_orders()
    assert (first.quantity, first.limit_price) == (D(10), D(500))
    assert (second.id, second.quantity, second.stop_price, second.limit_price) == (
        stop.id,
        D(3),
        D(400),
        D(395),
    )
    assert third == other  # another symbol is untouched


def test_on_split_cancel_cancels_the_symbols_working_orders() -> None:
    svc = SimulatedExecutionService(ExecutionConfig(on_split=SplitPolicy.CANCEL))
    svc.process(bars(D1, AAA=(520.0, 525.0, 515.0, 520.0)))
    a = svc.submit(limit("AAA", Side.BUY, "10", "500"), at=ny_close(D1))
    b = svc.submit(limit("BBB", Side.BUY, "5", "20"), at=ny_close(D1))
    updates = svc.apply_action(Split(symbol="AAA", ex_date=D2, ratio=D(4)), ny_close(D2))
    (update,) = updates
    assert (update.order_id, update.status) == (a.id, OrderStatus.CANCELLED)
    # stamped when the split takes effect: the first bar of the ex-date
    assert update.timestamp == ny_close(D2)
    assert "4-for-1 split of AAA effective 2024-01-03" in update.reason
    assert svc.open_orders() == (b,)
    assert svc.cancel(a.id, at=ny_close(D1)) is None


def test_actions_without_working_orders_and_dividends_change_nothing() -> None:
    svc = SimulatedExecutionService(ExecutionConfig(on_split=SplitPolicy.CANCEL))
    assert svc.apply_action(Split(symbol="AAA", ex_date=D2, ratio=D(2)), ny_close(D2)) == ()
    placed = svc.submit(limit("AAA", Side.BUY, "10", "500"), at=ny_close(D1))
    assert (
        svc.apply_action(CashDividend(symbol="AAA", ex_date=D2, amount=D("0.24")), ny_close(D2))
        == ()
    )
    assert svc.open_orders() == (placed,)


def test_a_one_for_three_split_makes_300_at_20_exactly_100_at_60() -> None:
    svc = SimulatedExecutionService(ExecutionConfig())
    svc.process(bars(D1, AAA=(10.0, 11.0, 9.0, 10.0)))
    svc.submit(limit("AAA", Side.SELL, "300", "20"), at=ny_close(D1))
    third = D(1) / D(3)  # 0.3333333333333333333333333333: all a Decimal can say
    svc.apply_action(Split(symbol="AAA", ex_date=D2, ratio=third), ny_close(D2))
    (adjusted,) = svc.open_orders()
    assert (adjusted.quantity, adjusted.limit_price) == (D(100), D(60))


def test_a_reverse_split_rounds_what_is_left_to_fill_down_to_whole_shares() -> None:
    # Sell 15 @ 12, then 1-for-10: 1.5 shares @ 120. The holder of 15 shares keeps 1 and
    # is paid the half in cash: selling 1.5 would leave a fractional short. 1 @ 120.
    svc = SimulatedExecutionService(ExecutionConfig())
    svc.process(bars(D1, AAA=(10.0, 11.0, 9.0, 10.0)))
    placed = svc.submit(limit("AAA", Side.SELL, "15", "12"), at=ny_close(D1))
    assert svc.apply_action(Split(symbol="AAA", ex_date=D2, ratio=D("0.1")), ny_close(D2)) == ()
    (adjusted,) = svc.open_orders()
    assert (adjusted.id, adjusted.quantity, adjusted.limit_price) == (placed.id, D(1), D(120))


def test_an_order_with_less_than_a_share_left_after_a_split_is_cancelled_saying_why() -> None:
    svc = SimulatedExecutionService(ExecutionConfig())
    svc.process(bars(D1, AAA=(10.0, 11.0, 9.0, 10.0)))
    placed = svc.submit(limit("AAA", Side.BUY, "5", "9"), at=ny_close(D1))
    (update,) = svc.apply_action(Split(symbol="AAA", ex_date=D2, ratio=D("0.1")), ny_close(D2))
    assert (update.order_id, update.status, update.timestamp) == (
        placed.id,
        OrderStatus.CANCELLED,
        ny_close(D2),
    )
    assert update.reason == (
        "cancelled by the 0.1-for-1 split of AAA effective 2024-01-03: 0.5 share(s) left "
        "to fill, less than a lot of 1"
    )
    assert svc.open_orders() == ()
