"""Builders of portfolio views for the risk tests (on the models' fake portfolio)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal

import pytest

from qtrader.models import BarSlice, Fill, PortfolioView, Side
from qtrader.models.testing import FakePortfolioService, make_bar, ny_close

DAY = date(2024, 1, 2)
AT = ny_close(DAY)

Holding = tuple[str, str, int, str]
"""(strategy_id, symbol, signed quantity, fill price)."""

BookBuilder = Callable[..., PortfolioView]


def build_book(
    cash: str,
    holdings: Iterable[Holding] = (),
    marks: Mapping[str, float] | None = None,
) -> PortfolioView:
    """Start with ``cash``, fill ``holdings`` (cash moves by -qty x price), then mark.

    Equity = cash after the fills + sum of position x mark (the fake's rule).
    """
    portfolio = FakePortfolioService(Decimal(cash))
    for n, (strategy_id, symbol, quantity, price) in enumerate(holdings):
        portfolio.apply_fill(
            Fill(
                id=f"F{n}",
                order_id=f"O{n}",
                strategy_id=strategy_id,
                symbol=symbol,
                side=Side.BUY if quantity > 0 else Side.SELL,
                quantity=Decimal(abs(quantity)),
                price=Decimal(price),
                timestamp=AT,
            )
        )
    if marks:
        portfolio.mark(BarSlice.from_bars([make_bar(s, DAY, c) for s, c in marks.items()]))
    return portfolio.view()


@pytest.fixture
def book() -> BookBuilder:
    return build_book
