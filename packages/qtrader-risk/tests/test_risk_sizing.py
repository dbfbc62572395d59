"""Each sizing method, lot sizes, minimum quantity and ticket, and strength scaling."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from qtrader.models import (
    BarSlice,
    OrderRequest,
    PortfolioView,
    RiskDecision,
    Side,
    Signal,
    SignalDirection,
    Split,
)
from qtrader.models.testing import make_bar, ny_close
from qtrader.risk import ALREADY_AT_TARGET, PreTradeRiskService, RiskConfig, RiskError

DAY = date(2024, 1, 2)
AT = ny_close(DAY)
D = Decimal
Book = Callable[..., PortfolioView]
LONG, SHORT, FLAT = SignalDirection.LONG, SignalDirection.SHORT, SignalDirection.FLAT


def signal(
    direction: SignalDirection = LONG, symbol: str = "AAPL", strategy: str = "s1", **kw: Any
) -> Signal:
    return Signal(strategy_id=strategy, symbol=symbol, direction=direction, **kw)


def service(sizing: dict[str, Any], **policy: Any) -> PreTradeRiskService:
    lots = policy.pop("lot_sizes", None)
    return PreTradeRiskService(RiskConfig.from_mapping({"sizing": sizing, **policy}), lots)


def decide(
    risk: PreTradeRiskService,
    intents: Sequence[Signal | OrderRequest],
    portfolio: PortfolioView,
    **prices: str,
) -> list[RiskDecision]:
    return risk.decide(intents, portfolio, {s: D(p) for s, p in prices.items()}, AT)


def bought(d: RiskDecision) -> Decimal:
    """The signed quantity a decision orders (0 for none)."""
    return D(0) if d.order is None else d.order.signed_quantity


# --- fixed notional, percent of equity ----------------------------------------------------


def test_fixed_notional_holds_that_much_at_the_last_close(book: Book) -> None:
    risk = service({"method": "fixed_notional", "notional": 10_000})
    [d] = decide(risk, [signal()], book("100000"), AAPL="150")
    # 10000 / 150 = 66.67 -> 66 whole shares
    assert d.order == OrderRequest(
        strategy_id="s1", symbol="AAPL", side=Side.BUY, quantity=D(66), sizing_price=D(150)
    )
    assert d.figures["target"] == D(66)
    assert d.figures["target_value"] == D(10_000)


def test_percent_of_equity_long_and_short(book: Book) -> None:
    risk = service({"method": "percent_of_equity", "fraction": "0.05"})
    # equity 100000: 0.05 x 100000 = 5000; 5000 / 150 = 33.3 -> 33
    [d] = decide(risk, [signal()], book("100000"), AAPL="150")
    assert bought(d) == D(33)
    # long 10 bought at 150 (cash 98500 + 10 x 150 = equity 100000): SHORT targets -33,
    # so sell 10 + 33 = 43
    portfolio = book("100000", [("s1", "AAPL", 10, "150")], {"AAPL": 150})
    [d] = decide(risk, [signal(SHORT)], portfolio, AAPL="150")
    assert d.figures["target"] == D(-33)
    assert bought(d) == D(-43)


def test_sizing_by_equity_with_no_equity_is_refused(book: Book) -> None:
    risk = service({"method": "percent_of_equity", "fraction": "0.05"})
    [d] = decide(risk, [signal()], book("0"), AAPL="150")
    assert not d.approved
    assert d.reason == ("percent_of_equity: equity is 0; there is nothing to size a position from")


def test_a_price_sizer_without_a_price_rejects_before_sizing(book: Book) -> None:
    risk = service({"method": "fixed_notional", "notional": 1000})
    [d] = decide(risk, [signal(symbol="MSFT")], book("100000"), AAPL="150")
    assert d.reason == "no usable price for MSFT (got none); cannot value the order"
    assert d.figures == {"position_before": D(0)}


def test_scale_by_strength(book: Book) -> None:
    sizing = {"method": "percent_of_equity", "fraction": "0.1"}
    # 0.1 x 100000 / 150 = 66.67 -> 66; scaled by 0.5: 33.33 -> 33
    [plain] = decide(service(sizing), [signal(strength=0.5)], book("100000"), AAPL="150")
    scaled = service({**sizing, "scale_by_strength": True})
    [half] = decide(scaled, [signal(strength=0.5)], book("100000"), AAPL="150")
    assert (bought(plain), bought(half)) == (D(66), D(33))


# --- target weight ------------------------------------------------------------------------


def test_target_weight_from_the_policy_the_signal_or_the_default(book: Book) -> None:
    risk = service({"method": "target_weight", "weights": {"AAPL": "0.1"}})
    portfolio = book("100000")
    # 0.1 x 100000 = 10000 at 150 -> 66.67 -> 66
    [d] = decide(risk, [signal()], portfolio, AAPL="150")
    assert (bought(d), d.figures["weight"]) == (D(66), D("0.1"))
    # the signal's own weight wins: 0.02 x 100000 = 2000 / 150 = 13.3 -> 13
    [d] = decide(risk, [signal(weight=D("0.02"))], portfolio, AAPL="150")
    assert bought(d) == D(13)
    # a symbol with no weight and no default is refused
    [d] = decide(risk, [signal(symbol="MSFT")], portfolio, MSFT="50")
    assert not d.approved
    assert d.reason.startswith("target_weight: no weight for MSFT")
    # with a default: 0.01 x 100000 = 1000 / 50 = 20
    risk = service({"method": "target_weight", "default_weight": "0.01"})
    [d] = decide(risk, [signal(symbol="MSFT")], portfolio, MSFT="50")
    assert bought(d) == D(20)


def test_target_weight_rebalances_towards_the_weight(book: Book) -> None:
    # long 50 at 100; the price doubled: equity = 95000 + 50 x 200 = 105000.
    portfolio = book("100000", [("s1", "AAPL", 50, "100")], {"AAPL": 200})
    risk = service({"method": "target_weight", "weights": {"AAPL": "0.05"}})
    # 0.05 x 105000 = 5250 / 200 = 26.25 -> 26: sell 50 - 26 = 24
    [d] = decide(risk, [signal()], portfolio, AAPL="200")
    assert d.figures["target"] == D(26)
    assert bought(d) == D(-24)


# --- equal weight -------------------------------------------------------------------------


def test_equal_weight_shares_the_fraction_among_current_signals(book: Book) -> None:
    risk = service({"method": "equal_weight", "fraction": "0.9"}, allow_margin=True)
    portfolio = book("90000")
    # three current signals: 0.9 x 90000 / 3 = 27000 each -> 2700 A at 10, 1350 B at 20,
    # 900 C at 30
    intents = [signal(symbol=s) for s in "ABC"]
    decisions = decide(risk, intents, portfolio, A="10", B="20", C="30")
    assert [bought(d) for d in decisions] == [D(2700), D(1350), D(900)]
    assert {d.figures["active_signals"] for d in decisions} == {D(3)}
    # next call: C goes flat, D comes in: current A, B, D -> D gets 27000 / 45 = 600;
    # another strategy's signals are counted apart: s2 has one, 0.9 x 90000 = 81000 / 81 = 1000
    flat_c, long_d, other = decide(
        risk,
        [signal(FLAT, symbol="C"), signal(symbol="D"), signal(symbol="E", strategy="s2")],
        portfolio,
        C="30",
        D="45",
        E="81",
    )
    assert flat_c.order is None  # nothing held: already at target
    assert (long_d.figures["active_signals"], bought(long_d)) == (D(3), D(600))
    assert (other.figures["active_signals"], bought(other)) == (D(1), D(1000))


# --- volatility target ----------------------------------------------------------------------


def observe(risk: PreTradeRiskService, portfolio: PortfolioView, closes: list[float]) -> None:
    """Show ``risk`` one daily AAPL bar per close, from DAY - len(closes) + 1 to DAY."""
    for n, close in enumerate(closes):
        day = DAY - timedelta(days=len(closes) - 1 - n)
        risk.observe(BarSlice.from_bars([make_bar("AAPL", day, close)]), portfolio)


VOL = {"method": "volatility_target", "target_volatility": "0.2", "window": 2}
"""Two returns, annualised over 50 periods, so that the numbers are round."""


def test_volatility_target_sizes_by_the_recent_volatility(book: Book) -> None:
    risk = service({**VOL, "periods_per_year": 50})
    portfolio = book("100000")
    observe(risk, portfolio, [100.0, 110.0, 99.0])
    # returns +0.1 and -0.1: sample stdev = 0.2 / sqrt(2) = 0.141421; x sqrt(50) = 7.0711
    # -> annual volatility 1.0. Weight 0.2 / 1.0 = 0.2: 0.2 x 100000 = 20000 at 99 -> 202.02
    [d] = decide(risk, [signal()], portfolio, AAPL="99")
    assert bought(d) == D(202)
    assert abs(d.figures["volatility"] - 1) < D("1e-12")
    assert d.order is not None
    assert d.order.sizing_price == D(99)


def test_volatility_target_is_capped_and_needs_a_full_window(book: Book) -> None:
    portfolio = book("100000")
    risk = service({**VOL, "periods_per_year": 50, "target_volatility": 2})
    observe(risk, portfolio, [100.0, 110.0])
    # one return seen, two needed
    [d] = decide(risk, [signal()], portfolio, AAPL="110")
    assert d.reason == (
        "volatility_target: 1 of the 2 returns of AAPL needed have been seen; cannot size "
        "yet (more warmup_bars would fill the window)"
    )
    observe(risk, portfolio, [99.0])
    # volatility 1.0 (as above): weight 2 / 1 = 2, capped at max_weight 1 -> 100000 / 99 -> 1010
    [d] = decide(risk, [signal()], portfolio, AAPL="99")
    assert bought(d) == D(1010)


def test_a_symbol_that_did_not_move_gets_the_cap(book: Book) -> None:
    risk = service({**VOL, "max_weight": "0.5"})
    portfolio = book("100000")
    observe(risk, portfolio, [100.0, 100.0, 100.0])
    # volatility 0: the cap, 0.5 x 100000 / 100 = 500
    [d] = decide(risk, [signal()], portfolio, AAPL="100")
    assert bought(d) == D(500)
    assert d.figures["volatility"] == D(0)


def test_a_split_is_not_a_price_move(book: Book) -> None:
    risk = service({**VOL, "periods_per_year": 50})
    portfolio = book("100000")
    observe(risk, portfolio, [100.0, 110.0])
    # 2-for-1 on DAY: the kept closes become 50, 55; the new close 49.5 is -10% (not -55%)
    split = Split(symbol="AAPL", ex_date=DAY, ratio=D(2))
    risk.observe(BarSlice.from_bars([make_bar("AAPL", DAY, 49.5)], actions=(split,)), portfolio)
    # volatility 1.0 as above: 20000 / 49.5 = 404.04 -> 404
    [d] = decide(risk, [signal()], portfolio, AAPL="49.5")
    assert bought(d) == D(404)


# --- lots and minimums ----------------------------------------------------------------------


def test_quantities_round_down_to_the_lot(book: Book) -> None:
    risk = service({"method": "fixed_notional", "notional": 10_000}, lot_sizes={"AAPL": D(100)})
    # 10000 / 15 = 666.7 -> 6 lots of 100 = 600
    [d] = decide(risk, [signal()], book("100000"), AAPL="15")
    assert bought(d) == D(600)
    # an odd lot held (30): target 600, the order is 570 rounded down to 500
    held = book("100000", [("s1", "AAPL", 30, "15")], {"AAPL": 15})
    [d] = decide(risk, [signal()], held, AAPL="15")
    assert (d.figures["target"], bought(d)) == (D(600), D(500))
    # FLAT closes every share, odd lot included
    [d] = decide(risk, [signal(FLAT)], held, AAPL="15")
    assert bought(d) == D(-30)
    # within one lot of the target: nothing to order
    near = book("100000", [("s1", "AAPL", 550, "15")], {"AAPL": 15})
    [d] = decide(risk, [signal()], near, AAPL="15")
    assert (d.approved, d.order, d.reason) == (True, None, ALREADY_AT_TARGET)


def test_a_size_below_one_lot_is_refused(book: Book) -> None:
    risk = service({"method": "fixed_notional", "notional": 1000}, lot_sizes={"AAPL": D(100)})
    # 1000 / 15 = 66.67 shares, not one lot of 100
    [d] = decide(risk, [signal()], book("100000"), AAPL="15")
    assert not d.approved
    assert d.reason == "fixed_notional: 66.6667 shares of AAPL is less than one lot (100)"
    # a fixed quantity too
    fixed = PreTradeRiskService(RiskConfig(signal_quantity=D(50)), {"AAPL": D(100)})
    [d] = decide(fixed, [signal()], book("100000"), AAPL="15")
    assert d.reason == "fixed_quantity: 50 shares of AAPL is less than one lot (100)"


def test_resizes_are_whole_lots(book: Book) -> None:
    risk = PreTradeRiskService(RiskConfig(on_breach="resize"), {"AAPL": D(100)})
    buy = OrderRequest(strategy_id="s1", symbol="AAPL", side=Side.BUY, quantity=D(1000))
    # 1000 x 15 = 15000 > cash 10000: 10000 // (15 x 100) = 6 lots -> 600 (not 666)
    [d] = decide(risk, [buy], book("10000"), AAPL="15")
    assert bought(d) == D(600)


def test_lot_sizes_must_be_positive() -> None:
    with pytest.raises(RiskError, match="the lot size of AAPL must be a Decimal above 0, got"):
        PreTradeRiskService(RiskConfig(), {"AAPL": D(0)})


def test_a_sized_order_below_the_minimums_is_not_sent(book: Book) -> None:
    sizing = {"method": "target_weight", "weights": {"AAPL": "0.1"}}
    # held 60 at 150 (equity 100000): 0.1 x 100000 / 150 = 66 -> buy 6, worth 900
    held = book("100000", [("s1", "AAPL", 60, "150")], {"AAPL": 150})
    [d] = decide(service(sizing, min_ticket_value=1000), [signal()], held, AAPL="150")
    assert (d.approved, d.order) == (True, None)
    assert d.reason == (
        "min_ticket_value: buy 6 AAPL at 150 is worth 900, below the minimum ticket 1000; "
        "nothing ordered"
    )
    [d] = decide(service(sizing, min_quantity=10), [signal()], held, AAPL="150")
    assert d.reason == "min_quantity: buy 6 AAPL is below the minimum quantity 10; nothing ordered"
    # 16 to buy (held 50): 2400 is worth sending
    fewer = book("100000", [("s1", "AAPL", 50, "150")], {"AAPL": 150})
    [d] = decide(service(sizing, min_ticket_value=1000), [signal()], fewer, AAPL="150")
    assert bought(d) == D(16)
    # getting flat is never too small
    small = book("100000", [("s1", "AAPL", 6, "150")], {"AAPL": 150})
    [d] = decide(service(sizing, min_quantity=10), [signal(FLAT)], small, AAPL="150")
    assert bought(d) == D(-6)


def test_an_order_resized_below_the_minimums_is_rejected(book: Book) -> None:
    risk = PreTradeRiskService(RiskConfig(on_breach="resize", min_ticket_value=D(1000)))
    buy = OrderRequest(strategy_id="s1", symbol="AAPL", side=Side.BUY, quantity=D(100))
    # cash 1000: 1000 // 150 = 6 shares, worth 900 < 1000
    [d] = decide(risk, [buy], book("1000"), AAPL="150")
    assert not d.approved
    assert d.reason.startswith("allow_margin is false: buy 100 AAPL at 150 costs 15000")
    assert d.reason.endswith(
        "; resized 100 to 6; min_ticket_value: buy 6 AAPL at 150 is worth 900, "
        "below the minimum ticket 1000"
    )
    # as asked, an explicit order is the strategy's to size: 5 x 150 = 750 passes
    small = buy.model_copy(update={"quantity": D(5)})
    [d] = decide(risk, [small], book("1000"), AAPL="150")
    assert d.order is small
