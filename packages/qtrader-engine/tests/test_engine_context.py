"""The strategy context and the bar history behind it."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from qtrader.engine import BarHistory, SimulationClock
from qtrader.engine.context import EngineStrategyContext
from qtrader.models import (
    Fill,
    Lot,
    Order,
    OrderRequest,
    OrderType,
    Side,
    Signal,
    SignalDirection,
    StrategyContext,
    TimeInForce,
)
from qtrader.models.testing import (
    FakeExecutionService,
    FakePortfolioService,
    daily_slices,
    ny_close,
)

DAYS = [date(2024, 3, d) for d in (4, 5, 6, 7, 8)]


def make_context() -> tuple[EngineStrategyContext, FakePortfolioService, FakeExecutionService]:
    slices = daily_slices(
        DAYS,
        {
            "AAA": [(10.0, 10.0), (11.0, 11.0), (12.0, 12.0), (13.0, 13.0), (14.0, 14.0)],
            "BBB": [(20.0, 21.0), None, (22.0, 23.0), None, (24.0, 25.0)],
        },
    )
    history = BarHistory(("AAA", "BBB"), capacity=2)  # forces growth twice
    portfolio = FakePortfolioService(Decimal(10_000))
    execution = FakeExecutionService()
    ctx = EngineStrategyContext(
        "s1", ("AAA", "BBB"), history, portfolio.view(), execution, logging.getLogger("t")
    )
    for bars in slices:
        history.append(bars)
        portfolio.mark(bars)
        ctx.set_bars(bars)
    return ctx, portfolio, execution


def test_the_context_satisfies_the_port() -> None:
    ctx, *_ = make_context()
    assert isinstance(ctx, StrategyContext)


def test_history_is_a_read_only_view_of_the_last_n_values_oldest_first() -> None:
    ctx, *_ = make_context()
    closes = ctx.history("AAA", "close", 3)
    assert closes.tolist() == [12.0, 13.0, 14.0]
    assert ctx.history("BBB", "close", 10).tolist() == [21.0, 23.0, 25.0]
    assert ctx.history("BBB", "open", 2).tolist() == [22.0, 24.0]
    assert ctx.history("AAA", "close", 0).tolist() == []
    with pytest.raises(ValueError, match="read-only"):
        closes[0] = 0.0
    # a view, not a copy of the whole history
    assert not closes.flags.owndata


def test_history_rejects_unknown_fields_symbols_and_negative_n() -> None:
    ctx, *_ = make_context()
    with pytest.raises(KeyError, match="unknown field 'vwap'"):
        ctx.history("AAA", "vwap", 1)
    with pytest.raises(KeyError, match="unknown symbol 'ZZZ'"):
        ctx.history("ZZZ", "close", 1)
    with pytest.raises(ValueError, match="n must be >= 0"):
        ctx.history("AAA", "close", -1)


def test_bar_history_rejects_bars_outside_the_universe() -> None:
    history = BarHistory(("AAA",))
    (bars,) = daily_slices(DAYS[:1], {"ZZZ": [(1.0, 1.0)]})
    with pytest.raises(KeyError, match="outside the universe"):
        history.append(bars)
    assert history.length("AAA") == 0


def test_current_bar_and_portfolio_reads() -> None:
    ctx, *_ = make_context()
    assert ctx.timestamp == ny_close(DAYS[-1])
    assert ctx.symbols == ("AAA", "BBB")
    assert ctx.strategy_id == "s1"
    bar = ctx.bar("BBB")
    assert bar is not None
    assert (bar.open, bar.close) == (24.0, 25.0)
    assert ctx.cash == Decimal(10_000)
    assert ctx.equity == Decimal(10_000)
    assert ctx.position("AAA") == Decimal(0)


def test_missing_bars_read_as_absent() -> None:
    ctx, portfolio, execution = make_context()
    (bars,) = daily_slices([date(2024, 3, 11)], {"AAA": [(1.0, 1.0)]})
    ctx.set_bars(bars)
    assert not ctx.has_bar("BBB")
    assert ctx.bar("BBB") is None
    fresh = EngineStrategyContext(
        "s2", ("AAA",), BarHistory(("AAA",)), portfolio.view(), execution, logging.getLogger()
    )
    assert fresh.bar("AAA") is None
    assert not fresh.has_bar("AAA")
    with pytest.raises(RuntimeError, match="no bar"):
        _ = fresh.timestamp
    fresh.log("before any bar")  # does not fail


def test_order_helpers_build_the_right_requests() -> None:
    ctx, *_ = make_context()
    ctx.buy("AAA", 5)
    ctx.sell("BBB", 2, limit_price=Decimal("30"), time_in_force=TimeInForce.DAY)
    ctx.sell("AAA", 1, stop_price=Decimal("9"))
    ctx.buy("AAA", 1, stop_price=Decimal("15"), limit_price=Decimal("16"), tag="x")
    intents, cancels = ctx.drain()
    assert cancels == []
    orders = [i for i in intents if isinstance(i, OrderRequest)]
    assert [(o.side, o.symbol, o.quantity, o.type) for o in orders] == [
        (Side.BUY, "AAA", Decimal(5), OrderType.MARKET),
        (Side.SELL, "BBB", Decimal(2), OrderType.LIMIT),
        (Side.SELL, "AAA", Decimal(1), OrderType.STOP),
        (Side.BUY, "AAA", Decimal(1), OrderType.STOP_LIMIT),
    ]
    assert orders[1].time_in_force is TimeInForce.DAY
    assert orders[3].tag == "x"
    assert ctx.drain() == ([], [])


def test_orders_for_symbols_outside_the_universe_are_refused() -> None:
    ctx, *_ = make_context()
    ctx.buy("ZZZ", 1)
    assert ctx.drain() == ([], [])
    (rejection,) = ctx.drain_rejections()
    assert (rejection.id, rejection.symbol) == ("R-000001", "ZZZ")
    assert rejection.reason == (
        "'ZZZ' is not in the universe ['AAA', 'BBB'] "
        "(strategy 's1', buy ZZZ, bar 2024-03-08T16:00:00-05:00)"
    )
    assert ctx.drain_rejections() == []


def test_order_target_quantity_cancels_working_orders_and_orders_from_the_position() -> None:
    ctx, portfolio, execution = make_context()
    portfolio.apply_fill(
        Fill(id="f", order_id="o", strategy_id="s1", symbol="AAA", side=Side.BUY,
             quantity=Decimal(30), price=Decimal(10), timestamp=ny_close(DAYS[0]))
    )  # fmt: skip
    execution.submit(
        OrderRequest(strategy_id="s1", symbol="AAA", side=Side.BUY, quantity=Decimal(20)),
        ny_close(DAYS[0]),
    )  # FAKE-1, working
    execution.submit(
        OrderRequest(strategy_id="s2", symbol="AAA", side=Side.BUY, quantity=Decimal(9)),
        ny_close(DAYS[0]),
    )  # FAKE-2: another strategy's, untouched
    ctx.buy("AAA", 10)  # asked in this bar
    ctx.order_target_quantity("AAA", 100)  # cancels FAKE-1, withdraws the 10: buy 100 - 30
    ctx.order_target_quantity("AAA", 25)  # withdraws the 70: sell 30 - 25 = 5
    ctx.order_target_quantity("AAA", 25)  # the same again: one sell of 5
    intents, cancels = ctx.drain()
    assert [(i.side, i.quantity) for i in intents if isinstance(i, OrderRequest)] == [
        (Side.SELL, Decimal(5))
    ]
    assert cancels == ["FAKE-1"]


def test_targets_read_the_working_orders_once_per_bar() -> None:
    ctx, _, execution = make_context()
    calls = []
    open_orders = execution.open_orders

    def counted(strategy_id: str | None = None) -> tuple[Order, ...]:
        calls.append(strategy_id)
        return open_orders(strategy_id)

    execution.open_orders = counted  # type: ignore[method-assign]
    for symbol in ("AAA", "BBB", "AAA"):
        ctx.order_target_quantity(symbol, 1)
    assert calls == ["s1"]
    ctx.drain()  # the venue's book changes after a hand-over: read it again
    ctx.order_target_quantity("AAA", 1)
    assert calls == ["s1", "s1"]


def test_order_target_percent_sizes_whole_shares_at_the_last_close() -> None:
    ctx, *_ = make_context()
    # equity 10,000 x 0.5 = 5,000 at AAA's last close 14 -> 357.14 -> 357 shares
    ctx.order_target_percent("AAA", 0.5)
    intents, _ = ctx.drain()
    assert [(i.side, i.quantity) for i in intents if isinstance(i, OrderRequest)] == [
        (Side.BUY, Decimal(357))
    ]


def test_order_target_percent_without_a_price_is_refused() -> None:
    _, _, execution = make_context()
    fresh = EngineStrategyContext(
        "s2", ("AAA",), BarHistory(("AAA",)), FakePortfolioService(Decimal(1)).view(),
        execution, logging.getLogger(), rejection_numbers=iter([7, 8]),
    )  # fmt: skip
    fresh.order_target_percent("AAA", 0.1)
    fresh.order_target_percent("AAA", float("nan"))
    assert [(r.id, r.reason) for r in fresh.drain_rejections()] == [
        ("R-000007", "no price for AAA yet: cannot size a target percent "
         "(strategy 's2', target AAA, before any bar)"),
        ("R-000008", "fraction must be a finite number, got nan "
         "(strategy 's2', target AAA, before any bar)"),
    ]  # fmt: skip


def test_lot_sizes_round_quantities_toward_zero() -> None:
    _, portfolio, execution = make_context()
    ctx = EngineStrategyContext(
        "s1", ("AAA",), BarHistory(("AAA",)), portfolio.view(), execution,
        logging.getLogger(), lot_sizes={"AAA": Decimal("0.25")},
    )  # fmt: skip
    ctx.buy("AAA", 1.3)  # 5.2 lots of 0.25 -> 5 = 1.25
    bought, _ = ctx.drain()
    ctx.order_target_quantity("AAA", -0.6)  # -2.4 lots -> -2 = -0.5: flat, sell 0.5
    sold, _ = ctx.drain()
    assert [(i.side, i.quantity) for i in [*bought, *sold] if isinstance(i, OrderRequest)] == [
        (Side.BUY, Decimal("1.25")),
        (Side.SELL, Decimal("0.5")),
    ]


def test_signals_and_cancels_are_collected(caplog: pytest.LogCaptureFixture) -> None:
    ctx, *_ = make_context()
    ctx.signal("BBB", SignalDirection.FLAT, 0.5)
    ctx.cancel("O-1")
    with caplog.at_level(logging.INFO):
        ctx.log("hello")
    intents, cancels = ctx.drain()
    assert intents == [
        Signal(strategy_id="s1", symbol="BBB", direction=SignalDirection.FLAT, strength=0.5)
    ]
    assert cancels == ["O-1"]
    assert "[s1] hello" in caplog.text
    assert ctx.open_orders() == ()


def test_history_growth_keeps_values() -> None:
    history = BarHistory(("AAA",), capacity=1)
    closes = [float(c) for c in range(1, 40)]
    for i, c in enumerate(closes):
        (bars,) = daily_slices(
            [date(2020, 1, 1) + np.timedelta64(i, "D").item()], {"AAA": [(c, c)]}
        )
        history.append(bars)
    assert history.last("AAA", "close", 100).tolist() == closes


def test_the_simulation_clock_only_moves_forward() -> None:
    clock = SimulationClock()
    with pytest.raises(RuntimeError, match="not started"):
        clock.now()
    clock.advance(ny_close(DAYS[1]))
    assert clock.now() == ny_close(DAYS[1])
    with pytest.raises(RuntimeError, match="forward"):
        clock.advance(ny_close(DAYS[0]))


def held_lots(*ids: str) -> tuple[Lot, ...]:
    return tuple(
        Lot(symbol="AAA", strategy_id="s1", quantity=Decimal(5), price=Decimal(10),
            opened_at=ny_close(DAYS[0]), fill_id=lot_id)
        for lot_id in ids
    )  # fmt: skip


def test_an_order_names_the_lots_it_closes_and_bad_names_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx, *_ = make_context()
    assert ctx.lots("AAA") == ()  # the fake book keeps no lots: these stand in for some
    monkeypatch.setattr(ctx, "lots", lambda symbol: held_lots("F-1", "F-2", "F-9"))
    ctx.sell("AAA", 5, close_lots=["F-2", "F-1"])
    ctx.sell("AAA", 5, close_lots="F-9")  # one id given bare
    ctx.sell("AAA", 5, close_lots=["F-1", "F-1"])
    ctx.sell("AAA", 5, close_lots=[7])  # type: ignore[list-item]
    # A lot the strategy does not hold: the portfolio would refuse the fill after the
    # venue made it, and stop the run. Refused here, as any bad order is.
    ctx.sell("AAA", 5, close_lots=["F-1", "F-7", "F-8"])
    intents, _ = ctx.drain()
    assert [i.close_lots for i in intents if isinstance(i, OrderRequest)] == [
        ("F-2", "F-1"),
        ("F-9",),
    ]
    first, second, third = ctx.drain_rejections()
    assert first.problem == "close_lots: a lot is named twice in ['F-1', 'F-1']"
    assert "close_lots" in second.problem
    assert third.problem == (
        "close_lots: F-7, F-8 are not open lots of s1 in AAA (its lots: F-1, F-2, F-9)"
    )


def test_a_signal_carries_its_weight_and_a_bad_weight_is_refused() -> None:
    ctx, *_ = make_context()
    ctx.signal("AAA", SignalDirection.LONG, weight=0.05)
    ctx.signal("BBB", SignalDirection.LONG)
    ctx.signal("AAA", SignalDirection.LONG, weight=-1)
    ctx.signal("AAA", SignalDirection.LONG, weight=float("nan"))
    intents, _ = ctx.drain()
    assert [(i.symbol, i.weight) for i in intents if isinstance(i, Signal)] == [
        ("AAA", Decimal("0.05")),
        ("BBB", None),
    ]
    refused = ctx.drain_rejections()
    assert len(refused) == 2
    assert "weight" in refused[0].problem
    assert "weight" in refused[1].problem
