"""Orders still working at the venue count as committed cash and shares."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from qtrader.models import (
    Order,
    OrderRequest,
    OrderType,
    PortfolioView,
    Side,
    Signal,
    SignalDirection,
)
from qtrader.models.testing import ny_close
from qtrader.risk import PreTradeRiskService, RiskConfig, RiskError

AT = ny_close(date(2024, 1, 2))
EARLIER = ny_close(date(2024, 1, 1))
D = Decimal


def working(side: Side, quantity: int, n: int = 1, **kw: Any) -> Order:
    return Order(
        id=f"W{n}", created_at=EARLIER, strategy_id="s1", symbol="AAPL", side=side,
        quantity=D(quantity), **kw,
    )  # fmt: skip


def new(side: Side, quantity: int) -> OrderRequest:
    return OrderRequest(strategy_id="s1", symbol="AAPL", side=side, quantity=D(quantity))


def decide(
    config: RiskConfig,
    intents: list[OrderRequest | Signal],
    portfolio: PortfolioView,
    prices: dict[str, str],
    open_orders: list[Order],
) -> list[Any]:
    service = PreTradeRiskService(config)
    return service.decide(intents, portfolio, {s: D(p) for s, p in prices.items()}, AT, open_orders)


def test_a_resting_limit_buy_holds_its_cash(book: Callable[..., PortfolioView]) -> None:
    # cash 10,000; resting buy 50 @ limit 150 holds 7,500; a new buy of 20 at the last
    # close 150 costs 3,000 > 10,000 - 7,500 = 2,500: rejected. Without it: approved.
    view = book("10000")
    resting = working(Side.BUY, 50, type=OrderType.LIMIT, limit_price=D(150))
    [with_resting] = decide(RiskConfig(), [new(Side.BUY, 20)], view, {"AAPL": "150"}, [resting])
    [alone] = decide(RiskConfig(), [new(Side.BUY, 20)], view, {"AAPL": "150"}, [])
    assert not with_resting.approved
    assert with_resting.figures["committed_cash"] == D(7500)
    assert alone.approved


def test_a_working_sell_is_not_sold_twice_when_shorting_is_off(
    book: Callable[..., PortfolioView],
) -> None:
    # long 100; a working sell of 100 already takes it flat; another sell of 10 would short
    view = book("0", [("s1", "AAPL", 100, "10")])
    config = RiskConfig(allow_short=False)
    [d] = decide(config, [new(Side.SELL, 10)], view, {"AAPL": "10"}, [working(Side.SELL, 100)])
    assert not d.approved
    assert "short" in d.reason


def test_signal_sizing_counts_working_orders(book: Callable[..., PortfolioView]) -> None:
    # target +100; position 0 plus a working buy of 100: nothing more to order
    view = book("100000")
    signal = Signal(strategy_id="s1", symbol="AAPL", direction=SignalDirection.LONG)
    config = RiskConfig(signal_quantity=D(100))
    [d] = decide(config, [signal], view, {"AAPL": "10"}, [working(Side.BUY, 100)])
    assert d.approved
    assert d.order is None
    assert d.reason == "already at target"


def test_a_working_limit_order_without_a_close_is_valued_at_its_limit(
    book: Callable[..., PortfolioView],
) -> None:
    # no close for AAPL: the resting buy 10 @ limit 100 holds 1,000 of the 1,500 cash
    view = book("1500")
    resting = working(Side.BUY, 10, type=OrderType.LIMIT, limit_price=D(100))
    other = OrderRequest(strategy_id="s1", symbol="MSFT", side=Side.BUY, quantity=D(6))
    [d] = decide(RiskConfig(), [other], view, {"MSFT": "100"}, [resting])
    assert not d.approved  # 600 > 1,500 - 1,000
    assert d.figures["committed_cash"] == D(1000)


def test_a_working_market_order_without_any_price_is_an_error(
    book: Callable[..., PortfolioView],
) -> None:
    with pytest.raises(RiskError, match=r"working order W1 \(AAPL\) has no usable price"):
        decide(RiskConfig(), [], book("1"), {}, [working(Side.BUY, 1)])


def test_the_two_exits_of_a_bracket_count_once(book: Callable[..., PortfolioView]) -> None:
    # long 100; a bracket's exits of 60 each (a stop and a limit, one cancels the other):
    # at most 60 are sold by them, so a sell of 30 leaves 10 long and passes with shorting
    # off. Counting both exits (120) would see 30 more as a short of 50.
    view = book("0", [("s1", "AAPL", 100, "10")])
    exits = [
        working(Side.SELL, 60, 1, type=OrderType.STOP, stop_price=D(9), parent_id="E1"),
        working(Side.SELL, 60, 2, type=OrderType.LIMIT, limit_price=D(12), parent_id="E1"),
    ]
    config = RiskConfig(allow_short=False)
    [d] = decide(config, [new(Side.SELL, 30)], view, {"AAPL": "10"}, exits)
    assert d.approved, d.reason
    [more] = decide(config, [new(Side.SELL, 50)], view, {"AAPL": "10"}, exits)
    assert not more.approved  # 100 - 60 - 50 = -10: a short
    # a lone take-profit (its stop was cancelled) still counts
    [lone] = decide(config, [new(Side.SELL, 50)], view, {"AAPL": "10"}, exits[1:])
    assert not lone.approved


def signal(direction: SignalDirection) -> Signal:
    return Signal(strategy_id="s1", symbol="AAPL", direction=direction)


def bracket_exits(quantity: int) -> list[Order]:
    """The stop-loss and take-profit the venue placed for a filled bracket entry (W0)."""
    return [
        working(Side.SELL, quantity, 1, type=OrderType.STOP, stop_price=D(1), parent_id="W0"),
        working(Side.SELL, quantity, 2, type=OrderType.LIMIT, limit_price=D(1000),
                parent_id="W0"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("direction", "order"),
    [(SignalDirection.FLAT, (Side.SELL, D(100))), (SignalDirection.LONG, None)],
)
def test_signals_are_sized_from_the_position_not_from_its_protective_exits(
    book: Callable[..., PortfolioView],
    direction: SignalDirection,
    order: tuple[Side, Decimal] | None,
) -> None:
    # Long 100 with a bracket's exits working. The exits used to count as sold: FLAT found
    # the strategy "already at target", LONG (100 a signal) bought another 100.
    view = book("10000", [("s1", "AAPL", 100, "10")])
    config = RiskConfig(signal_quantity=D(100))
    [d] = decide(config, [signal(direction)], view, {"AAPL": "10"}, bracket_exits(100))
    got = None if d.order is None else (d.order.side, d.order.quantity)
    assert (d.approved, got) == (True, order)
    assert d.figures["position_sized_from"] == D(100)


def test_flat_does_not_sell_a_resting_buy_that_has_not_filled(
    book: Callable[..., PortfolioView],
) -> None:
    # Flat, with a limit buy of 100 resting: FLAT used to sell 100 (target 0 less the
    # working +100), a short; there is nothing held to sell.
    view = book("10000")
    resting = working(Side.BUY, 100, type=OrderType.LIMIT, limit_price=D(1))
    [d] = decide(RiskConfig(signal_quantity=D(100)), [signal(SignalDirection.FLAT)], view,
                 {"AAPL": "10"}, [resting])  # fmt: skip
    assert (d.approved, d.order) == (True, None)


def test_a_resting_buy_does_not_cover_a_sale_when_shorting_is_off(
    book: Callable[..., PortfolioView],
) -> None:
    # Flat, with a limit buy of 100 resting (it may never fill): a sale of 100 would short.
    view = book("10000")
    resting = working(Side.BUY, 100, type=OrderType.LIMIT, limit_price=D(1))
    config = RiskConfig(allow_short=False)
    [d] = decide(config, [new(Side.SELL, 100)], view, {"AAPL": "10"}, [resting])
    assert not d.approved
    assert "from 0 to -100" in d.reason
