"""The built-in strategies, driven bar by bar through FakeStrategyContext (no engine)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from qtrader.cli.strategies import BuyAndHold, BuyAndHoldParams, SmaCrossover, SmaCrossoverParams
from qtrader.models import Side
from qtrader.models.testing import FakeStrategyContext, daily_slices


def test_sma_crossover_decides_on_the_hand_worked_bars(
    tiny_closes: tuple[list[date], list[int]],
) -> None:
    days, closes = tiny_closes
    # conftest.py lists the closes and where SMA(2)/SMA(3) cross (days 7, 10 and 13).
    strategy = SmaCrossover(SmaCrossoverParams(fast=2, slow=3, quantity=100))
    ctx = FakeStrategyContext(("AAA",))
    decisions = {}
    for day, bars in enumerate(
        daily_slices(days, {"AAA": [(float(c), float(c)) for c in closes]}), start=1
    ):
        ctx.push(bars)
        strategy.on_bar(ctx)
        if ctx.orders:
            (order,) = ctx.orders
            decisions[day] = (order.side, order.quantity)
            # pretend it filled, so the next target counts it
            ctx.positions["AAA"] = ctx.position("AAA") + order.signed_quantity
        ctx.clear()
    assert decisions == {
        7: (Side.BUY, Decimal(100)),
        10: (Side.SELL, Decimal(100)),
        13: (Side.BUY, Decimal(100)),
    }


def test_buy_and_hold_buys_each_symbol_once_at_its_first_bar(
    tiny_closes: tuple[list[date], list[int]],
) -> None:
    days, _ = tiny_closes
    strategy = BuyAndHold(BuyAndHoldParams(quantity=7))
    ctx = FakeStrategyContext(("AAA", "BBB"))
    slices = daily_slices(
        days[:3], {"AAA": [(1.0, 1.0)] * 3, "BBB": [None, (2.0, 2.0), (2.0, 2.0)]}
    )
    bought = []
    for bars in slices:
        ctx.push(bars)
        strategy.on_bar(ctx)
        bought.append([(o.symbol, o.quantity) for o in ctx.orders])
        ctx.clear()
    assert bought == [[("AAA", Decimal(7))], [("BBB", Decimal(7))], []]
