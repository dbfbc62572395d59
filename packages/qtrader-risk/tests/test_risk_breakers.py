"""Breakers: the drawdown breaker and the daily loss limit stop new risk, never exits."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from qtrader.models import (
    Bar,
    BarSlice,
    Fill,
    Order,
    OrderRequest,
    OrderType,
    RiskDecision,
    Side,
    Signal,
    SignalDirection,
)
from qtrader.models.testing import FakePortfolioService, make_bar, ny_close
from qtrader.models.testing.builders import NEW_YORK
from qtrader.risk import DailyLossLimit, DrawdownBreaker, PreTradeRiskService, RiskConfig

D = Decimal


class Run:
    """s1 long 1000 AAA bought at 100 with all of 100000: equity = 1000 x the close.

    ``bar(day, close)`` marks the portfolio and shows risk the bar, as the engine does.
    """

    def __init__(self, **policy: Any) -> None:
        self.portfolio = FakePortfolioService(D(100_000))
        self.portfolio.apply_fill(
            Fill(
                id="F1",
                order_id="O1",
                strategy_id="s1",
                symbol="AAA",
                side=Side.BUY,
                quantity=D(1000),
                price=D(100),
                timestamp=ny_close(date(2024, 1, 1)),
            )
        )
        self.portfolio.mark(  # equity 100000, not shown to risk
            BarSlice.from_bars([make_bar("AAA", date(2024, 1, 1), 100.0)])
        )
        config = {"allow_margin": True, "signal_quantity": 500, **policy}
        self.risk = PreTradeRiskService(RiskConfig.from_mapping(config))
        self.at = ny_close(date(2024, 1, 1))
        self.close = D(100)

    def bar(self, day: int, close: float, hour: int = 16) -> None:
        self.at = datetime.combine(date(2024, 1, day), time(hour), tzinfo=NEW_YORK)
        self.close = D(repr(close))
        bar = Bar(
            symbol="AAA",
            timestamp=self.at,
            open=close,
            high=close,
            low=close,
            close=close,
            volume=1000,
        )
        bars = BarSlice.from_bars([bar])
        self.portfolio.mark(bars)
        self.risk.observe(bars, self.portfolio.view())

    def decide(self, *intents: OrderRequest | Signal) -> list[RiskDecision]:
        view = self.portfolio.view()
        return self.risk.decide(list(intents), view, {"AAA": self.close}, self.at)


def buy(quantity: int) -> OrderRequest:
    return OrderRequest(strategy_id="s1", symbol="AAA", side=Side.BUY, quantity=D(quantity))


def sell(quantity: int) -> OrderRequest:
    return OrderRequest(strategy_id="s1", symbol="AAA", side=Side.SELL, quantity=D(quantity))


def signal(direction: SignalDirection) -> Signal:
    return Signal(strategy_id="s1", symbol="AAA", direction=direction)


def passed(decisions: list[RiskDecision]) -> list[bool]:
    return [d.order is not None for d in decisions]


BREAKER = {"drawdown_breaker": {"threshold": "0.1", "recover_to": "0.05"}}


def test_drawdown_breaker_stops_new_entries_and_lets_exits_through() -> None:
    run = Run(**BREAKER)
    run.bar(2, 100.0)  # peak 100000
    run.bar(3, 90.0)  # 90000: drawdown 0.1 is not *more* than 0.1
    assert passed(run.decide(buy(10))) == [True]
    run.bar(4, 89.0)  # 89000: drawdown 11000 / 100000 = 0.11 > 0.1 -> tripped
    entry, exit_, flat = run.decide(buy(10), sell(100), signal(SignalDirection.FLAT))
    assert not entry.approved
    assert entry.reason == (
        "drawdown_breaker: equity 89000 is 0.11 below the peak 100000, more than the threshold "
        "0.1 (tripped 2024-01-04); no new risk until the drawdown is back to 0.05: buy 10 AAA "
        "would take strategy 's1' from 1000 to 1010"
    )
    assert (entry.figures["peak_equity"], entry.figures["drawdown"]) == (D(100_000), D("0.11"))
    assert exit_.order == sell(100)
    # FLAT after the sale of 100: the remaining 900
    assert flat.order is not None
    assert flat.order.quantity == D(900)


def test_a_trade_through_flat_is_cut_to_the_exit_even_when_breaches_are_rejected() -> None:
    run = Run(**BREAKER)  # on_breach: reject
    run.bar(2, 100.0)
    run.bar(3, 80.0)  # drawdown 0.2
    # SHORT targets -500: a sale of 1500, of which 1000 closes the long
    [d] = run.decide(signal(SignalDirection.SHORT))
    assert d.approved
    assert d.order is not None
    assert d.order.quantity == D(1000)
    assert d.reason.endswith("; resized 1500 to 1000")
    # LONG from 1000 targets 500: a sale, an exit: passes
    [d] = run.decide(signal(SignalDirection.LONG))
    assert d.order is not None
    assert d.order.signed_quantity == D(-500)


def test_covering_a_short_is_an_exit() -> None:
    run = Run(**BREAKER)
    # s2 sold 200 short at 100: cash 0 + 20000
    run.portfolio.apply_fill(
        Fill(
            id="F2",
            order_id="O2",
            strategy_id="s2",
            symbol="AAA",
            side=Side.SELL,
            quantity=D(200),
            price=D(100),
            timestamp=ny_close(date(2024, 1, 1)),
        )
    )
    run.bar(2, 100.0)  # cash 20000 + (1000 - 200) x 100 = 100000: the peak
    run.bar(3, 80.0)  # 20000 + 800 x 80 = 84000: drawdown 0.16
    cover = OrderRequest(strategy_id="s2", symbol="AAA", side=Side.BUY, quantity=D(50))
    through = cover.model_copy(update={"quantity": D(300)})
    short_more = cover.model_copy(update={"side": Side.SELL})
    a, b, c = run.decide(cover, through, short_more)
    assert a.order == cover
    # after covering 50, 150 are left short: 300 is cut to those 150
    assert b.order is not None
    assert b.order.quantity == D(150)
    assert not c.approved


def test_a_resting_order_is_no_position_to_exit_while_tripped() -> None:
    # Tripped. s2 holds nothing but has a resting buy of 10 (a limit far below): a sale of
    # 10 was taken as the exit of that "long" and approved, leaving s2 short while no new
    # risk may be taken. Mirror: a resting sell is no short for a buy to cover.
    run = Run(**BREAKER)
    run.bar(2, 100.0)
    run.bar(3, 80.0)  # drawdown 0.2

    def s2(side: Side, **fields: Any) -> OrderRequest:
        return OrderRequest(strategy_id="s2", symbol="AAA", side=side, quantity=D(10), **fields)

    rest_buy = s2(Side.BUY, type=OrderType.LIMIT, limit_price=D(1))
    rest_sell = s2(Side.SELL, type=OrderType.LIMIT, limit_price=D(1000))
    working = [
        Order(**rest_buy.model_dump(), id="W1", created_at=run.at),
        Order(**rest_sell.model_dump(), id="W2", created_at=run.at),
    ]
    view, prices = run.portfolio.view(), {"AAA": run.close}
    [sale] = run.risk.decide([s2(Side.SELL)], view, prices, run.at, working[:1])
    assert not sale.approved
    assert "would take strategy 's2' from 10 to 0" in sale.reason  # 10 with the resting buy
    [cover] = run.risk.decide([s2(Side.BUY)], view, prices, run.at, working[1:])
    assert not cover.approved


def test_drawdown_breaker_resumes_once_recovered() -> None:
    run = Run(**BREAKER)
    run.bar(2, 100.0)
    run.bar(3, 85.0)  # drawdown 0.15: tripped
    run.bar(4, 94.0)  # 0.06 > recover_to 0.05: still tripped
    assert passed(run.decide(buy(1))) == [False]
    run.bar(5, 95.0)  # 0.05 <= 0.05: resumes
    assert passed(run.decide(buy(1))) == [True]


def test_drawdown_breaker_cooldown_restarts_the_peak() -> None:
    run = Run(drawdown_breaker={"threshold": "0.1", "cooldown_sessions": 2})
    run.bar(2, 100.0)
    run.bar(3, 89.0)  # tripped in session 01-03
    run.bar(4, 85.0)  # one session on
    assert passed(run.decide(buy(1))) == [False]
    run.bar(5, 85.0)  # two sessions on: resumes, the peak starts again at 85000
    assert passed(run.decide(buy(1))) == [True]
    run.bar(8, 77.0)  # (85000 - 77000) / 85000 = 0.094: within 0.1
    assert passed(run.decide(buy(1))) == [True]
    run.bar(9, 76.0)  # 9000 / 85000 = 0.106: tripped again
    [d] = run.decide(buy(1))
    assert "(tripped 2024-01-09); no new risk until 2 sessions have passed" in d.reason


def test_drawdown_breaker_without_a_way_back_stays_tripped() -> None:
    run = Run(drawdown_breaker={"threshold": "0.1"})
    run.bar(2, 100.0)
    run.bar(3, 80.0)
    run.bar(4, 120.0)  # a new peak: drawdown 0, but nothing says when to resume
    [d] = run.decide(buy(1))
    assert "no new risk until the end of the run" in d.reason


def test_without_observe_the_breaker_sees_the_equity_of_each_decision() -> None:
    run = Run(**BREAKER)
    portfolio = run.portfolio.view()
    prices = {"AAA": D(100)}
    run.risk.decide([buy(1)], portfolio, prices, ny_close(date(2024, 1, 2)))  # peak 100000
    bars = BarSlice.from_bars(
        [Bar(symbol="AAA", timestamp=ny_close(date(2024, 1, 3)), open=80, high=80, low=80,
             close=80, volume=1)]
    )  # fmt: skip
    run.portfolio.mark(bars)  # equity 80000, not shown to risk
    [d] = run.risk.decide([buy(1)], portfolio, {"AAA": D(80)}, ny_close(date(2024, 1, 3)))
    assert not d.approved
    assert isinstance(run.risk.limits[0], DrawdownBreaker)


def test_daily_loss_limit_for_the_rest_of_the_session() -> None:
    run = Run(daily_loss_limit="0.03")
    run.bar(2, 100.0)  # first session: starts from 100000
    run.bar(3, 98.0)  # 2000 / 100000 = 0.02
    assert passed(run.decide(buy(1))) == [True]
    run.bar(4, 96.0, hour=11)  # from 98000 (01-03's close): 2000 / 98000 = 0.0204
    assert passed(run.decide(buy(1))) == [True]
    run.bar(4, 95.0, hour=13)  # 3000 / 98000 = 0.0306 > 0.03: no new risk today
    entry, exit_ = run.decide(buy(1), sell(1))
    assert entry.reason.startswith(
        "daily_loss_limit: this session lost more than 0.03 of 98000, the equity at the "
        "previous session's close (now 95000, a loss of 0.0306); no new risk until the next "
        "session: buy 1 AAA"
    )
    assert entry.figures["session_start_equity"] == D(98_000)
    assert exit_.approved
    run.bar(4, 97.0, hour=16)  # back within 0.03, but the day's limit was hit
    assert passed(run.decide(buy(1))) == [False]
    run.bar(5, 96.0)  # a new session from 97000: 1000 / 97000 = 0.0103
    assert passed(run.decide(buy(1))) == [True]
    assert isinstance(run.risk.limits[0], DailyLossLimit)


def test_a_policy_without_breakers_keeps_nothing_between_calls() -> None:
    run = Run()
    assert not run.risk.observes_bars
    run.bar(2, 100.0)  # observe is a no-op
    assert Run(daily_loss_limit="0.1").risk.observes_bars
