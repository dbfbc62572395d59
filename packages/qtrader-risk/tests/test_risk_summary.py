"""The summary of a run's decisions: counts and the most frequent reasons."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from qtrader.models import OrderRequest, PortfolioView, RiskDecision, Side, Signal, SignalDirection
from qtrader.models.testing import ny_close
from qtrader.risk import (
    DecisionSummary,
    DecisionTally,
    PreTradeRiskService,
    RiskConfig,
    reason_kind,
    summarize,
)

AT = ny_close(date(2024, 1, 2))
D = Decimal
Book = Callable[..., PortfolioView]


def buy(quantity: int, symbol: str = "AAPL") -> OrderRequest:
    return OrderRequest(strategy_id="s1", symbol=symbol, side=Side.BUY, quantity=D(quantity))


def test_counts_and_top_reasons(book: Book) -> None:
    risk = PreTradeRiskService(RiskConfig(on_breach="resize", signal_quantity=D(10)))
    portfolio = book("10000", [("s1", "AAPL", 10, "100")], {"AAPL": 100})  # cash 9000
    long = Signal(strategy_id="s1", symbol="AAPL", direction=SignalDirection.LONG)
    decisions = risk.decide(
        [
            buy(10),  # 1000 of 9000: as asked
            long,  # held 10 already: approved, nothing to order
            buy(100),  # 10000 > 8000 left: resized to 80
            buy(5),  # no cash left: rejected
            buy(5, "MSFT"),  # no price: rejected
            buy(1),  # no cash: rejected
        ],
        portfolio,
        {"AAPL": D(100)},
        AT,
    )
    summary = summarize(decisions)
    assert summary == DecisionSummary(
        total=6,
        approved=3,
        resized=1,
        rejected=3,
        reasons=(("allow_margin", 3), ("no usable price", 1)),
    )
    assert summary.describe() == (
        "6 intents: 3 approved (1 resized), 3 rejected; top reasons: allow_margin (3); "
        "no usable price (1)"
    )
    assert summary.top(1) == (("allow_margin", 3),)
    # counted a part at a time (a streamed run): the same summary
    tally = DecisionTally()
    for part in (decisions[:3], decisions[3:4], (), decisions[4:]):
        tally.add(part)
    assert tally.summary() == summary


def test_all_rejected_says_so() -> None:
    # "260 of 260 rejected orders show up as '0 trades' and nothing else" no more
    decision = RiskDecision(
        timestamp=AT,
        intent=buy(100),
        order=None,
        approved=False,
        reason="allow_margin is false: buy 100 AAPL at 150 costs 15000, above the budget 0",
    )
    summary = summarize([decision] * 260)
    assert summary.describe() == (
        "260 intents: 0 approved (0 resized), 260 rejected; top reasons: allow_margin (260)"
    )


def test_an_empty_run_and_one_intent() -> None:
    assert summarize([]).describe() == "0 intents: 0 approved (0 resized), 0 rejected"
    one = RiskDecision(timestamp=AT, intent=buy(1), order=buy(1), approved=True)
    assert summarize([one]).describe() == "1 intent: 1 approved (0 resized), 0 rejected"


def test_a_resize_by_another_risk_service_is_counted_from_the_order() -> None:
    # without figures (a service that records none), an order for less than asked
    resized = RiskDecision(
        timestamp=AT, intent=buy(10), order=buy(4), approved=True, reason="cut: too big"
    )
    assert summarize([resized]) == DecisionSummary(1, 1, 1, 0, (("cut", 1),))


def test_reason_kinds() -> None:
    assert reason_kind("max_position_pct: buy 100 AAA takes the position from 0 to 100") == (
        "max_position_pct"
    )
    assert reason_kind("no usable price for MSFT (got none); cannot value the order") == (
        "no usable price"
    )
    a = reason_kind("position in 'AAA' would be 11% of equity, above 5%; resized 100 to 45")
    b = reason_kind("position in 'BBB' would be 10.5% of equity, above 5%")
    assert a == b == "position in '…' would be # of equity, above #"
