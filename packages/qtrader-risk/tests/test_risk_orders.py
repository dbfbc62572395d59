"""Explicit orders through each limit, with figures worked out by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from qtrader.models import (
    OrderRequest,
    OrderType,
    PortfolioView,
    RiskDecision,
    RiskService,
    Side,
)
from qtrader.models.testing import ny_close
from qtrader.risk import (
    CashLimit,
    OrderCheck,
    PreTradeRiskService,
    RiskConfig,
    RiskError,
)

AT = ny_close(date(2024, 1, 2))
D = Decimal
Book = Callable[..., PortfolioView]


def buy(symbol: str, quantity: int | str, strategy: str = "s1", **kw: Any) -> OrderRequest:
    return OrderRequest(
        strategy_id=strategy, symbol=symbol, side=Side.BUY, quantity=D(quantity), **kw
    )


def sell(symbol: str, quantity: int | str, strategy: str = "s1", **kw: Any) -> OrderRequest:
    return OrderRequest(
        strategy_id=strategy, symbol=symbol, side=Side.SELL, quantity=D(quantity), **kw
    )


def decide(
    config: RiskConfig,
    intents: list[OrderRequest],
    portfolio: PortfolioView,
    prices: dict[str, str],
) -> list[RiskDecision]:
    service = PreTradeRiskService(config)
    return service.decide(intents, portfolio, {s: D(p) for s, p in prices.items()}, AT)


RESIZE = RiskConfig(on_breach="resize")


def test_service_satisfies_the_port() -> None:
    assert isinstance(PreTradeRiskService(RiskConfig()), RiskService)


def test_order_within_every_limit_passes_unchanged(book: Book) -> None:
    order = buy("AAPL", 100)
    [d] = decide(RiskConfig(), [order], book("100000"), {"AAPL": "150"})
    assert d.approved
    assert d.order is order  # the very same request, not a copy
    assert d.reason == ""
    assert d.timestamp == AT
    # cost 100 x 150 = 15000; budget = 100000 - 0 committed - 0 buffer = 100000
    assert d.figures == {
        "position_before": D(0),
        "price": D(150),
        "equity": D(100000),
        "quantity_requested": D(100),
        "cash": D(100000),
        "committed_cash": D(0),
        "buffer_amount": D(0),
        "budget": D(100000),
        "cost": D(15000),
        "quantity_approved": D(100),
        "position_after": D(100),
    }


def test_empty_batch_gives_no_decisions(book: Book) -> None:
    assert decide(RiskConfig(), [], book("1"), {}) == []


def test_buy_costing_more_than_cash_is_rejected_with_the_figures(book: Book) -> None:
    [d] = decide(RiskConfig(), [buy("AAPL", 100)], book("10000"), {"AAPL": "150"})
    # 100 x 150 = 15000 > 10000
    assert not d.approved
    assert d.order is None
    assert d.reason == (
        "allow_margin is false: buy 100 AAPL at 150 costs 15000, above the budget 10000 "
        "(cash 10000 - committed 0 - buffer 0)"
    )
    assert d.figures["cost"] == D(15000)
    assert d.figures["budget"] == D(10000)
    assert d.figures["quantity_approved"] == D(0)


def test_buy_costing_more_than_cash_is_resized_down_to_whole_shares(book: Book) -> None:
    [d] = decide(RESIZE, [buy("AAPL", 100)], book("10000"), {"AAPL": "150"})
    # 10000 / 150 = 66.67 -> 66 shares; 66 x 150 = 9900 <= 10000 (67 x 150 = 10050 would not)
    assert d.approved
    assert d.order is not None
    assert d.order.quantity == D(66)
    assert d.order.side is Side.BUY
    assert d.reason.endswith("; resized 100 to 66")
    assert d.reason.startswith("allow_margin is false: buy 100 AAPL at 150 costs 15000")
    assert d.figures["quantity_requested"] == D(100)
    assert d.figures["quantity_approved"] == D(66)
    assert d.figures["position_after"] == D(66)


def test_buy_exactly_equal_to_the_budget_passes(book: Book) -> None:
    # 80 x 125 = 10000 = budget: the limit is inclusive
    [d] = decide(RiskConfig(), [buy("AAPL", 80)], book("10000"), {"AAPL": "125"})
    assert d.approved
    assert d.figures["cost"] == d.figures["budget"] == D(10000)


def test_resize_to_nothing_is_a_rejection(book: Book) -> None:
    # 100 / 150 = 0.67 -> 0 shares fit
    [d] = decide(RESIZE, [buy("AAPL", 5)], book("100"), {"AAPL": "150"})
    assert not d.approved
    assert d.order is None
    assert d.reason.endswith("; no quantity fits")


def test_fractional_order_is_resized_to_whole_shares(book: Book) -> None:
    # 1000 / 300 = 3.33 -> 3 shares (lot size 1), not 3.33
    [d] = decide(RESIZE, [buy("X", "10.5")], book("1000"), {"X": "300"})
    assert d.order is not None
    assert d.order.quantity == D(3)


def test_cash_committed_earlier_in_the_batch_is_not_spent_twice(book: Book) -> None:
    orders = [buy("AAPL", 100), buy("MSFT", 50)]
    first, second = decide(RiskConfig(), orders, book("20000"), {"AAPL": "150", "MSFT": "200"})
    # first: 100 x 150 = 15000 <= 20000, approved; commits 15000
    assert first.approved
    # second: 50 x 200 = 10000 > 20000 - 15000 = 5000
    assert not second.approved
    assert second.figures["committed_cash"] == D(15000)
    assert second.figures["budget"] == D(5000)
    assert "committed 15000" in second.reason


def test_batch_commitment_with_resize(book: Book) -> None:
    orders = [buy("AAPL", 100), buy("MSFT", 50)]
    first, second = decide(RESIZE, orders, book("20000"), {"AAPL": "150", "MSFT": "200"})
    assert first.order == orders[0]
    # 5000 left / 200 = 25 shares
    assert second.order is not None
    assert second.order.quantity == D(25)


def test_rejected_buy_commits_no_cash(book: Book) -> None:
    orders = [buy("AAPL", 200), buy("MSFT", 50)]
    first, second = decide(RiskConfig(), orders, book("20000"), {"AAPL": "150", "MSFT": "200"})
    assert not first.approved  # 200 x 150 = 30000 > 20000
    assert second.approved  # 50 x 200 = 10000 <= 20000 - 0
    assert second.figures["committed_cash"] == D(0)


def test_sells_free_no_cash_for_later_buys(book: Book) -> None:
    # s1 holds 100 AAPL bought at 100 from 10000 cash -> cash 0.
    portfolio = book("10000", [("s1", "AAPL", 100, "100")])
    orders = [sell("AAPL", 100), buy("MSFT", 1)]
    first, second = decide(RiskConfig(), orders, portfolio, {"AAPL": "100", "MSFT": "50"})
    assert first.approved
    # the sale's 10000 proceeds are not counted: budget stays 0 < 50
    assert not second.approved
    assert second.figures["budget"] == D(0)


def test_cash_buffer_keeps_a_fraction_of_equity_back(book: Book) -> None:
    config = RiskConfig(cash_buffer=D("0.05"))
    # equity 100000 -> buffer 5000 -> budget 95000
    [rejected] = decide(config, [buy("AAPL", 640)], book("100000"), {"AAPL": "150"})
    assert not rejected.approved  # 640 x 150 = 96000 > 95000
    assert rejected.figures["buffer_amount"] == D(5000)
    assert rejected.figures["budget"] == D(95000)
    [passed] = decide(config, [buy("AAPL", 633)], book("100000"), {"AAPL": "150"})
    assert passed.approved  # 633 x 150 = 94950 <= 95000


def test_cash_buffer_is_taken_on_equity_including_positions(book: Book) -> None:
    # 90000 cash, buy 100 XYZ at 400 -> cash 50000; marked at 500 -> equity 50000 + 50000
    portfolio = book("90000", [("s1", "XYZ", 100, "400")], {"XYZ": 500.0})
    config = RiskConfig(cash_buffer=D("0.1"), on_breach="resize")
    [d] = decide(config, [buy("AAPL", 300)], portfolio, {"AAPL": "150", "XYZ": "500"})
    # buffer 0.1 x 100000 = 10000; budget 50000 - 10000 = 40000; 300 x 150 = 45000 too much
    # 40000 / 150 = 266.67 -> 266 (266 x 150 = 39900)
    assert d.figures["equity"] == D(100000)
    assert d.figures["budget"] == D(40000)
    assert d.order is not None
    assert d.order.quantity == D(266)


def test_margin_lets_a_buy_spend_more_than_the_cash(book: Book) -> None:
    config = RiskConfig(allow_margin=True)
    [d] = decide(config, [buy("AAPL", 100)], book("10000"), {"AAPL": "150"})
    assert d.approved
    assert "budget" not in d.figures  # no cash check ran


def test_limit_buy_is_costed_at_its_limit_price(book: Book) -> None:
    order = buy("AAPL", 100, type=OrderType.LIMIT, limit_price=D(160))
    # at the close, 100 x 150 = 15000 would fit 15500; at the limit, 100 x 160 = 16000 does not
    [d] = decide(RiskConfig(), [order], book("15500"), {"AAPL": "150"})
    assert not d.approved
    assert d.figures["reference_price"] == D(160)
    assert d.figures["cost"] == D(16000)


def test_limit_buy_resize_and_commitment_use_the_limit_price(book: Book) -> None:
    orders = [buy("AAPL", 100, type=OrderType.LIMIT, limit_price=D(160)), buy("MSFT", 1)]
    first, second = decide(RESIZE, orders, book("15500"), {"AAPL": "150", "MSFT": "1"})
    # 15500 / 160 = 96.875 -> 96; commits 96 x 160 = 15360
    assert first.order is not None
    assert first.order.quantity == D(96)
    assert first.order.limit_price == D(160)  # everything but the quantity is kept
    assert second.figures["committed_cash"] == D(15360)
    assert second.figures["budget"] == D(140)


def test_stop_buy_is_costed_at_least_at_its_stop(book: Book) -> None:
    stop = buy("AAPL", 100, type=OrderType.STOP, stop_price=D(155))
    # triggers at >= 155 although the close is 150: 100 x 155 = 15500 > 15200
    [d] = decide(RiskConfig(), [stop], book("15200"), {"AAPL": "150"})
    assert not d.approved
    assert d.figures["cost"] == D(15500)
    # a stop below the close (already through) is costed at the close: 100 x 150 = 15000
    low = buy("AAPL", 100, type=OrderType.STOP, stop_price=D(140))
    [d] = decide(RiskConfig(), [low], book("15200"), {"AAPL": "150"})
    assert d.approved
    assert d.figures["cost"] == D(15000)


def test_missing_price_is_rejected_not_guessed(book: Book) -> None:
    unconstrained = RiskConfig.preset("unconstrained")
    [d] = decide(unconstrained, [buy("AAPL", 1)], book("100000"), {"MSFT": "10"})
    assert not d.approved
    assert d.reason == "no usable price for AAPL (got none); cannot value the order"


@pytest.mark.parametrize("price", ["0", "-1", "NaN", "Infinity"])
def test_unusable_price_is_rejected(book: Book, price: str) -> None:
    [d] = decide(RiskConfig(), [buy("AAPL", 1)], book("100000"), {"AAPL": price})
    assert not d.approved
    assert d.reason.startswith("no usable price for AAPL")


def test_short_sale_is_refused_when_shorting_is_off(book: Book) -> None:
    portfolio = book("100000", [("s1", "AAPL", 100, "150")])
    config = RiskConfig(allow_short=False)
    [d] = decide(config, [sell("AAPL", 150)], portfolio, {"AAPL": "150"})
    # 100 - 150 = -50 < 0
    assert not d.approved
    assert (
        d.reason == "allow_short is false: sell 150 AAPL would take strategy 's1' from 100 to -50"
    )
    [closing] = decide(config, [sell("AAPL", 100)], portfolio, {"AAPL": "150"})
    assert closing.approved  # 100 - 100 = 0 is not short


def test_short_sale_is_resized_to_close_the_long_exactly(book: Book) -> None:
    portfolio = book("100000", [("s1", "AAPL", 100, "150")])
    config = RiskConfig(allow_short=False, on_breach="resize")
    [d] = decide(config, [sell("AAPL", 150)], portfolio, {"AAPL": "150"})
    assert d.order is not None
    assert d.order.quantity == D(100)
    assert d.figures["position_after"] == D(0)


def test_short_check_is_per_strategy(book: Book) -> None:
    # s1's long does not let s2 sell
    portfolio = book("100000", [("s1", "AAPL", 100, "150")])
    config = RiskConfig(allow_short=False, on_breach="resize")
    [d] = decide(config, [sell("AAPL", 10, strategy="s2")], portfolio, {"AAPL": "150"})
    assert not d.approved
    assert d.reason.endswith("no quantity fits")


def test_short_check_counts_sells_approved_earlier_in_the_batch(book: Book) -> None:
    portfolio = book("100000", [("s1", "AAPL", 100, "150")])
    config = RiskConfig(allow_short=False, on_breach="resize")
    first, second = decide(config, [sell("AAPL", 60), sell("AAPL", 60)], portfolio, {"AAPL": "1"})
    assert first.order == sell("AAPL", 60)  # 100 - 60 = 40
    # 40 - 60 = -20 -> resized to the 40 left
    assert second.order is not None
    assert second.order.quantity == D(40)
    assert second.figures["position_before"] == D(40)


def test_a_limit_buy_approved_earlier_in_the_call_covers_no_sale(book: Book) -> None:
    # Flat, a buy limit of 10 at 5 (far below the market: it may never fill), then a sale
    # of 10: taken against the limit buy it went 10 -> 0 and was approved, and the run
    # ended short 10. A market buy of 10 fills at the next open: it covers a sale.
    portfolio = book("100000", [])
    config = RiskConfig(allow_short=False)
    resting = OrderRequest(
        strategy_id="s1", symbol="AAPL", side=Side.BUY, quantity=D(10),
        type=OrderType.LIMIT, limit_price=D(5),
    )  # fmt: skip
    prices = {"AAPL": "10"}
    _, sale = decide(config, [resting, sell("AAPL", 10)], portfolio, prices)
    assert not sale.approved
    assert (
        sale.reason == "allow_short is false: sell 10 AAPL would take strategy 's1' from 0 to -10"
    )
    _, sale = decide(config, [buy("AAPL", 10), sell("AAPL", 10)], portfolio, prices)
    assert sale.approved


def test_max_position_rejects_an_order_above_the_fraction_of_equity(book: Book) -> None:
    config = RiskConfig(max_position_pct=D("0.2"))
    [d] = decide(config, [buy("AAPL", 150)], book("100000"), {"AAPL": "150"})
    # 150 x 150 = 22500 > 0.2 x 100000 = 20000
    assert not d.approved
    assert d.reason == (
        "max_position_pct: buy 150 AAPL takes the position from 0 to 150, worth 22500 at 150, "
        "above 0.2 x equity 100000 = 20000"
    )
    assert d.figures["position_value_after"] == D(22500)
    assert d.figures["position_limit"] == D(20000)


def test_max_position_resize_lands_on_the_limit_inclusive(book: Book) -> None:
    # 100000 cash, buy 100 AAPL at 100 -> cash 90000; marked at 150 -> equity 90000 + 15000
    portfolio = book("100000", [("s1", "AAPL", 100, "100")], {"AAPL": 150.0})
    config = RiskConfig(max_position_pct=D("0.2"), on_breach="resize")
    [d] = decide(config, [buy("AAPL", 50)], portfolio, {"AAPL": "150"})
    # limit 0.2 x 105000 = 21000 = 140 shares at 150; 100 held -> 40 more (exactly at 21000)
    assert d.figures["position_limit"] == D(21000)
    assert d.order is not None
    assert d.order.quantity == D(40)
    assert d.figures["position_after"] == D(140)


def test_max_position_lets_a_reducing_order_through_when_already_above(book: Book) -> None:
    # 200 AAPL at 150 = 30000 of equity 100000 (cash 70000): above 0.2 x 100000 = 20000
    portfolio = book("100000", [("s1", "AAPL", 200, "150")], {"AAPL": 150.0})
    config = RiskConfig(max_position_pct=D("0.2"))
    [d] = decide(config, [sell("AAPL", 50)], portfolio, {"AAPL": "150"})
    # 150 x 150 = 22500 is still above 20000, but the order only shrinks the position
    assert d.approved
    [more] = decide(config, [buy("AAPL", 1)], portfolio, {"AAPL": "150"})
    assert not more.approved  # adding to it is not


def test_max_position_applies_to_shorts_and_to_crossing_flat(book: Book) -> None:
    # 100000 cash, buy 100 at 150 -> cash 85000; marked 150 -> equity 100000; limit 20000
    portfolio = book("100000", [("s1", "AAPL", 100, "150")], {"AAPL": 150.0})
    config = RiskConfig(max_position_pct=D("0.2"), on_breach="resize")
    [d] = decide(config, [sell("AAPL", 300)], portfolio, {"AAPL": "150"})
    # 100 - 300 = -200 -> 30000 > 20000. Most short: 20000 / 150 = 133.33 -> -133,
    # so sell 100 + 133 = 233 (-133 x 150 = 19950)
    assert d.order is not None
    assert d.order.quantity == D(233)
    assert d.figures["position_after"] == D(-133)


def test_max_position_counts_every_strategy_and_the_batch(book: Book) -> None:
    # s1 holds 100 at 100 (cash 90000); marked 100 -> equity 100000; limit 0.2 -> 20000 = 200 sh
    portfolio = book("100000", [("s1", "AAPL", 100, "100")], {"AAPL": 100.0})
    config = RiskConfig(max_position_pct=D("0.2"), on_breach="resize")
    first, second = decide(
        config,
        [buy("AAPL", 60, strategy="s2"), buy("AAPL", 60, strategy="s3")],
        portfolio,
        {"AAPL": "100"},
    )
    # 100 + 60 = 160 <= 200; then 160 + 60 = 220 > 200 -> 40
    assert first.approved
    assert first.order == buy("AAPL", 60, strategy="s2")
    assert second.order is not None
    assert second.order.quantity == D(40)
    assert second.figures["account_position_before"] == D(160)
    assert second.figures["position_before"] == D(0)  # s3's own position


def test_max_position_with_no_equity_allows_no_position(book: Book) -> None:
    config = RiskConfig(max_position_pct=D("0.5"), allow_margin=True, on_breach="resize")
    [d] = decide(config, [buy("AAPL", 1)], book("0"), {"AAPL": "10"})
    assert not d.approved
    assert d.figures["position_limit"] == D(0)


def test_limits_resize_in_sequence_and_report_each(book: Book) -> None:
    # equity 100000, limit 0.2 -> 20000 = 133 shares at 150; then cash 10000 -> 66 shares
    portfolio = book("100000", [("s1", "CASH", 1, "90000")], {"CASH": 90000.0})
    # that holding leaves cash 10000, equity 10000 + 90000 = 100000
    config = RiskConfig(max_position_pct=D("0.2"), on_breach="resize")
    [d] = decide(config, [buy("AAPL", 200)], portfolio, {"AAPL": "150"})
    assert d.order is not None
    assert d.order.quantity == D(66)
    first, second = d.reason.split("; resized ")[0], d.reason.split("; ")[2]
    assert first.startswith("max_position_pct: buy 200 AAPL")
    assert second.startswith("allow_margin is false: buy 133 AAPL at 150 costs 19950")
    assert d.reason.endswith("resized 133 to 66")


def test_naive_timestamp_is_refused(book: Book) -> None:
    service = PreTradeRiskService(RiskConfig())
    with pytest.raises(RiskError, match="timezone-aware"):
        service.decide([buy("A", 1)], book("1"), {}, datetime(2024, 1, 2, 16))  # noqa: DTZ001


def test_an_intent_of_another_type_is_refused(book: Book) -> None:
    service = PreTradeRiskService(RiskConfig())
    with pytest.raises(RiskError, match=r"intent #1 is a str"):
        service.decide([buy("A", 1), "buy A"], book("1"), {}, AT)  # type: ignore[list-item]


def test_buys_are_not_touched_by_the_short_limit(book: Book) -> None:
    config = RiskConfig(allow_short=False)
    [d] = decide(config, [buy("AAPL", 10)], book("100000"), {"AAPL": "150"})
    assert d.order == buy("AAPL", 10)


def test_service_exposes_its_config() -> None:
    config = RiskConfig(allow_short=False)
    assert PreTradeRiskService(config).config is config


def test_resize_never_rounds_up_at_the_last_digit() -> None:
    # budget 3 - 1e-27 at 1 - 3e-28 a share: the true quotient is 2.9999999999999999999999999993
    # which a 28-digit division rounds to 3.000...; 3 shares would cost more than the budget.
    budget = D("2.999999999999999999999999999")
    price = D("0.9999999999999999999999999997")
    check = OrderCheck(
        order=buy("X", 5),
        price=price,
        reference_price=price,
        strategy_position=D(0),
        account_position=D(0),
        cash=budget,
        committed_cash=D(0),
        equity=budget,
    )
    verdict = CashLimit(D(0)).check(check)
    assert verdict.breached
    assert verdict.fit == D(2)
