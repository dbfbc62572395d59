"""Metrics by empyrical's definitions, checked against numbers worked by hand.

Equity 100 -> 110 -> 99 -> 108.9 gives daily returns r = [0.1, -0.1, 0.1]:
- total return = 1.1 x 0.9 x 1.1 - 1 = 0.089
- cagr = 1.089 ** (252 / 3) - 1
- mean = 0.1/3; deviations 2/30, -4/30, 2/30; sample variance = (4+16+4)/900/2 = 1/75
  volatility = sqrt(1/75) x sqrt(252)
- sharpe = (1/30) / sqrt(1/75) x sqrt(252)
- downside: [0, -0.1, 0] -> sqrt(0.01/3) x sqrt(252); sortino = (1/30 x 252) / that
- wealth 100, 110, 99, 108.9 with peaks 100, 110, 110, 110 -> max drawdown -11/110 = -0.1
- calmar = cagr / 0.1
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest

from qtrader.engine import (
    BacktestResult,
    EquityRow,
    SplitEvent,
    compute_metrics,
    round_trips,
)
from qtrader.engine.metrics import (
    cagr,
    calmar,
    max_drawdown,
    returns_from_equity,
    sharpe,
    sortino,
    total_return,
    volatility,
)
from qtrader.models import Fill, PortfolioState, Side
from qtrader.models.testing import ny_close

R = returns_from_equity([100.0, 110.0, 99.0, 108.9])
ROOT_252 = math.sqrt(252)


def test_returns_from_equity() -> None:
    assert R == pytest.approx([0.1, -0.1, 0.1], abs=1e-15)
    assert returns_from_equity([100.0]).size == 0


def test_each_metric_against_hand_numbers() -> None:
    assert total_return(R) == pytest.approx(0.089, abs=1e-12)
    assert cagr(R) == pytest.approx(1.089**84 - 1, rel=1e-12)
    assert volatility(R) == pytest.approx(math.sqrt(1 / 75) * ROOT_252, rel=1e-12)
    assert sharpe(R) == pytest.approx((1 / 30) / math.sqrt(1 / 75) * ROOT_252, rel=1e-12)
    assert sortino(R) == pytest.approx((252 / 30) / (math.sqrt(0.01 / 3) * ROOT_252), rel=1e-12)
    assert max_drawdown(R) == pytest.approx(-0.1, abs=1e-12)
    assert calmar(R) == pytest.approx((1.089**84 - 1) / 0.1, rel=1e-12)


def test_degenerate_series_give_undefined_figures() -> None:
    flat = np.zeros(5)
    assert math.isnan(sharpe(flat))
    assert math.isnan(sortino(flat))
    assert max_drawdown(flat) == 0.0
    assert math.isnan(calmar(flat))
    empty = np.empty(0)
    assert total_return(empty) == 0.0
    assert math.isnan(cagr(empty))
    assert math.isnan(volatility(empty))
    assert math.isnan(sharpe(empty))
    assert math.isnan(sortino(empty))
    assert max_drawdown(empty) == 0.0


def fill(n: int, side: Side, qty: str, price: str, commission: str, day: int) -> Fill:
    return Fill(
        id=f"F{n}", order_id=f"O{n}", strategy_id="s", symbol="AAA", side=side,
        quantity=Decimal(qty), price=Decimal(price), commission=Decimal(commission),
        timestamp=ny_close(date(2024, 1, day)),
    )  # fmt: skip


def test_round_trips_split_a_flipping_fill_and_its_commission() -> None:
    fills = [
        fill(1, Side.BUY, "100", "10", "1", 2),
        fill(2, Side.SELL, "150", "12", "3", 3),  # closes 100 long, opens 50 short
        fill(3, Side.BUY, "50", "11", "0.5", 4),
        fill(4, Side.BUY, "10", "11", "0", 5),  # opens a trip that never closes
    ]
    long_trip, short_trip = round_trips(fills)
    # long: -1000 - 1 + 1200 - 3 x 100/150 = 197
    assert (long_trip.direction, long_trip.quantity, long_trip.pnl) == ("long", 100, 197)
    assert (long_trip.entry_price, long_trip.exit_price) == (10, 12)
    # short: +600 - 3 x 50/150 - 550 - 0.5 = 48.5
    assert (short_trip.direction, short_trip.quantity, short_trip.pnl) == (
        "short", 50, Decimal("48.5"))  # fmt: skip
    assert short_trip.entry_time == ny_close(date(2024, 1, 3))
    assert short_trip.holding_period == "1 day, 0:00:00"


def test_round_trip_prices_are_quantity_weighted() -> None:
    fills = [
        fill(1, Side.BUY, "10", "10", "0", 2),
        fill(2, Side.BUY, "30", "14", "0", 3),
        fill(3, Side.SELL, "40", "15", "0", 4),
    ]
    (trip,) = round_trips(fills)
    # entry (10x10 + 30x14) / 40 = 13; pnl 40 x 15 - 520 = 80
    assert (trip.entry_price, trip.exit_price, trip.pnl) == (13, 15, 80)


def test_a_split_between_entry_and_exit_is_one_trip_in_new_shares() -> None:
    # Issue 9's case: buy 100 at 500, a 4-for-1 split, sell 400 at 129. Before the fix:
    # a trip of 100 closed by a sell of 400 (a phantom short of 300) at -37,100.
    # Now: one long trip of 400 at 500 / 4 = 125 to 129: 400 x 4 = +1,600 (no commission).
    events = [
        fill(1, Side.BUY, "100", "500", "0", 2),
        SplitEvent("AAA", Decimal(4)),
        fill(2, Side.SELL, "400", "129", "0", 5),
    ]
    (trip,) = round_trips(events)
    assert (trip.direction, trip.quantity, trip.entry_price, trip.exit_price, trip.pnl) == (
        "long", 400, 125, 129, 1600)  # fmt: skip
    # Another symbol's split changes nothing; a 1-for-2 that leaves half a share drops it
    # (the portfolio pays it in cash): 101 -> 50.5 -> 50 shares, closed by a sale of 50.
    other = [
        fill(1, Side.BUY, "101", "10", "0", 2),
        SplitEvent("BBB", Decimal(3)),
        SplitEvent("AAA", Decimal("0.5")),
        fill(2, Side.SELL, "50", "21", "0", 5),
    ]
    (trip,) = round_trips(other)
    # cash of the trip: -1,010 + 50 x 21 = +40 (the half share is not traded)
    assert (trip.quantity, trip.pnl) == (Decimal("50.5"), 40)


def state() -> PortfolioState:
    z = Decimal(0)
    return PortfolioState(
        timestamp=None, cash=z, equity=z, market_value=z, long_exposure=z, short_exposure=z,
        gross_exposure=z, net_exposure=z, leverage=z, realized_pnl=z, unrealized_pnl=z,
        commissions=z,
    )  # fmt: skip


def result_with(equity: list[float], trips: list[Fill]) -> BacktestResult:
    start = date(2024, 1, 1)
    rows = tuple(
        EquityRow(ny_close(start + timedelta(days=i)), Decimal(0), Decimal(str(e)))
        for i, e in enumerate(equity)
    )
    return BacktestResult(
        fills=tuple(trips), orders=(), order_updates=(), decisions=(), equity=rows,
        final_state=state(), open_orders=(), trades=round_trips(trips),
    )  # fmt: skip


def test_compute_metrics_collects_everything() -> None:
    trips = [
        fill(1, Side.BUY, "10", "10", "1", 2),
        fill(2, Side.SELL, "10", "13", "1", 3),  # +30 - 2 = 28
        fill(3, Side.BUY, "10", "13", "0", 4),
        fill(4, Side.SELL, "10", "12", "0", 5),  # -10
        fill(5, Side.BUY, "10", "12", "0", 6),
        fill(6, Side.SELL, "10", "11", "0", 7),  # -10
    ]
    m = compute_metrics(result_with([100.0, 110.0, 99.0, 108.9], trips))
    assert m["total_return"] == pytest.approx(0.089, abs=1e-12)
    assert m["max_drawdown"] == pytest.approx(-0.1, abs=1e-12)
    assert m["num_trades"] == 3
    assert m["win_rate"] == pytest.approx(1 / 3)
    assert m["profit_factor"] == pytest.approx(28 / 20)
    assert m["num_fills"] == 6
    assert m["total_commission"] == 2.0
    assert (m["start_equity"], m["end_equity"], m["periods"]) == (100.0, 108.9, 4)
    assert set(m) >= {"cagr", "volatility", "sharpe", "sortino", "calmar"}


def test_undefined_metrics_are_none() -> None:
    m = compute_metrics(result_with([100.0, 100.0, 100.0], []))
    assert m["sharpe"] is None
    assert m["calmar"] is None
    assert m["win_rate"] is None
    assert m["profit_factor"] is None
    assert m["num_trades"] == 0
    only_wins = [fill(1, Side.BUY, "1", "1", "0", 2), fill(2, Side.SELL, "1", "2", "0", 3)]
    assert compute_metrics(result_with([1.0, 2.0], only_wins))["profit_factor"] is None


def test_the_new_trade_exposure_and_drawdown_figures() -> None:
    trips = [
        fill(1, Side.BUY, "10", "10", "1", 2),
        fill(2, Side.SELL, "10", "13", "1", 3),  # +30 - 2 = 28
        fill(3, Side.BUY, "10", "13", "0", 4),
        fill(4, Side.SELL, "10", "12", "0", 5),  # -10
        fill(5, Side.BUY, "10", "12", "0", 6),
        fill(6, Side.SELL, "10", "11", "0", 7),  # -10
    ]
    # cash 0 on every row (result_with): every session ends "invested" (equity != cash)
    m = compute_metrics(result_with([100.0, 110.0, 99.0, 108.9, 115.0], trips))
    assert m["avg_win"] == 28
    assert m["avg_loss"] == -10
    assert m["strategy.s.num_trades"] == 3
    assert m["strategy.s.pnl"] == 8  # 28 - 10 - 10
    # below the 110 peak on the 3rd and 4th rows, back above on the 5th: 2 sessions
    assert m["max_drawdown_sessions"] == 2
    assert m["exposure"] == 1.0
    # traded 100 + 130 + 130 + 120 + 120 + 110 = 710 over the mean session equity 106.58
    assert m["turnover"] == pytest.approx(710 / ((100 + 110 + 99 + 108.9 + 115) / 5))


def test_intraday_equity_is_measured_on_session_closes() -> None:
    # Hourly rows over two sessions; the daily return is session 2's last equity over
    # session 1's last: 105 / 100 - 1 = 5%, one return (not four hourly ones). The max
    # drawdown uses every row: 110 -> 99 is -10%.
    at = datetime(2024, 1, 2, 15, 0, tzinfo=timezone(timedelta(hours=-5)))
    hours = [at, at + timedelta(hours=1), at + timedelta(days=1), at + timedelta(days=1, hours=1)]
    rows = tuple(
        EquityRow(t, Decimal(0), Decimal(e))
        for t, e in zip(hours, (110, 100, 99, 105), strict=True)
    )
    result = BacktestResult(
        fills=(), orders=(), order_updates=(), decisions=(), equity=rows,
        final_state=state(), open_orders=(), trades=(),
    )  # fmt: skip
    m = compute_metrics(result)
    assert m["periods"] == 2
    assert m["cagr"] == pytest.approx(1.05**252 - 1)  # one session of +5%, annualised
    assert m["max_drawdown"] == pytest.approx(99 / 110 - 1)
    assert m["total_return"] == pytest.approx(105 / 110 - 1)


def test_costs_and_dividends_come_from_the_final_state() -> None:
    d = Decimal
    costs = state().model_copy(
        update={
            "fees": d("1.56"),
            "borrow_fees": d("12.50"),
            "margin_interest": d("5.00"),
            "financing_costs": d("17.50"),
            "dividends_received": d("25.00"),
            "dividends_paid": d("10.00"),
            "dividends": d("15.00"),
            "total_pnl": d("-4.06"),
        }
    )
    result = result_with([100.0, 101.0], [])
    m = compute_metrics(
        BacktestResult(
            fills=(),
            orders=(),
            order_updates=(),
            decisions=(),
            equity=result.equity,
            final_state=costs,
            open_orders=(),
        )
    )
    assert (m["total_fees"], m["total_borrow_fees"], m["total_margin_interest"]) == (
        1.56,
        12.5,
        5.0,
    )
    assert (m["total_financing_costs"], m["dividends_received"], m["dividends_paid"]) == (
        17.5,
        25.0,
        10.0,
    )
    assert m["total_pnl"] == -4.06
    # a portfolio without any of them reports zeros, never a missing key
    plain = compute_metrics(result)
    assert [plain[k] for k in ("total_fees", "total_financing_costs", "dividends_paid")] == [
        0.0,
        0.0,
        0.0,
    ]
