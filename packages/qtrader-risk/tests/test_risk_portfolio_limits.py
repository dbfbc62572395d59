"""Portfolio limits: gross and net leverage, open positions, strategy budgets, volume."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pytest

from qtrader.models import (
    Bar,
    BarSlice,
    Order,
    OrderRequest,
    OrderType,
    PortfolioView,
    RiskDecision,
    Side,
    Signal,
    SignalDirection,
    Split,
)
from qtrader.models.testing import make_bar, ny_close
from qtrader.models.testing.builders import NEW_YORK
from qtrader.risk import (
    AdvParticipationLimit,
    CashLimit,
    GrossLeverageLimit,
    MaxPositionLimit,
    NetLeverageLimit,
    OpenPositionsLimit,
    PreTradeRiskService,
    RiskConfig,
    ShortSaleLimit,
    StrategyBudgetLimit,
)

DAY = date(2024, 1, 5)
AT = ny_close(DAY)
D = Decimal
Book = Callable[..., PortfolioView]
PRICES = {"AAA": "100", "BBB": "50", "CCC": "100", "DDD": "100"}


def order(side: Side, quantity: int, symbol: str, strategy: str = "s1") -> OrderRequest:
    return OrderRequest(strategy_id=strategy, symbol=symbol, side=side, quantity=D(quantity))


def buy(quantity: int, symbol: str, strategy: str = "s1") -> OrderRequest:
    return order(Side.BUY, quantity, symbol, strategy)


def sell(quantity: int, symbol: str, strategy: str = "s1") -> OrderRequest:
    return order(Side.SELL, quantity, symbol, strategy)


def decide(
    policy: dict[str, Any],
    intents: Sequence[OrderRequest | Signal],
    portfolio: PortfolioView,
    open_orders: Sequence[Order] = (),
    risk: PreTradeRiskService | None = None,
    at: datetime = AT,
) -> list[RiskDecision]:
    risk = risk or PreTradeRiskService(RiskConfig.from_mapping(policy))
    prices = {s: D(p) for s, p in PRICES.items()}
    return risk.decide(intents, portfolio, prices, at, open_orders)


def approved(decisions: list[RiskDecision]) -> list[Decimal]:
    return [D(0) if d.order is None else d.order.quantity for d in decisions]


@pytest.fixture
def held(book: Book) -> PortfolioView:
    """s1 long 500 AAA at 100 and short 200 BBB at 50. Cash 100000 - 50000 + 10000 =
    60000; equity 60000 + 50000 - 10000 = 100000; gross 50000 + 10000 = 60000; net 40000."""
    return book(
        "100000", [("s1", "AAA", 500, "100"), ("s1", "BBB", -200, "50")], {"AAA": 100, "BBB": 50}
    )


MARGIN = {"allow_margin": True}
"""So that the cash check stays out of the way of the limit under test."""


# --- gross leverage -------------------------------------------------------------------------


def test_gross_leverage_rejects_or_resizes(held: PortfolioView) -> None:
    policy = {**MARGIN, "max_gross_leverage": 1}
    # buy 500 CCC: gross 60000 + 50000 = 110000 > 1 x 100000
    [d] = decide(policy, [buy(500, "CCC")], held)
    assert not d.approved
    assert d.reason == (
        "max_gross_leverage: buy 500 CCC takes the gross exposure to 110000, above 1 x equity "
        "100000 = 100000"
    )
    assert (d.figures["gross_exposure_after"], d.figures["gross_limit"]) == (
        D(110_000),
        D(100_000),
    )
    # resized: room 100000 - 60000 = 40000 at 100 -> 400
    [d] = decide({**policy, "on_breach": "resize"}, [buy(500, "CCC")], held)
    assert approved([d]) == [D(400)]


def test_gross_leverage_counts_earlier_approvals_and_lets_reductions_through(
    held: PortfolioView,
) -> None:
    policy = {**MARGIN, "max_gross_leverage": 1, "on_breach": "resize"}
    # 300 CCC: 90000; then 200 DDD would be 110000: room 10000 -> 100
    assert approved(decide(policy, [buy(300, "CCC"), buy(200, "DDD")], held)) == [
        D(300),
        D(100),
    ]
    # over the limit already (0.5 x 100000 = 50000 < 60000): selling AAA still passes
    tight = {**policy, "max_gross_leverage": "0.5"}
    [d] = decide(tight, [sell(100, "AAA")], held)
    assert (d.order, d.reason) == (sell(100, "AAA"), "")


def test_gross_leverage_through_flat(held: PortfolioView) -> None:
    policy = {**MARGIN, "max_gross_leverage": "0.6", "on_breach": "resize"}
    # limit 60000 = gross now. Sell 1200 AAA: 500 -> -700, gross 10000 + 70000 = 80000.
    # Fit: 10000 (BBB) + |500 - q| x 100 <= 60000 -> q <= 1000 (500 -> -500: 60000)
    [d] = decide(policy, [sell(1200, "AAA")], held)
    assert approved([d]) == [D(1000)]


# --- net leverage ---------------------------------------------------------------------------


def test_net_leverage_either_way(held: PortfolioView) -> None:
    policy = {**MARGIN, "max_net_leverage": "0.5", "on_breach": "resize"}
    # net 40000, limit 50000. Buy 200 CCC: 60000 -> room 50000 - 40000 = 10000 -> 100.
    # Then sell 1000 CCC: net 50000 - 100000 = -50000, within the limit on the short side
    buy_ccc, sell_ccc = decide(policy, [buy(200, "CCC"), sell(1000, "CCC")], held)
    assert approved([buy_ccc, sell_ccc]) == [D(100), D(1000)]
    assert sell_ccc.figures["net_exposure_after"] == D(-50_000)
    # alone, selling 1000 CCC: 40000 - 100000 = -60000 -> room 50000 + 40000 = 90000 -> 900
    [d] = decide(policy, [sell(1000, "CCC")], held)
    assert approved([d]) == [D(900)]
    assert "max_net_leverage: sell 1000 CCC takes the net exposure from 40000 to -60000" in (
        d.reason
    )


def test_net_leverage_above_the_limit_lets_reductions_through(held: PortfolioView) -> None:
    policy = {**MARGIN, "max_net_leverage": "0.3", "on_breach": "resize"}
    # net 40000 > 30000: selling 50 AAA (35000) reduces it and passes; buying 1 CCC does
    # not, and nothing fits (room 30000 - 40000 < 0)
    reduce, grow = decide(policy, [sell(50, "AAA"), buy(1, "CCC")], held)
    assert reduce.order == sell(50, "AAA")
    assert not grow.approved
    assert grow.reason.endswith("; no quantity fits")


def test_net_leverage_never_lets_an_order_cross_zero_beyond_the_limit(
    held: PortfolioView,
) -> None:
    # net 40000, limit 0.2 x 100000 = 20000 either way. Selling 800 AAA takes net to
    # 40000 - 80000 = -40000: no nearer zero than before, but on the other side and twice
    # the limit. It used to pass (|-40000| <= |40000|).
    policy = {**MARGIN, "max_net_leverage": "0.2"}
    [d] = decide(policy, [sell(800, "AAA")], held)
    assert not d.approved
    assert "from 40000 to -40000" in d.reason
    # The largest sale that passes: down to -20000, 600 AAA; resize gives just that.
    [d] = decide(policy, [sell(600, "AAA")], held)
    assert d.approved
    [d] = decide({**policy, "on_breach": "resize"}, [sell(800, "AAA")], held)
    assert approved([d]) == [D(600)]


@pytest.mark.parametrize(
    ("limit", "tight"),
    [
        ({"max_gross_leverage": "0.55"}, {"max_gross_leverage": "0.05"}),
        ({"strategy_budgets": {"s1": "0.55"}}, {"strategy_budgets": {"s1": "0.05"}}),
    ],
)
def test_a_resize_through_flat_keeps_at_least_the_way_to_flat(
    held: PortfolioView, limit: dict[str, Any], tight: dict[str, Any]
) -> None:
    # gross 60000 is above 0.55 x 100000 = 55000 already. Selling 500 AAA only closes the
    # long (gross 10000): it passes whatever the limit. Selling 900 would open a short of
    # 400 AAA (gross 10000 + 40000 = 50000): within 55000, also passes. Selling 1100 opens
    # 600 (70000): resize cuts it to the most that fits, 500 + 450 = 950.
    policy = {**MARGIN, **limit, "on_breach": "resize"}
    assert approved(decide(policy, [sell(500, "AAA")], held)) == [D(500)]
    assert approved(decide(policy, [sell(900, "AAA")], held)) == [D(900)]
    assert approved(decide(policy, [sell(1100, "AAA")], held)) == [D(950)]
    # A limit of 5000, below BBB's 10000 alone, leaves no room for a short: the most that
    # passes is the way to flat, 500 (it used to be cut to 450, short of flat).
    policy = {**MARGIN, **tight, "on_breach": "resize"}
    assert approved(decide(policy, [sell(900, "AAA")], held)) == [D(500)]


# --- open positions -------------------------------------------------------------------------


def test_max_open_positions(held: PortfolioView) -> None:
    policy = {**MARGIN, "max_open_positions": 2}
    # AAA and BBB are open: a third symbol is refused, more of a held one is not
    new, more = decide(policy, [buy(10, "CCC"), buy(10, "AAA")], held)
    assert not new.approved
    assert new.reason == (
        "max_open_positions: buy 10 CCC would open position number 3; 2 are open and the "
        "most allowed is 2"
    )
    assert more.approved
    # closing AAA first frees a place in the same call
    close, new = decide(policy, [sell(500, "AAA"), buy(10, "CCC")], held)
    assert approved([close, new]) == [D(500), D(10)]
    # nothing to cut down to: resize rejects too
    [d] = decide({**policy, "on_breach": "resize"}, [buy(10, "CCC")], held)
    assert d.reason.endswith("; no quantity fits")


def test_a_resting_close_does_not_free_a_place(held: PortfolioView) -> None:
    # AAA and BBB open, at most 2. A limit sell of all AAA may never fill: CCC stays
    # refused, in the same call and against the same sell still working; a market sell
    # of all AAA (it fills at the next open) does free the place.
    policy = {**MARGIN, "max_open_positions": 2}
    limit_close = OrderRequest(
        strategy_id="s1", symbol="AAA", side=Side.SELL, quantity=D(500),
        type=OrderType.LIMIT, limit_price=D(200),
    )  # fmt: skip
    close, new = decide(policy, [limit_close, buy(10, "CCC")], held)
    assert approved([close, new]) == [D(500), D(0)]
    assert new.reason.startswith("max_open_positions: buy 10 CCC would open position number 3")
    working = Order(**limit_close.model_dump(), id="W1", created_at=ny_close(date(2024, 1, 4)))
    [d] = decide(policy, [buy(10, "CCC")], held, [working])
    assert not d.approved


def test_a_working_order_holds_a_place(held: PortfolioView) -> None:
    working = Order(
        id="W1",
        created_at=ny_close(date(2024, 1, 4)),
        strategy_id="s1",
        symbol="CCC",
        side=Side.BUY,
        quantity=D(5),
    )
    # AAA, BBB and the working buy of CCC: 3 of 3
    [d] = decide({**MARGIN, "max_open_positions": 3}, [buy(10, "DDD")], held, [working])
    assert not d.approved
    assert "3 are open" in d.reason


# --- strategy budgets -----------------------------------------------------------------------


def test_strategy_budgets(held: PortfolioView) -> None:
    policy = {**MARGIN, "strategy_budgets": {"s1": "0.5", "s2": "0.2"}, "on_breach": "resize"}
    s1_more, s1_less, s2_new, s3_free, s2_more = decide(
        policy,
        [
            buy(10, "AAA"),
            sell(100, "AAA"),
            buy(300, "CCC", "s2"),
            buy(900, "CCC", "s3"),
            buy(1, "DDD", "s2"),
        ],
        held,
    )
    # s1's gross is 60000 > 0.5 x 100000: more AAA does not fit at all, less AAA passes
    assert not s1_more.approved
    assert s1_more.reason.startswith(
        "strategy_budgets: buy 10 AAA takes strategy 's1''s gross exposure to 61000, above "
        "its budget 0.5 x equity 100000 = 50000"
    )
    assert s1_less.order == sell(100, "AAA")
    # s2 has nothing: 300 x 100 = 30000 > 20000 -> 200
    assert approved([s2_new]) == [D(200)]
    assert s2_new.figures["strategy_budget"] == D(20_000)
    # s3 has no budget
    assert s3_free.order == buy(900, "CCC", "s3")
    # s2 is at 20000 now: one more share of anything does not fit
    assert not s2_more.approved
    # within the budget passes as asked: s2 buys 150 CCC, 15000 of 20000
    [d] = decide(policy, [buy(150, "CCC", "s2")], held)
    assert d.order == buy(150, "CCC", "s2")
    assert d.figures["strategy_gross_after"] == D(15_000)


def test_a_budget_counts_only_the_strategys_own_positions(book: Book) -> None:
    # s1 long 100 AAA, s2 short 100 AAA: the account is flat in AAA, s1 is not.
    # cash 100000 - 10000 + 10000; equity 100000
    portfolio = book("100000", [("s1", "AAA", 100, "100"), ("s2", "AAA", -100, "100")])
    policy = {**MARGIN, "strategy_budgets": {"s1": "0.15"}, "on_breach": "resize"}
    # s1: 10000 of 15000 used: 100 more AAA -> room 15000 - 10000 = 5000 -> 50
    [d] = decide(policy, [buy(100, "AAA")], portfolio)
    assert approved([d]) == [D(50)]


# --- participation in volume ----------------------------------------------------------------


def volumes(risk: PreTradeRiskService, portfolio: PortfolioView, days: list[int]) -> None:
    """One AAA daily bar of ``volume`` on each 2024-01-0d day, in order."""
    for day, volume in enumerate(days, start=1):
        bar = make_bar("AAA", date(2024, 1, day), 100.0, volume=volume)
        risk.observe(BarSlice.from_bars([bar]), portfolio)


def adv_service(**policy: Any) -> PreTradeRiskService:
    config = {**MARGIN, "max_adv_participation": "0.1", "adv_window": 3, **policy}
    return PreTradeRiskService(RiskConfig.from_mapping(config))


def test_participation_of_average_daily_volume(held: PortfolioView) -> None:
    risk = adv_service(on_breach="resize")
    volumes(risk, held, [1000, 2000, 3000, 4000, 9999])
    # at the close of 01-05: the completed sessions 01-02..01-04 average 3000 (01-05's
    # own volume is not in yet): cap 0.1 x 3000 = 300. 250 then 100 -> the second is cut
    # to 300 - 250 = 50; a sale counts too (exits face the same market)
    first, second = decide({}, [buy(250, "AAA"), buy(100, "AAA")], held, risk=risk)
    assert approved([first, second]) == [D(250), D(50)]
    assert second.figures["average_daily_volume"] == D(3000)
    [d] = decide({}, [sell(500, "AAA")], held, risk=risk)
    assert approved([d]) == [D(300)]
    assert d.reason.startswith(
        "max_adv_participation: sell 500 AAA with 0 already working or approved is above "
        "0.1 x the average daily volume 3000 = 300"
    )


def test_participation_counts_working_orders_and_rejects_as_policy(held: PortfolioView) -> None:
    risk = adv_service()
    volumes(risk, held, [1000, 2000, 3000, 4000, 9999])
    working = Order(
        id="W1",
        created_at=ny_close(date(2024, 1, 4)),
        strategy_id="s1",
        symbol="AAA",
        side=Side.BUY,
        quantity=D(120),
        type=OrderType.LIMIT,
        limit_price=D(99),
    )
    # 120 working + 200 = 320 > 300: rejected (on_breach reject); 180 fits exactly
    too_much, exactly = decide({}, [buy(200, "AAA"), buy(180, "AAA")], held, [working], risk)
    assert not too_much.approved
    assert exactly.approved


def test_participation_needs_a_full_window(held: PortfolioView) -> None:
    risk = adv_service()
    volumes(risk, held, [1000, 2000, 3000])
    # at 01-03's close only 01-01 and 01-02 are completed: 2 of 3
    [d] = decide({}, [buy(1, "AAA")], held, risk=risk, at=ny_close(date(2024, 1, 3)))
    assert d.reason == (
        "max_adv_participation: 2 of the 3 completed sessions of AAA's volume needed have "
        "been seen; its average daily volume is not known yet (more warmup_bars would fill "
        "the window)"
    )
    # a day later (01-03 is over, though no bar of 01-04 was shown): 2000 average -> cap 200
    [d] = decide({}, [buy(200, "AAA")], held, risk=risk, at=ny_close(date(2024, 1, 4)))
    assert d.approved


def test_intraday_bars_add_up_to_a_session_and_splits_rescale(held: PortfolioView) -> None:
    risk = adv_service()
    for day in (1, 2, 3):
        for hour, volume in ((11, 400.0), (16, 600.0)):
            stamp = datetime.combine(date(2024, 1, day), time(hour), tzinfo=NEW_YORK)
            bar = Bar(
                symbol="AAA",
                timestamp=stamp,
                open=100,
                high=100,
                low=100,
                close=100,
                volume=volume,
            )
            risk.observe(BarSlice.from_bars([bar]), held)
    # a 2-for-1 split on 01-04: 1000 shares a session become 2000
    split = Split(symbol="AAA", ex_date=date(2024, 1, 4), ratio=D(2))
    bar = make_bar("AAA", date(2024, 1, 4), 50.0, volume=10.0)
    risk.observe(BarSlice.from_bars([bar], actions=(split,)), held)
    # at 01-04's close, sessions 01-01..01-03: 1000 each (400 + 600), x 2 = 2000 -> cap 200
    at = ny_close(date(2024, 1, 4))
    ok, over = decide({}, [buy(200, "AAA"), buy(1, "AAA")], held, risk=risk, at=at)
    assert ok.figures["average_daily_volume"] == D(2000)
    assert (ok.approved, over.approved) == (True, False)


# --- each limit changes a decision; several together -----------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "intent"),
    [
        ("max_gross_leverage", "1", buy(500, "CCC")),
        ("max_net_leverage", "0.5", buy(200, "CCC")),
        ("max_open_positions", 2, buy(1, "CCC")),
        ("strategy_budgets", {"s1": "0.5"}, buy(1, "AAA")),
    ],
)
def test_each_portfolio_limit_flips_the_decision(
    held: PortfolioView, key: str, value: Any, intent: OrderRequest
) -> None:
    [without] = decide(MARGIN, [intent], held)
    [with_limit] = decide({**MARGIN, key: value}, [intent], held)
    assert without.order is intent
    assert with_limit.order is None


def test_limits_together_each_binding_in_turn(book: Book) -> None:
    policy = {
        "allow_short": False,
        "max_position_pct": "0.3",
        "max_gross_leverage": "0.5",
        "max_open_positions": 2,
        "on_breach": "resize",
    }
    risk = PreTradeRiskService(RiskConfig.from_mapping(policy))
    assert [type(limit) for limit in risk.limits] == [
        ShortSaleLimit,
        MaxPositionLimit,
        GrossLeverageLimit,
        OpenPositionsLimit,
        CashLimit,
    ]
    decisions = decide(
        {},
        [
            buy(400, "AAA"),  # 40000 > 0.3 x 100000: position limit -> 300 (30000)
            buy(500, "BBB"),  # 25000 fits its position limit; gross 55000 > 50000 -> 400
            buy(10, "CCC"),  # gross already 50000: nothing fits
            sell(100, "AAA"),  # a reduction passes every limit: gross 40000
            buy(10, "CCC"),  # gross 40100 fits now, but AAA and BBB are 2 open positions
            sell(10, "DDD"),  # s1 holds no DDD: no shorting
        ],
        book("100000"),
        risk=risk,
    )
    assert approved(decisions) == [D(300), D(400), D(0), D(100), D(0), D(0)]
    reasons = [d.reason.split(":")[0] for d in decisions]
    assert reasons == [
        "max_position_pct",
        "max_gross_leverage",
        "max_gross_leverage",
        "",
        "max_open_positions",
        "allow_short is false",
    ]
    # cash throughout: 30000 + 20000 spent of 100000
    assert decisions[1].figures["committed_cash"] == D(30_000)


def test_limit_classes_are_exported() -> None:
    # (a policy names them by key; a library user may build them)
    assert AdvParticipationLimit.name == "max_adv_participation"
    assert NetLeverageLimit.name == "max_net_leverage"
    assert StrategyBudgetLimit.name == "strategy_budgets"


def test_signals_go_through_portfolio_limits(held: PortfolioView) -> None:
    policy = {**MARGIN, "signal_quantity": 100, "max_open_positions": 2}
    signal = Signal(strategy_id="s1", symbol="CCC", direction=SignalDirection.LONG)
    [d] = decide(policy, [signal], held)
    assert not d.approved
    assert d.reason.startswith("max_open_positions: buy 100 CCC")
