"""The in-memory fakes: each satisfies its port and behaves as documented."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from qtrader.models import (
    BarSlice,
    CashDividend,
    Clock,
    DataService,
    ExecutionService,
    Fill,
    Instrument,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PortfolioService,
    PortfolioView,
    PriceAdjustment,
    RiskService,
    Side,
    Signal,
    SignalDirection,
    Split,
    Strategy,
    StrategyContext,
    StreamRequest,
    TimeInForce,
)
from qtrader.models.testing import (
    FakeClock,
    FakeDataService,
    FakeExecutionService,
    FakePortfolioService,
    FakeRiskService,
    FakeStrategyContext,
    ScriptedStrategy,
    daily_slices,
    make_bar,
    ny_close,
)

D = Decimal
DAYS = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4), date(2024, 1, 5)]


def buy(symbol: str, quantity: int, strategy_id: str = "a", **kw: object) -> OrderRequest:
    return OrderRequest.model_validate(
        {"strategy_id": strategy_id, "symbol": symbol, "side": "buy", "quantity": quantity, **kw}
    )


def fill(
    symbol: str, side: Side, quantity: str, price: str, commission: str, strategy_id: str = "a"
) -> Fill:
    return Fill(
        id=f"F-{symbol}-{strategy_id}",
        order_id="O-1",
        strategy_id=strategy_id,
        symbol=symbol,
        side=side,
        quantity=D(quantity),
        price=D(price),
        commission=D(commission),
        timestamp=ny_close(DAYS[0]),
    )


def closes(day: date, **prices: float) -> BarSlice:
    return BarSlice.from_bars([make_bar(s, day, p) for s, p in prices.items()])


# ------------------------------------------------------------------- protocol conformance


def test_every_fake_satisfies_its_port() -> None:
    portfolio = FakePortfolioService(D(0))
    assert isinstance(FakeClock(ny_close(DAYS[0])), Clock)
    assert isinstance(FakeDataService([]), DataService)
    assert isinstance(portfolio, PortfolioService)
    assert isinstance(portfolio, PortfolioView)
    assert isinstance(FakeExecutionService(), ExecutionService)
    assert isinstance(FakeRiskService(), RiskService)
    assert isinstance(ScriptedStrategy(), Strategy)


def test_the_portfolio_view_is_read_only() -> None:
    view = FakePortfolioService(D(0)).view()
    assert isinstance(view, PortfolioView)
    # No apply_fill / mark / apply_action: it is not a PortfolioService.
    assert not isinstance(view, PortfolioService)
    assert not hasattr(view, "apply_fill")


def test_ports_reject_objects_that_do_not_implement_them() -> None:
    for port in (Clock, DataService, PortfolioService, ExecutionService, RiskService, Strategy):
        assert not isinstance(object(), port)


# ---------------------------------------------------------------------------------- clock


def test_fake_clock_says_what_it_was_set_to() -> None:
    clock = FakeClock(ny_close(DAYS[0]))
    assert clock.now() == ny_close(DAYS[0])
    clock.set(ny_close(DAYS[1]))
    assert clock.now() == ny_close(DAYS[1])


# ----------------------------------------------------------------------------------- data


def data_with_one_warmup_day() -> FakeDataService:
    # 2024-01-02 is warmup; 01-03 .. 01-05 are not.
    slices = daily_slices(
        DAYS,
        {"AAPL": [(10.0, 11.0)] * 4, "MSFT": [None, (20.0, 21.0), None, (22.0, 23.0)]},
        warmup=1,
    )
    return FakeDataService(slices)


def streamed_days(data: FakeDataService, start: date, end: date) -> list[date]:
    request = StreamRequest(symbols=("AAPL",), start=start, end=end)
    return [s.timestamp.date() for s in data.stream(request)]


def test_fake_data_streams_warmup_then_the_requested_dates() -> None:
    data = data_with_one_warmup_day()
    # the warmup day, then 01-03 and 01-04; 01-05 is after end
    assert streamed_days(data, DAYS[1], DAYS[2]) == [DAYS[0], DAYS[1], DAYS[2]]


def test_fake_data_skips_non_warmup_slices_before_start() -> None:
    data = data_with_one_warmup_day()
    # 01-02 is flagged warmup, so it comes; 01-03 is before start and not warmup, so it does not
    assert streamed_days(data, DAYS[2], DAYS[3]) == [DAYS[0], DAYS[2], DAYS[3]]


def test_fake_data_ends_include_the_end_date_and_drop_everything_after() -> None:
    data = data_with_one_warmup_day()
    assert streamed_days(data, DAYS[0], DAYS[0]) == [DAYS[0]]


def test_fake_data_records_requests_and_does_not_filter_symbols() -> None:
    data = data_with_one_warmup_day()
    request = StreamRequest(symbols=("AAPL",), start=DAYS[3], end=DAYS[3])
    (last,) = [s for s in data.stream(request) if not s.warmup]
    assert data.requests == [request]
    # The fake hands over the prepared slices as they are.
    assert last.symbols == ("AAPL", "MSFT")


def test_fake_data_symbols_instruments_and_adjustment() -> None:
    data = data_with_one_warmup_day()
    assert data.symbols() == ["AAPL", "MSFT"]
    assert data.instruments(["MSFT", "AAPL"]) == [
        Instrument(symbol="MSFT"),
        Instrument(symbol="AAPL"),
    ]
    with pytest.raises(KeyError, match="unknown symbol 'GOOG'"):
        data.instruments(["AAPL", "GOOG"])
    assert data.price_adjustment is PriceAdjustment.UNADJUSTED
    adjusted = FakeDataService([], PriceAdjustment.SPLIT_ADJUSTED)
    assert adjusted.price_adjustment is PriceAdjustment.SPLIT_ADJUSTED
    assert adjusted.symbols() == []


# ------------------------------------------------------------------------------ execution


def three_days_of_aapl() -> list[BarSlice]:
    # (open, close) per day
    return daily_slices(DAYS[:3], {"AAPL": [(100.0, 101.0), (102.5, 103.0), (104.0, 105.0)]})


def test_market_order_fills_at_the_next_slice_open_not_on_the_submit_slice() -> None:
    s0, s1, s2 = three_days_of_aapl()
    ex = FakeExecutionService()
    # Engine order at T0: process(bars T0) first, then strategies decide, then submit.
    assert ex.process(s0).fills == ()
    order = ex.submit(buy("AAPL", 10), at=s0.timestamp)
    assert order.id == "FAKE-1"
    assert order.created_at == s0.timestamp
    assert ex.open_orders() == (order,)

    # T1: the order is matched against T1's bar, at T1's open (102.5), stamped at the open.
    report = ex.process(s1)
    assert report.updates == ()
    (f,) = report.fills
    assert f.price == D("102.5")
    assert f.timestamp == s1.opened_at
    assert f.timestamp.isoformat() == "2024-01-03T09:30:00-05:00"
    assert (f.id, f.order_id, f.strategy_id, f.symbol) == ("FAKE-1-F", "FAKE-1", "a", "AAPL")
    assert (f.side, f.quantity, f.commission) == (Side.BUY, D(10), D(0))
    # 10 x 102.5 = 1025.0 paid, no commission
    assert f.cash_flow == D("-1025.0")
    assert ex.open_orders() == ()

    # T2: nothing left to fill.
    assert ex.process(s2).fills == ()


def test_market_order_waits_for_a_bar_of_its_symbol() -> None:
    s0, s1, s2 = daily_slices(
        DAYS[:3], {"AAPL": [(10.0, 10.0), None, (12.0, 12.0)], "MSFT": [(50.0, 50.0)] * 3}
    )
    ex = FakeExecutionService()
    ex.process(s0)
    order = ex.submit(buy("AAPL", 5), at=s0.timestamp)
    assert ex.process(s1).fills == ()  # AAPL has no bar on 01-03
    assert ex.open_orders() == (order,)
    (f,) = ex.process(s2).fills
    assert f.price == D("12.0")


def test_other_order_types_rest_and_can_be_cancelled() -> None:
    s0, s1, _ = three_days_of_aapl()
    ex = FakeExecutionService()
    limit = ex.submit(buy("AAPL", 5, type="limit", limit_price="200"), at=s0.timestamp)
    stop = ex.submit(
        buy("AAPL", 5, "b", type="stop", stop_price="1", time_in_force=TimeInForce.DAY),
        at=s0.timestamp,
    )
    assert (limit.id, stop.id) == ("FAKE-1", "FAKE-2")
    assert limit.type is OrderType.LIMIT
    assert ex.process(s1).fills == ()
    assert ex.open_orders() == (limit, stop)
    assert ex.open_orders("b") == (stop,)
    assert ex.open_orders("nobody") == ()

    update = ex.cancel("FAKE-1", at=s1.timestamp)
    assert update == OrderUpdate(
        order_id="FAKE-1", status=OrderStatus.CANCELLED, timestamp=s1.timestamp
    )
    assert ex.cancel("FAKE-1", at=s1.timestamp) is None  # no longer working
    assert ex.cancel("FAKE-99", at=s1.timestamp) is None  # never existed
    assert ex.open_orders() == (stop,)
    assert ex.submitted == [limit, stop]


def test_fake_execution_ignores_corporate_actions() -> None:
    ex = FakeExecutionService()
    ex.submit(buy("AAPL", 5), at=ny_close(DAYS[0]))
    assert (
        ex.apply_action(Split(symbol="AAPL", ex_date=DAYS[1], ratio=D(4)), ny_close(DAYS[1])) == ()
    )
    assert len(ex.open_orders()) == 1


# ------------------------------------------------------------------------------ portfolio


def test_fake_portfolio_cash_positions_and_equity_by_hand() -> None:
    p = FakePortfolioService(D(10000))
    assert p.equity == D(10000)

    # buy 100 AAPL @ 75.00, commission 1.00: cash 10000 - 7500 - 1 = 2499
    p.apply_fill(fill("AAPL", Side.BUY, "100", "75.00", "1.00"))
    assert p.cash == D("2499.00")
    assert p.position("AAPL") == D(100)
    # Not marked yet: AAPL has no price, so it adds nothing to equity.
    assert p.last_price("AAPL") is None
    assert p.equity == D("2499.00")

    # mark AAPL at 76.50: equity 2499 + 100 x 76.50 = 2499 + 7650 = 10149
    p.mark(closes(DAYS[0], AAPL=76.5))
    assert p.last_price("AAPL") == D("76.5")
    assert p.equity == D("10149.00")

    # strategy b sells 50 MSFT @ 80.00, commission 1.00: cash 2499 + 4000 - 1 = 6498
    p.apply_fill(fill("MSFT", Side.SELL, "50", "80.00", "1.00", strategy_id="b"))
    assert p.cash == D("6498.00")
    assert p.position("MSFT") == D(-50)
    assert p.position("MSFT", "b") == D(-50)
    assert p.position("MSFT", "a") == D(0)
    assert p.position("AAPL", "a") == D(100)
    assert p.position("GOOG") == D(0)

    # mark MSFT at 80: equity 6498 + 7650 - 50 x 80 = 6498 + 7650 - 4000 = 10148
    p.mark(closes(DAYS[1], MSFT=80.0))
    assert p.last_price("AAPL") == D("76.5")  # kept: no AAPL bar in that slice
    assert p.equity == D("10148.00")
    assert len(p.fills) == 2


def test_fake_portfolio_snapshot_by_hand() -> None:
    p = FakePortfolioService(D(10000))
    p.apply_fill(fill("AAPL", Side.BUY, "100", "75.00", "1.00"))
    p.apply_fill(fill("MSFT", Side.SELL, "50", "80.00", "1.00", strategy_id="b"))
    p.mark(closes(DAYS[1], AAPL=76.5, MSFT=80.0))
    s = p.snapshot()
    assert s.timestamp == ny_close(DAYS[1])
    assert s.cash == D("6498.00")  # 10000 - 7501 + 3999
    assert s.market_value == D("3650.0")  # 7650 - 4000
    assert s.equity == D("10148.0")  # 6498 + 3650
    assert s.long_exposure == D("7650.0")
    assert s.short_exposure == D("-4000.0")  # signed: shorts are negative
    assert s.gross_exposure == D("11650.0")  # 7650 + 4000
    assert s.net_exposure == D("3650.0")
    assert s.leverage == D("11650.0") / D("10148.0")
    assert s.commissions == D("2.00")
    assert [pos.symbol for pos in s.positions] == ["AAPL", "MSFT"]
    aapl = s.position("AAPL")
    assert aapl is not None
    assert (aapl.quantity, aapl.market_price, aapl.market_value) == (
        D(100),
        D("76.5"),
        D("7650.0"),
    )


def test_fake_portfolio_snapshot_of_an_empty_book_with_no_equity() -> None:
    s = FakePortfolioService(D(0)).snapshot()
    assert s.timestamp is None
    assert s.equity == D(0)
    assert s.leverage == D(0)  # 0 / 0 is defined as 0, not an error
    assert s.positions == ()


def test_fake_portfolio_view_reads_through_and_actions_are_recorded() -> None:
    p = FakePortfolioService(D(1000))
    view = p.view()
    p.apply_fill(fill("AAPL", Side.BUY, "2", "100", "0"))  # cash 1000 - 200 = 800
    p.mark(closes(DAYS[0], AAPL=110.0))  # equity 800 + 2 x 110 = 1020
    assert view.cash == D(800)
    assert view.equity == D("1020.0")
    assert view.position("AAPL") == D(2)
    assert view.position("AAPL", "other") == D(0)
    assert view.last_price("AAPL") == D("110.0")
    assert view.snapshot() == p.snapshot()

    dividend = CashDividend(symbol="AAPL", ex_date=DAYS[1], amount=D("0.24"))
    p.apply_action(dividend, ny_close(DAYS[1]))
    assert p.actions == [dividend]
    assert p.cash == D(800)  # the fake records actions, it does not apply them


def test_fake_portfolio_marks_at_the_exact_decimal_of_the_close() -> None:
    p = FakePortfolioService(D(0))
    p.mark(closes(DAYS[0], AAPL=157.92))
    assert p.last_price("AAPL") == D("157.92")


# ----------------------------------------------------------------------------------- risk


def test_fake_risk_approves_orders_and_rejects_signals() -> None:
    risk = FakeRiskService()
    order = buy("AAPL", 10)
    sig = Signal(strategy_id="a", symbol="MSFT", direction=SignalDirection.LONG)
    at = ny_close(DAYS[0])
    view = FakePortfolioService(D(1000)).view()
    approved, rejected = risk.decide([order, sig], view, {"AAPL": D(100)}, at)
    assert approved.approved is True
    assert approved.order == order
    assert approved.intent == order
    assert approved.timestamp == at
    assert rejected.approved is False
    assert rejected.order is None
    assert rejected.intent == sig
    assert "does not size signals" in rejected.reason
    assert risk.seen == [order, sig]
    assert risk.decide([], view, {}, at) == []


# ------------------------------------------------------------------------------- strategy


def context_at(day: date) -> FakeStrategyContext:
    """A context whose current bar is AAPL's on ``day`` (ScriptedStrategy only reads the time)."""
    ctx = FakeStrategyContext(("AAPL",))
    ctx.push(BarSlice.from_bars([make_bar("AAPL", day, 100.0)]))
    return ctx


def test_fake_context_satisfies_the_strategy_context_port() -> None:
    assert isinstance(context_at(DAYS[0]), StrategyContext)
    assert not isinstance(object(), StrategyContext)


def test_scripted_strategy_records_calls_and_runs_its_script() -> None:
    strategy = ScriptedStrategy(lambda ctx: ctx.buy("AAPL", 10))
    ctx0, ctx1 = context_at(DAYS[0]), context_at(DAYS[1])
    f = fill("AAPL", Side.BUY, "10", "100", "0")
    strategy.on_start(ctx0)
    strategy.on_bar(ctx0)
    strategy.on_fill(ctx1, f)
    strategy.on_bar(ctx1)
    strategy.on_end(ctx1)
    assert strategy.calls == ["start", "bar", "fill", "bar", "end"]
    assert strategy.timestamps == [ny_close(DAYS[0]), ny_close(DAYS[1])]
    assert strategy.fills == [f]
    assert [(o.side, o.quantity, o.symbol) for o in ctx0.orders] == [(Side.BUY, D(10), "AAPL")]
    assert [(o.side, o.quantity, o.symbol) for o in ctx1.orders] == [(Side.BUY, D(10), "AAPL")]


def test_scripted_strategy_without_a_script_only_records() -> None:
    strategy = ScriptedStrategy()
    ctx = context_at(DAYS[0])
    strategy.on_bar(ctx)
    assert strategy.calls == ["bar"]
    assert ctx.orders == []


def test_fakes_run_one_engine_pass_together() -> None:
    """T0 -> T1 in the engine's order: fills, marks, on_bar, risk, submit."""
    s0, s1 = daily_slices(DAYS[:2], {"AAPL": [(100.0, 101.0), (102.0, 104.0)]})
    data = FakeDataService([s0, s1])
    portfolio = FakePortfolioService(D(10000))
    execution = FakeExecutionService()
    risk = FakeRiskService()

    for bars in data.stream(StreamRequest(symbols=("AAPL",), start=DAYS[0], end=DAYS[1])):
        for f in execution.process(bars).fills:
            portfolio.apply_fill(f)
        portfolio.mark(bars)
        if bars is s0:  # decide on T0's close, submit for T1
            prices = {"AAPL": portfolio.last_price("AAPL") or D(0)}
            for decision in risk.decide(
                [buy("AAPL", 10)], portfolio.view(), prices, bars.timestamp
            ):
                assert decision.order is not None
                execution.submit(decision.order, bars.timestamp)

    # filled at T1's open 102: cash 10000 - 10 x 102 = 8980
    # marked at T1's close 104: equity 8980 + 10 x 104 = 10020
    assert portfolio.cash == D("8980.0")
    assert portfolio.equity == D("10020.0")
    assert portfolio.fills[0].timestamp == s1.opened_at
