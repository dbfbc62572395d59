"""Fills, lot matching and P&L, with every expected number worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from qtrader.models import BarSlice, Fill, Side
from qtrader.models.testing import make_bar, ny_close
from qtrader.portfolio import (
    FifoLotMatcher,
    HighestCostLotMatcher,
    LifoLotMatcher,
    LotMatching,
    LotPortfolioService,
    PortfolioConfig,
    PortfolioError,
)
from qtrader.portfolio.lots import OpenLot

D = Decimal
DAY0 = date(2024, 1, 2)
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


def portfolio(cash: str = "10000", **kwargs: object) -> LotPortfolioService:
    return LotPortfolioService(PortfolioConfig(initial_cash=D(cash), **kwargs))  # type: ignore[arg-type]


def test_worked_example_buy_then_sell_half_with_commissions() -> None:
    p = portfolio("10000")
    p.apply_fill(fill(Side.BUY, 100, "75.00", "1.00"))
    # 10000 - 100 x 75.00 - 1.00 = 2499.00
    assert p.cash == D("2499.00")
    assert p.position("AAA") == 100
    # Before any mark the position is valued at cost: equity = 2499 + 7500 = 9999
    assert p.equity == D("9999.00")

    p.apply_fill(fill(Side.SELL, 50, "76.50", "1.00", day=1))
    # 2499.00 + 50 x 76.50 - 1.00 = 2499.00 + 3825.00 - 1.00 = 6323.00
    assert p.cash == D("6323.00")
    state = p.snapshot()
    # gross realized: 50 x (76.50 - 75.00) = 75.00
    assert state.realized_pnl == D("75.00")
    assert state.commissions == D("2.00")
    summary = p.pnl_summary()
    # net = gross - every commission paid = 75.00 - 1.00 - 1.00 = 73.00
    assert summary.net_realized_pnl == D("73.00")
    assert p.pnl_summary("s1").net_realized_pnl == D("73.00")

    # Trade-level view of the same close: 0.50 of the buy commission (50/100 of 1.00)
    # and all 1.00 of the sell: 75.00 - 0.50 - 1.00 = 73.50; the other 0.50 of the
    # buy commission stays with the 50 shares still open.
    (closed,) = p.ledger()[-1].lots_closed
    assert closed.quantity == 50
    assert closed.entry_price == D("75.00")
    assert closed.opening_commission == D("0.50")
    assert closed.closing_commission == D("1.00")
    assert closed.net_pnl == D("73.50")

    mark(p, day=1, AAA=77.0)
    # unrealized 50 x (77 - 75) = 100; equity 6323 + 50 x 77 = 10173
    assert p.snapshot().unrealized_pnl == D("100")
    assert p.equity == D("10173")
    # equity - initial = 173 = net realized 73 + unrealized 100
    assert p.pnl_summary().total_pnl == D("173")


def test_flip_long_to_short_in_one_fill() -> None:
    p = portfolio("10000")
    p.apply_fill(fill(Side.BUY, 100, "10.00"))
    p.apply_fill(fill(Side.SELL, 150, "12.00", "1.50", fill_id="FLIP"))
    # closes 100 long: 100 x (12 - 10) = 200; opens 50 short at 12
    assert p.position("AAA") == -50
    assert p.snapshot().realized_pnl == D("200.00")
    # cash: 10000 - 1000 = 9000; + 150 x 12 - 1.50 = 9000 + 1800 - 1.50 = 10798.50
    assert p.cash == D("10798.50")
    entry = p.ledger()[-1]
    (closed,) = entry.lots_closed
    # the sell's commission is split by quantity: 100/150 x 1.50 = 1.00 closes
    assert closed.closing_commission == D("1.00")
    (lot,) = p.snapshot().positions[0].lots
    assert (lot.quantity, lot.price, lot.fill_id) == (D(-50), D("12.00"), "FLIP")

    p.apply_fill(fill(Side.BUY, 50, "11.00", "1.00", day=1))
    # short closes: 50 x (12 - 11) = 50; total realized 250
    assert p.position("AAA") == 0
    assert p.snapshot().realized_pnl == D("250.00")
    (closed,) = p.ledger()[-1].lots_closed
    assert closed.quantity == -50
    assert closed.realized_pnl == D("50.00")
    # the other 0.50 of the flip's commission was the short's opening commission
    assert closed.opening_commission == D("0.50")
    # commissions 1.50 + 1.00 = 2.50, net realized 250 - 2.50 = 247.50
    assert p.pnl_summary().net_realized_pnl == D("247.50")
    assert p.snapshot().positions == ()
    # cash 10798.50 - 50 x 11 - 1 = 10247.50 = 10000 + 247.50
    assert p.cash == D("10247.50")


def test_short_sale_pnl_is_entry_minus_exit() -> None:
    p = portfolio("1000")
    p.apply_fill(fill(Side.SELL, 10, "50.00"))
    assert p.cash == D("1500.00")  # 1000 + 10 x 50
    mark(p, AAA=45.0)
    state = p.snapshot()
    # short 10 @ 50 marked 45: unrealized 10 x (50 - 45) = 50; mv = -450
    assert state.unrealized_pnl == D("50")
    assert state.market_value == D("-450")
    assert state.short_exposure == D("-450")
    assert state.long_exposure == 0
    assert state.equity == D("1050")  # 1500 - 450
    p.apply_fill(fill(Side.BUY, 4, "40.00", day=1))
    # 4 x (50 - 40) = 40
    assert p.snapshot().realized_pnl == D("40")


def _three_buys_then_sell(method: LotMatching) -> LotPortfolioService:
    p = portfolio("100000", lot_matching=method)
    p.apply_fill(fill(Side.BUY, 100, "10", day=0, fill_id="B1"))
    p.apply_fill(fill(Side.BUY, 100, "12", day=1, fill_id="B2"))
    p.apply_fill(fill(Side.BUY, 100, "11", day=2, fill_id="B3"))
    p.apply_fill(fill(Side.SELL, 150, "13", day=3, fill_id="S1"))
    return p


@pytest.mark.parametrize(
    ("method", "realized", "remaining"),
    [
        # FIFO: 100 of B1 (13-10) x 100 = 300, 50 of B2 (13-12) x 50 = 50 -> 350
        ("fifo", "350", [("B2", 50, "12"), ("B3", 100, "11")]),
        # LIFO: 100 of B3 (13-11) x 100 = 200, 50 of B2 50 -> 250
        ("lifo", "250", [("B1", 100, "10"), ("B2", 50, "12")]),
        # highest cost: 100 of B2 (13-12) x 100 = 100, 50 of B3 (13-11) x 50 = 100 -> 200
        ("highest_cost", "200", [("B1", 100, "10"), ("B3", 50, "11")]),
    ],
)
def test_lot_matching_on_the_same_fills(
    method: LotMatching, realized: str, remaining: list[tuple[str, int, str]]
) -> None:
    p = _three_buys_then_sell(method)
    assert p.snapshot().realized_pnl == D(realized)
    lots = p.snapshot().positions[0].lots
    assert [(lot.fill_id, lot.quantity, lot.price) for lot in lots] == [
        (f, D(q), D(px)) for f, q, px in remaining
    ]
    # cash does not depend on the method: 100000 - 1000 - 1200 - 1100 + 1950 = 98650
    assert p.cash == D("98650")


def test_highest_cost_on_shorts_closes_the_cheapest_short_first() -> None:
    p = portfolio("0", lot_matching="highest_cost")
    p.apply_fill(fill(Side.SELL, 100, "12", fill_id="S12"))
    p.apply_fill(fill(Side.SELL, 100, "10", day=1, fill_id="S10"))
    p.apply_fill(fill(Side.BUY, 100, "9", day=2))
    # closes S10 (least gain): 100 x (10 - 9) = 100, not 100 x (12 - 9) = 300
    assert p.snapshot().realized_pnl == D("100")
    assert [lot.fill_id for lot in p.snapshot().positions[0].lots] == ["S12"]


def test_partial_close_splits_cost_and_commission_pro_rata() -> None:
    p = portfolio("1000")
    p.apply_fill(fill(Side.BUY, 3, "10", "0.03"))
    p.apply_fill(fill(Side.SELL, 1, "11", day=1))
    (closed,) = p.ledger()[-1].lots_closed
    # 1/3 of cost 30 = 10; 1/3 of commission 0.03 = 0.01
    assert (closed.cost_basis, closed.opening_commission) == (D(10), D("0.01"))
    p.apply_fill(fill(Side.SELL, 2, "12", day=2))
    (closed,) = p.ledger()[-1].lots_closed
    # the last piece takes what is left: cost 20, commission 0.02, P&L 2 x (12 - 10) = 4
    assert (closed.cost_basis, closed.opening_commission, closed.realized_pnl) == (
        D(20),
        D("0.02"),
        D(4),
    )


def test_shorting_refused_when_not_allowed_and_state_untouched() -> None:
    p = portfolio("10000", allow_short=False)
    p.apply_fill(fill(Side.BUY, 100, "10"))
    before = (p.snapshot(), p.ledger(), p.cash)
    with pytest.raises(PortfolioError) as error:
        p.apply_fill(fill(Side.SELL, 150, "11", fill_id="F-TOO-MANY"))
    message = str(error.value)
    for part in ("F-TOO-MANY", "AAA", "150", "100", "allow_short"):
        assert part in message
    assert (p.snapshot(), p.ledger(), p.cash) == before
    # selling exactly what is held is fine, and so is the same fill id afterwards
    p.apply_fill(fill(Side.SELL, 100, "11", fill_id="F-TOO-MANY"))
    assert p.position("AAA") == 0
    # a strategy cannot sell another strategy's shares short either
    with pytest.raises(PortfolioError, match="strategy 's2'"):
        p.apply_fill(fill(Side.SELL, 1, "11", strategy="s2"))


def test_duplicate_fill_id_is_refused() -> None:
    p = portfolio()
    f = fill(Side.BUY, 1, "10")
    p.apply_fill(f)
    with pytest.raises(PortfolioError, match="already applied"):
        p.apply_fill(f)
    assert p.position("AAA") == 1
    assert len(p.ledger()) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", D(0)),
        ("quantity", D(-5)),
        ("price", D(0)),
        ("price", D("NaN")),
        ("commission", D(-1)),
        ("commission", D("Infinity")),
        ("strategy_id", ""),
        ("symbol", ""),
        ("id", ""),
        ("timestamp", datetime(2024, 1, 2, 16)),  # noqa: DTZ001 - naive on purpose
    ],
)
def test_invalid_fill_that_bypassed_validation_is_refused(field: str, value: object) -> None:
    good = fill(Side.BUY, 10, "10")
    bad = Fill.model_construct(**{**dict(good), field: value})
    p = portfolio()
    with pytest.raises(PortfolioError, match=field):
        p.apply_fill(bad)
    assert p.ledger() == ()
    assert p.cash == D(10000)


def test_config_is_frozen_and_strict() -> None:
    with pytest.raises(ValueError, match="extra"):
        PortfolioConfig(initial_cash=D(1), leverage=2)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="greater than or equal"):
        PortfolioConfig(initial_cash=D(-1))
    with pytest.raises(ValueError, match="lot_matching"):
        PortfolioConfig(initial_cash=D(1), lot_matching="average")  # type: ignore[arg-type]


@pytest.mark.parametrize("matcher", [FifoLotMatcher(), LifoLotMatcher(), HighestCostLotMatcher()])
def test_matchers_accept_an_empty_book(
    matcher: FifoLotMatcher | LifoLotMatcher | HighestCostLotMatcher,
) -> None:
    assert matcher.closing_order([]) == []


def test_highest_cost_ties_go_to_the_oldest_lot_whatever_the_last_digit() -> None:
    # Two lots bought at one price, split alike: one's cost / quantity is rounded at 1e-10,
    # the other's carries 28 digits. The noise decided which closed first; the oldest must.
    at = datetime(2024, 1, 2, 16, tzinfo=UTC)
    older = OpenLot("s1", "AAA", Decimal(1), Decimal("133.3333333333"), Decimal(0), at, "F-1", 1)
    newer = OpenLot("s1", "AAA", Decimal(3), Decimal(400), Decimal(0), at, "F-2", 2)
    assert newer.price > older.price  # by 3.3e-11: rounding, not a higher cost
    assert HighestCostLotMatcher().closing_order([newer, older]) == [older, newer]
