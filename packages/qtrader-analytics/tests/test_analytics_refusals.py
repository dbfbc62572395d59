"""Every refusal of a run, in time order, from a hand-made result."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from qtrader.analytics import (
    Refusal,
    RefusalCollector,
    ResultFileStream,
    refusals,
    result_tables,
)
from qtrader.models import (
    BacktestResult,
    Order,
    OrderRejection,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PortfolioState,
    RecordBatch,
    RiskDecision,
    Side,
    Signal,
    SignalDirection,
)
from qtrader.models.testing import ny_close

T1, T2 = ny_close(date(2024, 7, 1)), ny_close(date(2024, 7, 2))
ZERO = Decimal(0)
STATE = PortfolioState(
    timestamp=None, cash=ZERO, equity=ZERO, market_value=ZERO, long_exposure=ZERO,
    short_exposure=ZERO, gross_exposure=ZERO, net_exposure=ZERO, leverage=ZERO,
    realized_pnl=ZERO, unrealized_pnl=ZERO, commissions=ZERO,
)  # fmt: skip


def test_contexts_risks_and_venues_refusals_in_time_order() -> None:
    order = Order(
        id="O1", created_at=T1, strategy_id="s", symbol="AAA", side=Side.BUY,
        quantity=Decimal(5), type=OrderType.MARKET,
    )  # fmt: skip
    mine = OrderRejection(
        id="R1", created_at=T2, strategy_id="s", symbol="BBB", side=Side.SELL,
        quantity="-3", type=OrderType.MARKET, limit_price=None, stop_price=None,
        time_in_force=None, tag=None, problem="quantity must be > 0", reason="bad request",
    )  # fmt: skip
    updates = (
        OrderUpdate(order_id="R1", status=OrderStatus.REJECTED, timestamp=T2, reason="x"),
        OrderUpdate(order_id="O1", status=OrderStatus.ACCEPTED, timestamp=T2),
        OrderUpdate(order_id="O1", status=OrderStatus.REJECTED, timestamp=T2, reason="no cash"),
        OrderUpdate(order_id="O9", status=OrderStatus.REJECTED, timestamp=T1, reason="gone"),
    )
    signal = Signal(strategy_id="t", symbol="CCC", direction=SignalDirection.LONG)
    decisions = (
        RiskDecision(timestamp=T2, intent=signal, order=None, approved=False, reason="limit"),
        RiskDecision(
            timestamp=T1,
            intent=OrderRequest(strategy_id="s", symbol="AAA", side=Side.BUY, quantity=Decimal(5)),
            order=OrderRequest(strategy_id="s", symbol="AAA", side=Side.BUY, quantity=Decimal(5)),
            approved=True,
        ),
    )
    state = PortfolioState(
        timestamp=None, cash=ZERO, equity=ZERO, market_value=ZERO, long_exposure=ZERO,
        short_exposure=ZERO, gross_exposure=ZERO, net_exposure=ZERO, leverage=ZERO,
        realized_pnl=ZERO, unrealized_pnl=ZERO, commissions=ZERO,
    )  # fmt: skip
    result = BacktestResult(
        fills=(), orders=(order,), order_updates=updates, decisions=decisions, equity=(),
        final_state=state, open_orders=(), rejections=(mine,),
    )  # fmt: skip
    assert refusals(result) == (
        Refusal(T1, "", "", "venue", "gone"),  # an order the result does not hold
        Refusal(T2, "s", "BBB", "context", "quantity must be > 0"),
        Refusal(T2, "t", "CCC", "risk", "limit"),
        Refusal(T2, "s", "AAA", "venue", "no cash"),
    )


def test_a_venue_refusal_of_an_earlier_parts_order_is_placed_by_its_id() -> None:
    order = Order(
        id="O1", created_at=T1, strategy_id="s", symbol="AAA", side=Side.BUY,
        quantity=Decimal(5), type=OrderType.MARKET,
    )  # fmt: skip
    late = OrderUpdate(order_id="O1", status=OrderStatus.REJECTED, timestamp=T2, reason="halt")
    collector = RefusalCollector()
    collector.add((), (), (order,), ())  # the order's part: no refusal yet
    collector.add((), (late,), (), ())  # the part of its refusal does not hold it
    assert collector.unplaced == frozenset({"O1"})
    assert collector.refusals() == (Refusal(T2, "", "", "venue", "halt"),)
    collector.place("O1", "s", "AAA")
    collector.place("O7", "x", "ZZZ")  # not refused: nothing happens
    assert collector.unplaced == frozenset()
    assert collector.refusals() == (Refusal(T2, "s", "AAA", "venue", "halt"),)


def test_streamed_orders_updates_and_decisions_are_the_whole_tables(tmp_path: Path) -> None:
    # Two days of orders, a refused request, updates and decisions, streamed a day a
    # batch: orders.csv merges each batch's refused requests into place by time.
    def order(n: int, at: datetime) -> Order:
        return Order(
            id=f"O{n}", created_at=at, strategy_id="s", symbol="AAA", side=Side.BUY,
            quantity=Decimal(n), type=OrderType.LIMIT, limit_price=Decimal("9.5"),
        )  # fmt: skip

    refused = OrderRejection(
        id="R1", created_at=T1, strategy_id="s", symbol="BBB", side=Side.SELL,
        quantity="-3", type=OrderType.MARKET, limit_price=None, stop_price=None,
        time_in_force=None, tag="a,b", problem="quantity must be > 0", reason="bad request",
    )  # fmt: skip
    request = OrderRequest(strategy_id="s", symbol="AAA", side=Side.BUY, quantity=Decimal(5))
    day = {
        T1: RecordBatch(
            orders=(order(1, T1), order(2, T1)),
            rejections=(refused,),
            order_updates=(
                OrderUpdate(order_id="O1", status=OrderStatus.ACCEPTED, timestamp=T1),
                OrderUpdate(order_id="R1", status=OrderStatus.REJECTED, timestamp=T1, reason="x"),
            ),
            decisions=(
                RiskDecision(
                    timestamp=T1,
                    intent=request,
                    order=request,
                    approved=True,
                    figures={"price": Decimal("9.5"), "cash": Decimal(100)},
                ),
            ),
        ),
        T2: RecordBatch(
            orders=(order(3, T2),),
            order_updates=(
                OrderUpdate(
                    order_id="O1", status=OrderStatus.REJECTED, timestamp=T2, reason="halt"
                ),
            ),
            decisions=(
                RiskDecision(
                    timestamp=T2,
                    intent=request,
                    order=None,
                    approved=False,
                    reason="max_position_pct: too big",
                    figures={"cash": Decimal(0)},
                ),
            ),
        ),
    }
    whole = BacktestResult(
        fills=(), equity=(), final_state=STATE, open_orders=(),
        orders=(*day[T1].orders, *day[T2].orders), rejections=(refused,),
        order_updates=(*day[T1].order_updates, *day[T2].order_updates),
        decisions=(*day[T1].decisions, *day[T2].decisions),
    )  # fmt: skip
    stream = ResultFileStream(tmp_path / "out")
    for batch in day.values():
        stream.write(batch)
    stream.publish(replace(whole, orders=(), order_updates=(), decisions=(), rejections=()), {})
    tables = result_tables(whole)
    for name in ("orders.csv", "order_updates.csv", "risk_decisions.csv"):
        assert (tmp_path / "out" / name).read_text(encoding="utf-8") == tables[name], name
    ids = [line.split(",")[1] for line in tables["orders.csv"].splitlines()[1:]]
    assert ids == ["O1", "O2", "R1", "O3"]  # at T1 the orders first, then the refused request


def test_remembered_orders_place_a_later_refusal_and_are_forgotten_when_done() -> None:
    def order(n: int) -> Order:
        return Order(
            id=f"O{n}", created_at=T1, strategy_id="s", symbol=f"S{n}", side=Side.BUY,
            quantity=Decimal(1), type=OrderType.MARKET,
        )  # fmt: skip

    def update(n: int, status: OrderStatus) -> OrderUpdate:
        return OrderUpdate(order_id=f"O{n}", status=status, timestamp=T2, reason="r")

    collector = RefusalCollector(remember_orders=True)
    collector.add((), (), (order(1), order(2), order(3)), ())
    collector.add((), (update(2, OrderStatus.FILLED), update(1, OrderStatus.REJECTED)), (), ())
    assert collector.refusals() == (Refusal(T2, "s", "S1", "venue", "r"),)
    assert collector.unplaced == frozenset()
    assert set(collector._orders or ()) == {"O3"}  # only the order still working is kept
