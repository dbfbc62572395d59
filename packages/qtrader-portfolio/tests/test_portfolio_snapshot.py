"""Snapshots, marks, multi-strategy attribution and the ports."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from qtrader.models import BarSlice, Fill, PortfolioService, PortfolioView, Side
from qtrader.models.testing import make_bar, ny_close
from qtrader.portfolio import (
    LotPortfolioService,
    PnlSummary,
    PortfolioConfig,
    PortfolioError,
    PortfolioReadView,
)

D = Decimal
DAY0 = date(2024, 5, 1)
_counter = iter(range(1, 10_000))


def fill(
    side: Side,
    quantity: str | int,
    price: str,
    commission: str = "0",
    *,
    symbol: str = "AAA",
    strategy: str = "s1",
    day: int = 0,
    fill_id: str | None = None,
) -> Fill:
    n = next(_counter)
    return Fill(
        id=fill_id or f"F-{n:05d}",
        order_id=f"O-{n:05d}",
        strategy_id=strategy,
        symbol=symbol,
        side=side,
        quantity=D(quantity),
        price=D(price),
        commission=D(commission),
        timestamp=ny_close(DAY0 + timedelta(days=day)),
    )


def mark(p: LotPortfolioService, day: int = 0, **closes: float) -> None:
    p.mark(
        BarSlice.from_bars([make_bar(s, DAY0 + timedelta(days=day), c) for s, c in closes.items()])
    )


def two_strategies() -> LotPortfolioService:
    p = LotPortfolioService(PortfolioConfig(initial_cash=D(10000)))
    p.apply_fill(fill(Side.BUY, 100, "10", "1", strategy="A", fill_id="A1"))
    p.apply_fill(fill(Side.BUY, 50, "11", "1", strategy="B", day=1, fill_id="B1"))
    p.apply_fill(fill(Side.SELL, 30, "20", "0.5", symbol="BBB", strategy="B", day=1, fill_id="B2"))
    p.apply_fill(fill(Side.SELL, 40, "12", "1", strategy="A", day=2, fill_id="A2"))
    mark(p, day=2, AAA=13.0, BBB=19.0)
    return p


def test_multi_strategy_attribution_by_hand() -> None:
    p = two_strategies()
    assert p.position("AAA") == 110  # A 100 - 40 = 60, B 50
    assert p.position("AAA", "A") == 60
    assert p.position("AAA", "B") == 50
    assert p.position("BBB", "B") == -30
    assert p.position("BBB", "A") == 0
    assert p.position("CCC") == 0
    assert p.strategy_ids() == ("A", "B")

    # A: realized 40 x (12 - 10) = 80, commissions 2, open 60 @ 10 at 13 -> +180
    #    cash flow -1000 - 1 + 480 - 1 = -522, market value 60 x 13 = 780
    assert p.pnl_summary("A") == PnlSummary(
        strategy_id="A",
        realized_pnl=D(80),
        commissions=D(2),
        net_realized_pnl=D(78),
        unrealized_pnl=D(180),
        dividends=D(0),
        total_pnl=D(258),
        market_value=D(780),
        cash_flow=D(-522),
    )
    # B: AAA 50 x (13 - 11) = 100, BBB short 30 x (20 - 19) = 30; commissions 1.5
    #    cash flow -550 - 1 + 600 - 0.5 = 48.5; market value 650 - 570 = 80
    assert p.pnl_summary("B") == PnlSummary(
        strategy_id="B",
        realized_pnl=D(0),
        commissions=D("1.5"),
        net_realized_pnl=D("-1.5"),
        unrealized_pnl=D(130),
        dividends=D(0),
        total_pnl=D("128.5"),
        market_value=D(80),
        cash_flow=D("48.5"),
    )
    total = p.pnl_summary()
    # 258 + 128.5 = 386.5 = equity - initial; cash 10000 - 522 + 48.5 = 9526.5
    assert total.total_pnl == D("386.5")
    assert p.cash == D("9526.5")
    assert p.equity == D("10386.5")
    assert p.pnl_summary("nobody").total_pnl == 0


def test_sum_over_strategies_equals_the_total_to_the_cent() -> None:
    p = two_strategies()
    total = p.pnl_summary()
    parts = [p.pnl_summary(s) for s in p.strategy_ids()]
    for field in (
        "realized_pnl",
        "commissions",
        "net_realized_pnl",
        "unrealized_pnl",
        "dividends",
        "total_pnl",
        "market_value",
        "cash_flow",
    ):
        assert sum((getattr(s, field) for s in parts), start=D(0)) == getattr(total, field)
    state = p.snapshot()
    assert total.realized_pnl == state.realized_pnl
    assert total.unrealized_pnl == state.unrealized_pnl
    assert total.commissions == state.commissions
    assert total.total_pnl == state.equity - D(10000)


def test_snapshot_by_hand() -> None:
    state = two_strategies().snapshot()
    assert state.timestamp == ny_close(DAY0 + timedelta(days=2))
    aaa, bbb = state.positions
    assert (aaa.symbol, aaa.quantity, aaa.market_price) == ("AAA", D(110), D(13))
    # open lots A1 60 @ 10 and B1 50 @ 11: average (600 + 550) / 110
    assert aaa.average_price == D(1150) / D(110)
    assert (aaa.market_value, aaa.unrealized_pnl, aaa.realized_pnl) == (D(1430), D(280), D(80))
    assert [(lot.fill_id, lot.strategy_id, lot.quantity) for lot in aaa.lots] == [
        ("A1", "A", D(60)),
        ("B1", "B", D(50)),
    ]
    assert (bbb.quantity, bbb.market_value, bbb.unrealized_pnl) == (D(-30), D(-570), D(30))
    assert state.market_value == D(860)  # 1430 - 570
    assert state.long_exposure == D(1430)
    assert state.short_exposure == D(-570)
    assert state.gross_exposure == D(2000)
    assert state.net_exposure == D(860)
    assert state.equity == D("10386.5")  # 9526.5 + 860
    assert state.leverage == D(2000) / D("10386.5")
    assert state.position("BBB") == bbb


def test_lots_sorted_by_opened_at_then_fill_id() -> None:
    p = LotPortfolioService(PortfolioConfig(initial_cash=D(0)))
    p.apply_fill(fill(Side.BUY, 1, "10", day=1, fill_id="Z"))
    p.apply_fill(fill(Side.BUY, 1, "10", day=1, fill_id="B", strategy="s2"))
    p.apply_fill(fill(Side.BUY, 1, "10", day=0, fill_id="Y"))
    assert [lot.fill_id for lot in p.snapshot().positions[0].lots] == ["Y", "B", "Z"]


def test_leverage_is_zero_when_equity_is_zero() -> None:
    p = LotPortfolioService(PortfolioConfig(initial_cash=D(0)))
    assert p.snapshot().leverage == 0
    assert p.snapshot().timestamp is None
    p.apply_fill(fill(Side.BUY, 10, "10"))
    mark(p, AAA=10.0)
    # cash -100, market value 100: equity 0
    assert p.equity == 0
    assert p.snapshot().leverage == 0


def test_symbol_without_a_bar_keeps_its_last_price() -> None:
    p = two_strategies()
    mark(p, day=3, AAA=14.0)
    assert p.last_price("AAA") == D(14)
    assert p.last_price("BBB") == D(19)
    assert p.last_price("CCC") is None
    assert p.marked_at == ny_close(DAY0 + timedelta(days=3))
    assert p.last_prices() == {"AAA": D(14), "BBB": D(19)}


def test_mark_uses_the_exact_decimal_of_the_close() -> None:
    p = LotPortfolioService(PortfolioConfig(initial_cash=D(0)))
    mark(p, AAA=157.92)
    assert p.last_price("AAA") == D("157.92")


@pytest.mark.parametrize("bad", [float("nan"), -1.0, 0.0])
def test_mark_refuses_a_bad_close_and_keeps_the_old_marks(bad: float) -> None:
    p = LotPortfolioService(PortfolioConfig(initial_cash=D(0)))
    mark(p, AAA=10.0, BBB=20.0)
    at = ny_close(DAY0 + timedelta(days=1))
    arr = np.array([11.0, bad])
    bars = BarSlice(
        timestamp=at,
        opened_at=at,
        symbols=("AAA", "BBB"),
        open=arr,
        high=arr,
        low=arr,
        close=arr,
        volume=np.array([1.0, 1.0]),
    )
    with pytest.raises(PortfolioError, match="close of BBB"):
        p.mark(bars)
    assert p.last_prices() == {"AAA": D(10), "BBB": D(20)}
    assert p.marked_at == ny_close(DAY0)


def test_service_and_view_satisfy_the_ports() -> None:
    p = two_strategies()
    assert isinstance(p, PortfolioService)
    view = p.view()
    assert isinstance(view, PortfolioView)
    assert isinstance(view, PortfolioReadView)
    assert not isinstance(view, PortfolioService)
    for mutator in ("apply_fill", "apply_action", "mark", "view"):
        assert not hasattr(view, mutator)
    with pytest.raises(AttributeError):
        view.extra = 1  # type: ignore[attr-defined]


def test_view_reads_through_to_the_live_service() -> None:
    p = two_strategies()
    view = p.view()
    assert isinstance(view, PortfolioReadView)
    assert (view.cash, view.equity) == (p.cash, p.equity)
    assert view.position("AAA", "A") == D(60)
    assert view.last_price("BBB") == D(19)
    assert view.snapshot() == p.snapshot()
    assert view.pnl_summary("B") == p.pnl_summary("B")
    assert view.strategy_ids() == ("A", "B")
    assert view.ledger() == p.ledger()
    # The reads the README lists beside these (they were missing from the view).
    assert (view.last_prices(), view.marked_at) == (p.last_prices(), p.marked_at)
    assert view.financed_on == p.financed_on
    p.apply_fill(fill(Side.BUY, 1, "13", strategy="A"))
    assert view.position("AAA", "A") == D(61)
    assert view.cash == D("9513.5")  # 9526.5 - 13
