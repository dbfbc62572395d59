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

import dataclasses
import json
import math
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest

from qtrader.analytics import (
    HoldingTally,
    RunFigures,
    alpha_beta,
    compute_metrics,
    metrics_from,
    round_trips,
)
from qtrader.analytics.metrics import (
    TradeTally,
    cagr,
    calmar,
    max_drawdown,
    returns_from_equity,
    sharpe,
    sortino,
    total_return,
    volatility,
)
from qtrader.models import (
    BacktestResult,
    ClosedLot,
    EquityRow,
    Fill,
    LedgerEntry,
    LedgerEntryType,
    PortfolioState,
    Side,
)
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


D = Decimal


def entry(
    seq: int,
    day: int,
    quantity: str,
    price: str,
    after: str,
    lots: tuple[ClosedLot, ...] = (),
    kind: LedgerEntryType = LedgerEntryType.FILL,
    commission: str = "0",
    symbol: str = "AAA",
) -> LedgerEntry:
    """A ledger entry as the portfolio books it (``cash_flow`` is not read by trips)."""
    return LedgerEntry(
        sequence=seq,
        timestamp=ny_close(date(2024, 1, day)),
        type=kind,
        strategy_id="s",
        symbol=symbol,
        quantity=D(quantity),
        price=D(price),
        cash_flow=D(0),
        commission=D(commission),
        position_after=D(after),
        reference=f"F{seq}",
        lots_closed=lots,
    )


def lot(
    fill_id: str, quantity: str, cost: str, exit_price: str, opening: str = "0", closing: str = "0"
) -> ClosedLot:
    q, c, x = D(quantity), D(cost), D(exit_price)
    return ClosedLot(
        fill_id=fill_id,
        opened_at=ny_close(date(2024, 1, 2)),
        quantity=q,
        cost_basis=c,
        exit_price=x,
        realized_pnl=x * q - c,
        opening_commission=D(opening),
        closing_commission=D(closing),
    )


def test_round_trips_follow_a_flip_and_its_commissions() -> None:
    ledger = [
        entry(1, 2, "100", "10", "100", commission="1"),
        # sells 150 at 12 (commission 3): closes the 100 long (its share of the commission
        # 3 x 100/150 = 2, the opening fill's 1), opens 50 short
        entry(
            2, 3, "-150", "12", "-50", (lot("F1", "100", "1000", "12", "1", "2"),), commission="3"
        ),
        # buys 50 back at 11 (commission 0.5); the short's opening share: 3 x 50/150 = 1
        entry(
            3, 4, "50", "11", "0", (lot("F2", "-50", "-600", "11", "1", "0.5"),), commission="0.5"
        ),
        entry(4, 5, "10", "11", "10"),  # opens a trip that never closes
    ]
    long_trip, short_trip = round_trips(ledger)
    # long: 100 x (12 - 10) - 1 - 2 = 197
    assert (long_trip.direction, long_trip.quantity, long_trip.pnl) == ("long", 100, 197)
    assert (long_trip.entry_price, long_trip.exit_price, long_trip.commission) == (10, 12, 3)
    # short: 50 x (12 - 11) - 1 - 0.5 = 48.5
    assert (short_trip.direction, short_trip.quantity, short_trip.pnl) == ("short", 50, D("48.5"))
    assert (short_trip.entry_price, short_trip.exit_price) == (12, 11)
    assert short_trip.entry_time == ny_close(date(2024, 1, 3))
    assert short_trip.exit_time == ny_close(date(2024, 1, 4))
    assert short_trip.holding_period == "1 day, 0:00:00"


def test_round_trip_prices_are_quantity_weighted() -> None:
    ledger = [
        entry(1, 2, "10", "10", "10"),
        entry(2, 3, "30", "14", "40"),
        entry(3, 4, "-40", "15", "0", (lot("F1", "10", "100", "15"), lot("F2", "30", "420", "15"))),
    ]
    (trip,) = round_trips(ledger)
    # entry (100 + 420) / 40 = 13; pnl 40 x 15 - 520 = 80
    assert (trip.entry_price, trip.exit_price, trip.pnl) == (13, 15, 80)
    assert trip.entry_time == ny_close(date(2024, 1, 2))


def test_a_split_between_entry_and_exit_is_one_trip_in_new_shares() -> None:
    # Issue 9's case: buy 100 at 500, a 4-for-1 split, sell 400 at 129. Fills alone gave
    # a trip of 100 closed by a sale of 400 (a phantom short of 300) at -37,100. The
    # closed lot carries the split: 400 shares of cost 50,000 sold at 129: +1,600.
    ledger = [
        entry(1, 2, "100", "500", "100"),
        entry(2, 3, "300", "0", "400", kind=LedgerEntryType.SPLIT),
        entry(3, 5, "-400", "129", "0", (lot("F1", "400", "50000", "129"),)),
    ]
    (trip,) = round_trips(ledger)
    assert (trip.direction, trip.quantity, trip.entry_price, trip.exit_price, trip.pnl) == (
        "long",
        400,
        125,
        129,
        1600,
    )


def test_cash_in_lieu_is_part_of_the_trip_and_other_entries_are_not() -> None:
    # 101 shares at 10, a 1-for-2 split: 50.5 shares, the half share paid in cash at 21
    # (cost 1,010 x 0.5 / 50.5 = 10: +0.5); then 50 sold at 21 (cost 1,000: +50).
    ledger = [
        entry(1, 2, "101", "10", "101"),
        entry(2, 3, "-50.5", "0", "50.5", kind=LedgerEntryType.SPLIT),
        entry(
            3, 3, "-0.5", "21", "50", (lot("F1", "0.5", "10", "21"),), LedgerEntryType.CASH_IN_LIEU
        ),
        entry(4, 3, "50", "1", "50", kind=LedgerEntryType.DIVIDEND),
        entry(5, 4, "50", "20", "50", kind=LedgerEntryType.BORROW_FEE, symbol="BBB"),
        LedgerEntry(
            sequence=6,
            timestamp=ny_close(date(2024, 1, 4)),
            type=LedgerEntryType.MARGIN_INTEREST,
            strategy_id=None,
            symbol=None,
            quantity=D(-100),
            price=None,
            cash_flow=D(-1),
            position_after=None,
            reference="margin",
        ),
        entry(7, 5, "-50", "21", "0", (lot("F1", "50", "1000", "21"),)),
    ]
    (trip,) = round_trips(ledger)
    assert (trip.quantity, trip.entry_price, trip.exit_price, trip.pnl) == (
        D("50.5"),
        20,
        21,
        D("50.5"),
    )
    # every trip's pnl + commission adds up to the lots' realized P&L
    realized = sum(closed.realized_pnl for e in ledger for closed in e.lots_closed)
    assert trip.pnl + trip.commission == realized


def test_alpha_and_beta_by_empyricals_definitions() -> None:
    # r = 2 b + 1%: beta = cov(r, b) / var(b) = 2, alpha = (1 + mean(r - 2 b)) ** 252 - 1
    b = np.array([0.05, -0.05, 0.05, 0.0])
    alpha, beta = alpha_beta(2 * b + 0.01, b)
    assert beta == pytest.approx(2.0, rel=1e-12)
    assert alpha == pytest.approx(1.01**252 - 1, rel=1e-9)
    assert all(math.isnan(x) for x in alpha_beta(np.array([0.1]), np.array([0.1])))
    assert all(math.isnan(x) for x in alpha_beta(np.zeros(3) + 0.1, np.zeros(3)))


def test_benchmark_metrics_align_on_session_dates() -> None:
    # equity 100 -> 110 -> 99 -> 108.9: r = [0.1, -0.1, 0.1] on Jan 2, 3, 4; the benchmark
    # has no return on Jan 3, so two sessions count: r = [0.1, 0.1] against b = [0.02, 0.04]
    # beta = mean((b - 0.03) x r) / mean((b - 0.03)^2) = 0 / 0.0001 = 0; alpha = 1.1**252 - 1
    result = result_with([100.0, 110.0, 99.0, 108.9], [])
    m = compute_metrics(result, benchmark=[(date(2024, 1, 2), 0.02), (date(2024, 1, 4), 0.04)])
    assert m["beta"] == pytest.approx(0.0, abs=1e-12)
    assert m["alpha"] == pytest.approx(1.1**252 - 1, rel=1e-9)
    assert m["benchmark_return"] == pytest.approx(1.02 * 1.04 - 1)
    assert "alpha" not in compute_metrics(result)


def state() -> PortfolioState:
    z = Decimal(0)
    return PortfolioState(
        timestamp=None,
        cash=z,
        equity=z,
        market_value=z,
        long_exposure=z,
        short_exposure=z,
        gross_exposure=z,
        net_exposure=z,
        leverage=z,
        realized_pnl=z,
        unrealized_pnl=z,
        commissions=z,
    )


def fill(n: int, side: Side, qty: str, price: str, commission: str, day: int) -> Fill:
    return Fill(
        id=f"F{n}",
        order_id=f"O{n}",
        strategy_id="s",
        symbol="AAA",
        side=side,
        quantity=Decimal(qty),
        price=Decimal(price),
        commission=Decimal(commission),
        timestamp=ny_close(date(2024, 1, day)),
    )


def booked(fills: list[Fill]) -> tuple[LedgerEntry, ...]:
    """The ledger of fills that alternate buy then sell of the same quantity (each pair one
    long trip), as the portfolio books it."""
    entries = []
    for opening, closing in zip(fills[::2], fills[1::2], strict=True):
        q = opening.quantity
        entries.append(
            entry(
                opening.timestamp.day * 10,
                opening.timestamp.day,
                str(q),
                str(opening.price),
                str(q),
                commission=str(opening.commission),
            )
        )
        closed = lot(
            opening.id,
            str(q),
            str(q * opening.price),
            str(closing.price),
            str(opening.commission),
            str(closing.commission),
        )
        entries.append(
            entry(
                closing.timestamp.day * 10,
                closing.timestamp.day,
                str(-q),
                str(closing.price),
                "0",
                (closed,),
                commission=str(closing.commission),
            )
        )
    return tuple(entries)


def result_with(equity: list[float], trips: list[Fill]) -> BacktestResult:
    start = date(2024, 1, 1)
    rows = tuple(
        EquityRow(ny_close(start + timedelta(days=i)), Decimal(0), Decimal(str(e)))
        for i, e in enumerate(equity)
    )
    return BacktestResult(
        fills=tuple(trips),
        orders=(),
        order_updates=(),
        decisions=(),
        equity=rows,
        final_state=state(),
        open_orders=(),
        ledger=booked(trips),
    )


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


@pytest.mark.parametrize(
    ("equity", "total", "drawdown"),
    [
        # 1000 -> 0 (a margin book wiped out) -> 200: -80%, the whole peak lost once.
        ([1000.0, 1000.0, 0.0, 200.0], -0.8, -1.0),
        # below zero: -40 is 104% of the 1000 peak lost; it ends at 200.
        ([1000.0, -40.0, -200.0, 200.0], -0.8, -1.2),
    ],
)
def test_an_equity_at_or_below_zero_leaves_return_figures_undefined_not_nan(
    equity: list[float], total: float, drawdown: float
) -> None:
    # A return from or to an equity of 0 or less means nothing (x / 0, or a "gain" from
    # -200 to 200): such figures used to be NaN, which stopped metrics.json (and the whole
    # results folder), or a Sharpe of +1.33 on a run that lost 80%.
    m = compute_metrics(result_with(equity, []))
    assert m["total_return"] == pytest.approx(total, abs=1e-12)
    assert m["max_drawdown"] == pytest.approx(drawdown, abs=1e-12)
    for name in ("cagr", "volatility", "sharpe", "sortino", "calmar"):
        assert m[name] is None, name
    json.dumps(m, allow_nan=False)  # what metrics.json needs
    # No positive equity at all (a run started with no cash): nothing is defined.
    nothing = compute_metrics(result_with([0.0, 0.0, 0.0], []))
    assert (nothing["total_return"], nothing["max_drawdown"]) == (None, None)
    json.dumps(nothing, allow_nan=False)
    benchmark = [(date(2024, 1, 1) + timedelta(days=i), 0.01) for i in range(1, 4)]
    with_benchmark = compute_metrics(result_with(equity, []), benchmark=benchmark)
    assert (with_benchmark["alpha"], with_benchmark["beta"]) == (None, None)


def test_the_new_trade_exposure_and_drawdown_figures() -> None:
    trips = [
        fill(1, Side.BUY, "10", "10", "1", 2),
        fill(2, Side.SELL, "10", "13", "1", 3),  # +30 - 2 = 28
        fill(3, Side.BUY, "10", "13", "0", 4),
        fill(4, Side.SELL, "10", "12", "0", 5),  # -10
        fill(5, Side.BUY, "10", "12", "0", 6),
        fill(6, Side.SELL, "10", "11", "0", 7),  # -10
    ]
    # The rows close 01-01..01-05; the ledger holds AAA from the 01-02 buy to the 01-03
    # sale and from 01-04 to 01-05: sessions 01-02 and 01-04 close holding it, 2 of 5.
    m = compute_metrics(result_with([100.0, 110.0, 99.0, 108.9, 115.0], trips))
    assert m["avg_win"] == 28
    assert m["avg_loss"] == -10
    assert m["strategy.s.num_trades"] == 3
    assert m["strategy.s.pnl"] == 8  # 28 - 10 - 10
    # below the 110 peak on the 3rd and 4th rows, back above on the 5th: 2 sessions
    assert m["max_drawdown_sessions"] == 2
    assert m["exposure"] == 2 / 5
    # traded 100 + 130 + 130 + 120 + 120 + 110 = 710 over the mean session equity 106.58
    assert m["turnover"] == pytest.approx(710 / ((100 + 110 + 99 + 108.9 + 115) / 5))


def test_a_strategy_included_without_a_trip_has_zero_figures_not_none() -> None:
    tally = TradeTally()
    tally.include(["quiet", "busy"])
    assert tally.stats() == {
        "num_trades": 0,
        "win_rate": None,
        "profit_factor": None,
        "avg_win": None,
        "avg_loss": None,
        "strategy.busy.num_trades": 0,
        "strategy.busy.pnl": 0.0,
        "strategy.quiet.num_trades": 0,
        "strategy.quiet.pnl": 0.0,
    }


def test_exposure_counts_a_long_and_a_short_that_leave_equity_at_cash() -> None:
    # Long 100 AAA and short 100 BBB at 10, opened at the 01-02 close and closed at 01-05's:
    # equity equals cash on every row, which used to count as holding nothing. The rows
    # close 01-01..01-05: 01-02, 01-03 and 01-04 close holding them, 3 of 5.
    ledger = (
        entry(1, 2, "100", "10", "100"),
        entry(2, 2, "-100", "10", "-100", symbol="BBB"),
        entry(3, 5, "-100", "10", "0"),
        entry(4, 5, "100", "10", "0", symbol="BBB"),
    )
    rows = tuple(
        EquityRow(ny_close(date(2024, 1, 1 + i)), Decimal(1000), Decimal(1000)) for i in range(5)
    )
    result = dataclasses.replace(result_with([1000.0] * 5, []), equity=rows, ledger=ledger)
    assert compute_metrics(result, trades=())["exposure"] == 3 / 5
    # Added up in parts, as a streamed run does, it is the same.
    tally = HoldingTally(ledger[:1])
    tally.add(ledger[1:])
    assert tally.held_at([r.timestamp for r in rows]) == [False, True, True, True, False]
    assert metrics_from(RunFigures(equity=rows, holding=tally), [])["exposure"] == 3 / 5
    assert metrics_from(RunFigures(equity=rows), [])["exposure"] is None  # not known


def test_intraday_equity_is_measured_on_session_closes() -> None:
    # Hourly rows over two sessions: one return a session (not four hourly ones), each
    # session's last equity over the one before, the first session's from the first row
    # (it traded before its close): 100 / 110 - 1, then 105 / 100 - 1. The max drawdown
    # uses every row: 110 -> 99 is -10%.
    at = datetime(2024, 1, 2, 15, 0, tzinfo=timezone(timedelta(hours=-5)))
    hours = [at, at + timedelta(hours=1), at + timedelta(days=1), at + timedelta(days=1, hours=1)]
    rows = tuple(
        EquityRow(t, Decimal(0), Decimal(e))
        for t, e in zip(hours, (110, 100, 99, 105), strict=True)
    )
    result = BacktestResult(
        fills=(),
        orders=(),
        order_updates=(),
        decisions=(),
        equity=rows,
        final_state=state(),
        open_orders=(),
    )
    m = compute_metrics(result)
    assert m["periods"] == 2
    # Two sessions, (105 / 110) in all, annualised: (105 / 110) ** (252 / 2) - 1. The first
    # session's loss used to be left out (a CAGR of 1.05 ** 252 - 1 on a losing run).
    assert m["cagr"] == pytest.approx((105 / 110) ** (252 / 2) - 1)
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
