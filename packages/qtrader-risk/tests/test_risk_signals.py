"""Signals sized into orders by a fixed quantity, then checked like any order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from qtrader.models import OrderRequest, PortfolioView, RiskDecision, Side, Signal, SignalDirection
from qtrader.models.testing import ny_close
from qtrader.risk import ALREADY_AT_TARGET, NO_SIZING, PreTradeRiskService, RiskConfig

AT = ny_close(date(2024, 1, 2))
D = Decimal
Book = Callable[..., PortfolioView]
LONG, SHORT, FLAT = SignalDirection.LONG, SignalDirection.SHORT, SignalDirection.FLAT
SIZED = RiskConfig(signal_quantity=D(100))


def signal(direction: SignalDirection, symbol: str = "AAPL", strategy: str = "s1") -> Signal:
    return Signal(strategy_id=strategy, symbol=symbol, direction=direction, tag="why")


def decide(
    config: RiskConfig, intents: list[Signal], portfolio: PortfolioView, price: str = "10"
) -> list[RiskDecision]:
    return PreTradeRiskService(config).decide(intents, portfolio, {"AAPL": D(price)}, AT)


def order(side: Side, quantity: int) -> OrderRequest:
    return OrderRequest(strategy_id="s1", symbol="AAPL", side=side, quantity=D(quantity), tag="why")


def test_long_from_flat_buys_the_signal_quantity(book: Book) -> None:
    [d] = decide(SIZED, [signal(LONG)], book("100000"))
    assert d.approved
    assert d.intent == signal(LONG)
    assert d.order == order(Side.BUY, 100)  # market order, signal's tag kept
    assert d.figures["target"] == D(100)
    assert d.figures["position_before"] == D(0)
    assert d.figures["position_after"] == D(100)


def test_long_tops_up_to_the_target(book: Book) -> None:
    portfolio = book("100000", [("s1", "AAPL", 30, "10")])
    [d] = decide(SIZED, [signal(LONG)], portfolio)
    assert d.order == order(Side.BUY, 70)  # 100 - 30


def test_flat_sells_the_whole_long(book: Book) -> None:
    portfolio = book("100000", [("s1", "AAPL", 100, "10")])
    [d] = decide(SIZED, [signal(FLAT)], portfolio)
    assert d.order == order(Side.SELL, 100)  # 0 - 100
    assert d.figures["position_after"] == D(0)


def test_flat_buys_back_a_short(book: Book) -> None:
    portfolio = book("100000", [("s1", "AAPL", -40, "10")])
    [d] = decide(SIZED, [signal(FLAT)], portfolio)
    assert d.order == order(Side.BUY, 40)  # 0 - (-40)


def test_short_from_long_sells_through_to_the_short_target(book: Book) -> None:
    portfolio = book("100000", [("s1", "AAPL", 100, "10")])
    [d] = decide(SIZED, [signal(SHORT)], portfolio)
    assert d.order == order(Side.SELL, 200)  # -100 - 100
    assert d.figures["target"] == D(-100)
    assert d.figures["position_after"] == D(-100)


def test_signal_already_at_target_orders_nothing(book: Book) -> None:
    portfolio = book("100000", [("s1", "AAPL", 100, "10")])
    [d] = decide(SIZED, [signal(LONG)], portfolio)
    assert d.approved
    assert d.order is None
    assert d.reason == ALREADY_AT_TARGET == "already at target"
    assert d.figures == {"position_before": D(100), "target": D(100)}


def test_target_is_per_strategy(book: Book) -> None:
    # s2's 100 shares do not count for s1
    portfolio = book("100000", [("s2", "AAPL", 100, "10")])
    [d] = decide(SIZED, [signal(LONG)], portfolio)
    assert d.order == order(Side.BUY, 100)


def test_repeated_signal_in_one_batch_is_already_at_target(book: Book) -> None:
    first, second = decide(SIZED, [signal(LONG), signal(LONG)], book("100000"))
    assert first.order == order(Side.BUY, 100)
    # the first buy is counted: 100 is the target already
    assert second.order is None
    assert second.reason == ALREADY_AT_TARGET


def test_signal_without_sizing_is_rejected(book: Book) -> None:
    [d] = decide(RiskConfig(), [signal(LONG)], book("100000"))
    assert not d.approved
    assert d.order is None
    assert d.reason == NO_SIZING == "no sizing configured for signals"
    [d] = decide(RiskConfig(), [signal(SHORT)], book("100000"))
    assert d.reason == NO_SIZING


def test_flat_needs_no_sizing(book: Book) -> None:
    # getting out never depends on how entries are sized
    portfolio = book("100000", [("s1", "AAPL", 70, "10")])
    [d] = decide(RiskConfig(), [signal(FLAT)], portfolio)
    assert d.order == order(Side.SELL, 70)


def test_sized_signal_goes_through_the_cash_limit(book: Book) -> None:
    # 100 x 150 = 15000 > 10000
    [rejected] = decide(SIZED, [signal(LONG)], book("10000"), price="150")
    assert not rejected.approved
    assert rejected.reason.startswith("allow_margin is false: buy 100 AAPL at 150")
    # resized: 10000 / 150 = 66.67 -> 66
    config = RiskConfig(signal_quantity=D(100), on_breach="resize")
    [resized] = decide(config, [signal(LONG)], book("10000"), price="150")
    assert resized.order == order(Side.BUY, 66)


def test_short_signal_without_shorting_only_closes_the_long(book: Book) -> None:
    portfolio = book("100000", [("s1", "AAPL", 100, "10")])
    config = RiskConfig(signal_quantity=D(100), allow_short=False, on_breach="resize")
    [d] = decide(config, [signal(SHORT)], portfolio)
    # target -100 wants a sale of 200; no shorting -> 100, which closes the long
    assert d.order == order(Side.SELL, 100)
    assert "resized 200 to 100" in d.reason


def test_signal_without_price_is_rejected(book: Book) -> None:
    service = PreTradeRiskService(SIZED)
    [d] = service.decide([signal(LONG, symbol="MSFT")], book("100000"), {"AAPL": D(1)}, AT)
    assert not d.approved
    assert d.reason.startswith("no usable price for MSFT")


def test_decisions_and_sized_orders_are_what_validation_would_build(book: Book) -> None:
    # Built without validating again (their values are valid by construction): they must
    # still be exactly the models validation would give, field for field.
    config = RiskConfig(signal_quantity=D(100), allow_short=False)
    decisions = decide(config, [signal(LONG), signal(FLAT), signal(SHORT)], book("100000"))
    for d in decisions:
        assert RiskDecision.model_validate(d.model_dump()) == d
        assert repr(RiskDecision(**dict(d))) == repr(d)
    sized = decisions[0].order
    assert sized is not None
    assert sized.model_fields_set == order(Side.BUY, 100).model_fields_set
    assert [d.approved for d in decisions] == [True, True, False]
