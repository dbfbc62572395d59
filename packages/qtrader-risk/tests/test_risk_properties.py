"""Invariants over random batches, checked with arithmetic independent of the service."""

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
SYMBOLS = ("A", "B")
STRATEGIES = ("s1", "s2")

prices_st = st.fixed_dictionaries(
    {s: st.integers(min_value=1, max_value=50_000).map(lambda c: Decimal(c) / 100) for s in SYMBOLS}
)
orders_st = st.lists(
    st.builds(
        OrderRequest,
        strategy_id=st.sampled_from(STRATEGIES),
        symbol=st.sampled_from(SYMBOLS),
        side=st.sampled_from(Side),
        quantity=st.integers(min_value=1, max_value=2_000).map(Decimal),
    ),
    max_size=12,
)
holdings_st = st.dictionaries(
    st.tuples(st.sampled_from(STRATEGIES), st.sampled_from(SYMBOLS)),
    st.integers(min_value=1, max_value=100),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(
    cash=st.integers(min_value=0, max_value=200_000),
    holdings=holdings_st,
    prices=prices_st,
    orders=orders_st,
)
def test_conservative_batches_keep_every_limit(
    cash: int,
    holdings: dict[tuple[str, str], int],
    prices: dict[str, Decimal],
    orders: list[OrderRequest],
) -> None:
    # Fund the holdings on top of `cash`, so that after buying them the cash is `cash`.
    cost = sum((Decimal(q) * prices[s] for (_, s), q in holdings.items()), start=Decimal(0))
    portfolio = FakePortfolioService(Decimal(cash) + cost)
    for n, ((sid, symbol), quantity) in enumerate(sorted(holdings.items())):
        fill = Fill(
            id=f"F{n}",
            order_id=f"O{n}",
            strategy_id=sid,
            symbol=symbol,
            side=Side.BUY,
            quantity=Decimal(quantity),
            price=prices[symbol],
            timestamp=AT,
        )
        portfolio.apply_fill(fill)
    portfolio.mark(BarSlice.from_bars([make_bar(s, DAY, float(p)) for s, p in prices.items()]))
    view = portfolio.view()
    equity = view.equity
    assert view.cash == cash

    config = RiskConfig.preset("conservative")
    decisions = PreTradeRiskService(config).decide(orders, view, prices, AT)

    assert len(decisions) == len(orders)
    spent_by_buys = Decimal(0)
    strategy_pos = {(sid, s): view.position(s, sid) for sid in STRATEGIES for s in SYMBOLS}
    account_pos = {s: view.position(s) for s in SYMBOLS}
    for intent, decision in zip(orders, decisions, strict=True):
        event("approved" if decision.approved else "rejected")
        event("resized" if decision.order not in (None, intent) else "as asked")
        assert decision.intent is intent
        assert decision.approved == (decision.order is not None)
        if decision.order is None:
            assert decision.reason
            continue
        order = decision.order
        assert (order.symbol, order.side, order.strategy_id) == (
            intent.symbol,
            intent.side,
            intent.strategy_id,
        )
        assert 0 < order.quantity <= intent.quantity
        assert order.quantity % 1 == 0
        assert (order.quantity != intent.quantity) == bool(decision.reason)
        price = prices[order.symbol]
        key = (order.strategy_id, order.symbol)
        before = account_pos[order.symbol]
        strategy_pos[key] += order.signed_quantity
        account_pos[order.symbol] += order.signed_quantity
        after = account_pos[order.symbol]
        # no shorting
        assert strategy_pos[key] >= 0
        # concentration: within 20% of equity unless the order only shrank the position
        if abs(after) > abs(before) or after * before < 0:
            assert abs(after) * price <= Decimal("0.2") * equity
        if order.side is Side.BUY:
            spent_by_buys += order.quantity * price
    # every buy together stays within cash less the 5% buffer
    assert spent_by_buys <= view.cash - Decimal("0.05") * max(equity, Decimal(0)) or (
        spent_by_buys == 0
    )
