"""Invariants of the portfolio limits over random batches, recomputed independently."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import event, given, settings
from hypothesis import strategies as st

from qtrader.models import BarSlice, Fill, OrderRequest, Side
from qtrader.models.testing import FakePortfolioService, make_bar, ny_close
from qtrader.risk import PreTradeRiskService, RiskConfig

DAY = date(2024, 1, 2)
AT = ny_close(DAY)
SYMBOLS = ("A", "B", "C")
STRATEGIES = ("s1", "s2")
GROSS, NET, OPEN, BUDGET = Decimal(1), Decimal("0.5"), 2, Decimal("0.6")

prices_st = st.fixed_dictionaries(
    {
        s: st.integers(min_value=100, max_value=20_000).map(lambda c: Decimal(c) / 100)
        for s in SYMBOLS
    }
)
orders_st = st.lists(
    st.builds(
        OrderRequest,
        strategy_id=st.sampled_from(STRATEGIES),
        symbol=st.sampled_from(SYMBOLS),
        side=st.sampled_from(Side),
        quantity=st.integers(min_value=1, max_value=500).map(Decimal),
    ),
    max_size=10,
)
holdings_st = st.dictionaries(
    st.tuples(st.sampled_from(STRATEGIES), st.sampled_from(SYMBOLS)),
    st.integers(min_value=-100, max_value=100).filter(bool),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(
    cash=st.integers(min_value=1_000, max_value=100_000),
    holdings=holdings_st,
    prices=prices_st,
    orders=orders_st,
)
def test_portfolio_limits_hold_after_every_approval(
    cash: int,
    holdings: dict[tuple[str, str], int],
    prices: dict[str, Decimal],
    orders: list[OrderRequest],
) -> None:
    portfolio = FakePortfolioService(Decimal(cash))
    for n, ((sid, symbol), quantity) in enumerate(sorted(holdings.items())):
        portfolio.apply_fill(
            Fill(
                id=f"F{n}",
                order_id=f"O{n}",
                strategy_id=sid,
                symbol=symbol,
                side=Side.BUY if quantity > 0 else Side.SELL,
                quantity=Decimal(abs(quantity)),
                price=prices[symbol],
                timestamp=AT,
            )
        )
    portfolio.mark(BarSlice.from_bars([make_bar(s, DAY, float(p)) for s, p in prices.items()]))
    view = portfolio.view()
    equity = max(view.equity, Decimal(0))
    config = RiskConfig(
        allow_margin=True,
        max_gross_leverage=GROSS,
        max_net_leverage=NET,
        max_open_positions=OPEN,
        strategy_budgets={"s1": BUDGET},
        on_breach="resize",
    )
    decisions = PreTradeRiskService(config).decide(orders, view, prices, AT)

    own = {(sid, s): view.position(s, sid) for sid in STRATEGIES for s in SYMBOLS}
    account = {s: view.position(s) for s in SYMBOLS}

    def gross() -> Decimal:
        return sum((abs(q) * prices[s] for s, q in account.items()), start=Decimal(0))

    def net() -> Decimal:
        return sum((q * prices[s] for s, q in account.items()), start=Decimal(0))

    def budget_used() -> Decimal:
        return sum((abs(own[("s1", s)]) * prices[s] for s in SYMBOLS), start=Decimal(0))

    def open_count() -> int:
        return sum(1 for q in account.values() if q != 0)

    for intent, decision in zip(orders, decisions, strict=True):
        event("approved" if decision.approved else "rejected")
        if decision.order is None:
            continue
        order = decision.order
        assert 0 < order.quantity <= intent.quantity
        assert order.quantity % 1 == 0
        before = (gross(), abs(net()), budget_used(), open_count())
        own[(order.strategy_id, order.symbol)] += order.signed_quantity
        account[order.symbol] += order.signed_quantity
        after = (gross(), abs(net()), budget_used(), open_count())
        # each figure is within its limit, unless the order did not make it grow
        assert after[0] <= GROSS * equity or after[0] <= before[0]
        assert after[1] <= NET * equity or after[1] <= before[1]
        assert after[2] <= BUDGET * equity or after[2] <= before[2]
        assert after[3] <= OPEN or after[3] <= before[3]
