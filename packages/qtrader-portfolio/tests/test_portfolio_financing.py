"""Borrow fees on shorts and margin interest on negative cash, worked out by hand.

Financing accrues at the first fill, action or mark of a later session date, for the
calendar days since the last one, on the book as it stood at the previous close; each
charge is the increase of the cents-rounded (half-even) exact accrual.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from qtrader.models import BarSlice, CashDividend, Fill, Side, Split
from qtrader.models.testing import make_bar, ny_close
from qtrader.portfolio import (
    FinancingConfig,
    LedgerEntry,
    LedgerEntryType,
    LotPortfolioService,
    PortfolioConfig,
    PortfolioError,
    replay,
)

D = Decimal
DAY0 = date(2024, 1, 2)  # a Tuesday
_ids = iter(range(1, 100_000))


def fill(side: Side, quantity: int, price: str, *, day: date, symbol: str = "AAA",
         strategy: str = "s1") -> Fill:  # fmt: skip
    n = next(_ids)
    return Fill(
        id=f"F-{n}",
        order_id=f"O-{n}",
        strategy_id=strategy,
        symbol=symbol,
        side=side,
        quantity=D(quantity),
        price=D(price),
        timestamp=ny_close(day),
    )


def mark(p: LotPortfolioService, day: date, **closes: float) -> None:
    p.mark(BarSlice.from_bars([make_bar(s, day, c) for s, c in closes.items()]))


def financed(cash: str = "100000", **financing: object) -> LotPortfolioService:
    return LotPortfolioService(
        PortfolioConfig(
            initial_cash=D(cash),
            financing=FinancingConfig.model_validate(financing),
        )
    )


def entries(p: LotPortfolioService, kind: LedgerEntryType) -> list[LedgerEntry]:
    return [e for e in p.ledger() if e.type is kind]


# ------------------------------------------------------------------ borrow fees


def test_a_short_held_30_days_costs_exactly_the_expected_borrow_fee() -> None:
    # Short 100 @ 50.00 = 5,000.00 at 3% a year, 360-day count, marked at 50.00 every
    # day for 30 nights: 5,000 x 0.03 x 30 / 360 = 12.50 exactly.
    p = financed(borrow_rate="0.03", day_count=360)
    p.apply_fill(fill(Side.SELL, 100, "50.00", day=DAY0))
    mark(p, DAY0, AAA=50.0)
    for n in range(1, 31):
        mark(p, DAY0 + timedelta(days=n), AAA=50.0)
    p.apply_fill(fill(Side.BUY, 100, "50.00", day=DAY0 + timedelta(days=30)))
    fees = entries(p, LedgerEntryType.BORROW_FEE)
    assert len(fees) == 30
    # a night is 5,000 x 0.03 / 360 = 0.41666...; the charges follow the rounded running
    # total: 0.42 (0.4166 -> 0.42), 0.41 (0.8333 -> 0.83), 0.42 (1.25), ...
    assert [-e.cash_flow for e in fees[:3]] == [D("0.42"), D("0.41"), D("0.42")]
    assert sum((-e.cash_flow for e in fees), start=D(0)) == D("12.50")
    assert {(e.days, e.rate, e.quantity, e.price) for e in fees} == {
        (1, D("0.03"), D(-100), D("50.0"))
    }
    # cash 100,000 + 5,000 - 5,000 - 12.50; the P&L is the fee alone
    state = p.snapshot()
    assert state.cash == D("99987.50")
    assert (state.borrow_fees, state.financing_costs) == (D("12.50"), D("12.50"))
    assert state.total_pnl == D("-12.50")
    s1 = p.pnl_summary("s1")
    assert (s1.borrow_fees, s1.financing_costs, s1.total_pnl) == (
        D("12.50"),
        D("12.50"),
        D("-12.50"),
    )


def test_weekends_are_charged_in_the_first_session_after_them() -> None:
    # Bars on weekdays only, from Tue 2 Jan to Thu 1 Feb 2024: 30 calendar nights, so the
    # same 12.50; Fri 5 Jan -> Mon 8 Jan is one entry of 3 days: the running total goes
    # from 1.25 (3 nights) to 2.50 (6 nights), a charge of 1.25.
    p = financed(borrow_rate="0.03")
    p.apply_fill(fill(Side.SELL, 100, "50.00", day=DAY0))
    day = DAY0
    while day < date(2024, 2, 1):
        if day.weekday() < 5:
            mark(p, day, AAA=50.0)
        day += timedelta(days=1)
    # covered at the first event of 1 Feb: the night to 1 Feb is charged first
    p.apply_fill(fill(Side.BUY, 100, "50.00", day=date(2024, 2, 1)))
    fees = entries(p, LedgerEntryType.BORROW_FEE)
    monday = next(e for e in fees if e.timestamp.date() == date(2024, 1, 8))
    assert (monday.days, monday.cash_flow) == (3, D("-1.25"))
    assert sum(e.days or 0 for e in fees) == 30
    assert p.snapshot().borrow_fees == D("12.50")


def test_day_count_365() -> None:
    # 100 short @ 36.50 = 3,650 at 5% / 365: 0.50 a night, 15.00 for 30 nights
    p = financed(borrow_rate="0.05", day_count=365)
    p.apply_fill(fill(Side.SELL, 100, "36.50", day=DAY0))
    for n in range(31):
        mark(p, DAY0 + timedelta(days=n), AAA=36.5)
    fees = entries(p, LedgerEntryType.BORROW_FEE)
    assert [e.cash_flow for e in fees] == [D("-0.50")] * 30
    assert p.snapshot().borrow_fees == D("15.00")


def test_the_fee_follows_the_previous_close_and_a_symbol_rate() -> None:
    # 3.6% / 360 = 0.0001 a night. AAA (short 100) is charged at the close before each
    # night: 50 -> 0.50, 60 -> 0.60, 55 -> 0.55. BBB has a rate of its own, 7.2%
    # (0.0002 a night): short 10 @ 100 -> 0.20 a night.
    p = financed(borrow_rate="0.036", borrow_rates={"BBB": "0.072"})
    p.apply_fill(fill(Side.SELL, 100, "50", day=DAY0))
    p.apply_fill(fill(Side.SELL, 10, "100", day=DAY0, symbol="BBB"))
    for n, close in enumerate((50.0, 60.0, 55.0, 55.0)):
        mark(p, DAY0 + timedelta(days=n), AAA=close, BBB=100.0)
    by_symbol = {
        sym: [-e.cash_flow for e in entries(p, LedgerEntryType.BORROW_FEE) if e.symbol == sym]
        for sym in ("AAA", "BBB")
    }
    assert by_symbol == {
        "AAA": [D("0.50"), D("0.60"), D("0.55")],
        "BBB": [D("0.20"), D("0.20"), D("0.20")],
    }


def test_a_short_never_marked_is_charged_on_its_cost() -> None:
    # short 100 @ 40 (cost 4,000), no bar yet; 3.6% / 360 -> 0.40 at the next day's fill
    p = financed(borrow_rate="0.036")
    p.apply_fill(fill(Side.SELL, 100, "40", day=DAY0))
    p.apply_fill(fill(Side.BUY, 1, "10", day=DAY0 + timedelta(days=1), symbol="BBB"))
    (fee,) = entries(p, LedgerEntryType.BORROW_FEE)
    assert (fee.price, fee.cash_flow, fee.sequence) == (None, D("-0.40"), 2)  # before the buy


def test_a_short_within_one_session_pays_nothing_and_longs_never_pay() -> None:
    p = financed(borrow_rate="0.5", margin_rate="0.5")
    mark(p, DAY0, AAA=10.0)
    day1 = DAY0 + timedelta(days=1)
    # opened and covered on day 1: no night held; the first event of day 1 finds no short
    p.apply_fill(fill(Side.SELL, 100, "10", day=day1))
    p.apply_fill(fill(Side.BUY, 100, "10", day=day1))
    p.apply_fill(fill(Side.BUY, 5, "10", day=day1, symbol="BBB"))
    for n in range(2, 6):
        mark(p, DAY0 + timedelta(days=n), AAA=10.0, BBB=10.0)
    assert [e.type for e in p.ledger()] == [LedgerEntryType.FILL] * 3
    assert p.financed_on == DAY0 + timedelta(days=5)


def test_a_rate_of_zero_for_a_symbol_overrides_the_default() -> None:
    p = financed(borrow_rate="0.036", borrow_rates={"AAA": "0"})
    p.apply_fill(fill(Side.SELL, 100, "50", day=DAY0))
    p.apply_fill(fill(Side.SELL, 100, "50", day=DAY0, symbol="BBB"))
    mark(p, DAY0 + timedelta(days=1), AAA=50.0, BBB=50.0)
    assert [e.symbol for e in entries(p, LedgerEntryType.BORROW_FEE)] == ["BBB"]


def test_financing_off_by_default_charges_nothing_and_tracks_no_date() -> None:
    p = LotPortfolioService(PortfolioConfig(initial_cash=D(1000)))
    p.apply_fill(fill(Side.SELL, 100, "50", day=DAY0))
    p.apply_fill(fill(Side.BUY, 200, "50", day=DAY0))  # cash -4,000
    for n in range(10):
        mark(p, DAY0 + timedelta(days=n), AAA=50.0)
    assert [e.type for e in p.ledger()] == [LedgerEntryType.FILL] * 2
    assert p.financed_on is None
    state = p.snapshot()
    assert (state.borrow_fees, state.margin_interest, state.financing_costs) == (0, 0, 0)
    assert not FinancingConfig(borrow_rates={"AAA": D(0)}).charges


# --------------------------------------------------------------- margin interest


def test_margin_interest_on_the_negative_balance() -> None:
    # Cash 10,000, buy 150 @ 100 -> cash -5,000. 7.2% / 360 = 0.0002 a night.
    # night 1: 5,000 x 0.0002 = 1.00 -> cash -5,001.00
    # night 2: the balance is now 5,001.00: exact 1.0002, running total 2.0002 -> 2.00,
    #          a charge of 1.00 (cash -5,002.00)
    # Fri 5 -> Mon 8 Jan (3 nights, one entry): 5,002 x 0.0002 x 3 = 3.0012, running
    #          total 5.0014 -> 5.00, a charge of 3.00
    p = financed(cash="10000", margin_rate="0.072")
    p.apply_fill(fill(Side.BUY, 150, "100", day=date(2024, 1, 3)))
    for day in (3, 4, 5, 8):
        mark(p, date(2024, 1, day), AAA=100.0)
    interest = entries(p, LedgerEntryType.MARGIN_INTEREST)
    assert [(e.days, e.quantity, e.cash_flow) for e in interest] == [
        (1, D("-5000"), D("-1.00")),
        (1, D("-5001.00"), D("-1.00")),
        (3, D("-5002.00"), D("-3.00")),
    ]
    assert {(e.strategy_id, e.symbol, e.position_after) for e in interest} == {(None, None, None)}
    assert p.cash == D("-5005.00")
    # the account's, not a strategy's
    assert p.pnl_summary("s1").margin_interest == 0
    total = p.pnl_summary()
    assert (total.margin_interest, total.financing_costs) == (D("5.00"), D("5.00"))
    assert total.total_pnl == p.equity - 10000 == D("-5.00")
    assert p.snapshot().margin_interest == D("5.00")


def test_margin_interest_is_posted_before_the_nights_borrow_fees() -> None:
    # Cash 10,000; short 100 XYZ @ 50 (+5,000), buy 200 AAA @ 100 (-20,000): cash -5,000.
    # Borrow 3.6% (0.0001 a night), margin 7.2% (0.0002 a night), 360 days.
    # night 1: margin on 5,000 = 1.00 first, then borrow on 5,000 = 0.50 -> cash -5,001.50
    # night 2: margin on 5,001.50: 1.0003, running 2.0003 -> 2.00, so 1.00; borrow 0.50
    p = financed(cash="10000", margin_rate="0.072", borrow_rate="0.036")
    p.apply_fill(fill(Side.SELL, 100, "50", day=DAY0, symbol="XYZ"))
    p.apply_fill(fill(Side.BUY, 200, "100", day=DAY0))
    for n in range(3):
        mark(p, DAY0 + timedelta(days=n), AAA=100.0, XYZ=50.0)
    charged = [(e.type.value, e.quantity, e.cash_flow) for e in p.ledger()[2:]]
    assert charged == [
        ("margin_interest", D("-5000"), D("-1.00")),
        ("borrow_fee", D("-100"), D("-0.50")),
        ("margin_interest", D("-5001.50"), D("-1.00")),
        ("borrow_fee", D("-100"), D("-0.50")),
    ]
    assert p.cash == D("-5003.00")


# ---------------------------------------------------------------- the figures


def test_state_and_summary_figures_add_up() -> None:
    # s1 short 100 AAA @ 50, s2 long 100 BBB @ 20, both through an AAA dividend of 0.10
    # and a BBB dividend of 0.25: s1 pays 10.00, s2 receives 25.00.
    # Borrow 3.6% / 360 on 5,000: 0.50 a night, two nights = 1.00.
    p = financed(cash="1000", borrow_rate="0.036", margin_rate="0.036")
    p.apply_fill(fill(Side.SELL, 100, "50", day=DAY0))
    p.apply_fill(fill(Side.BUY, 100, "20", day=DAY0, symbol="BBB", strategy="s2"))
    mark(p, DAY0, AAA=50.0, BBB=20.0)
    day1 = DAY0 + timedelta(days=1)
    p.apply_action(CashDividend(symbol="AAA", ex_date=day1, amount=D("0.10")), ny_close(day1))
    p.apply_action(CashDividend(symbol="BBB", ex_date=day1, amount=D("0.25")), ny_close(day1))
    mark(p, day1, AAA=50.0, BBB=21.0)
    mark(p, DAY0 + timedelta(days=2), AAA=49.0, BBB=21.0)
    state = p.snapshot()
    assert (state.dividends_received, state.dividends_paid, state.dividends) == (
        D("25.00"),
        D("10.00"),
        D("15.00"),
    )
    assert state.borrow_fees == D("1.00")
    assert state.margin_interest == 0  # cash 1,000 + 5,000 - 2,000 stays positive
    # total P&L = unrealized (AAA +100, BBB +100) + dividends 15 - financing 1 = 214
    assert state.total_pnl == state.equity - 1000 == D("214.00")
    assert state.total_pnl == (
        state.realized_pnl - state.commissions - state.fees + state.unrealized_pnl
        + state.dividends - state.financing_costs
    )  # fmt: skip
    s1, s2 = p.pnl_summary("s1"), p.pnl_summary("s2")
    assert (s1.dividends_paid, s1.borrow_fees, s1.total_pnl) == (D("10.00"), D("1.00"), D(89))
    assert (s2.dividends_received, s2.total_pnl) == (D("25.00"), D(125))


def test_a_split_on_a_new_day_accrues_first_at_the_pre_split_value() -> None:
    # short 100 @ 50, 3.6% / 360: the night before the 2-for-1 split is charged on
    # 100 x 50 = 5,000 (0.50), then the short is 200 at 25 (same value, 0.50 again).
    p = financed(borrow_rate="0.036")
    p.apply_fill(fill(Side.SELL, 100, "50", day=DAY0))
    mark(p, DAY0, AAA=50.0)
    day1 = DAY0 + timedelta(days=1)
    p.apply_action(Split(symbol="AAA", ex_date=day1, ratio=D(2)), ny_close(day1))
    mark(p, day1, AAA=25.0)
    mark(p, DAY0 + timedelta(days=2), AAA=25.0)
    fees = [(e.quantity, e.cash_flow) for e in entries(p, LedgerEntryType.BORROW_FEE)]
    assert fees == [(D(-100), D("-0.50")), (D(-200), D("-0.50"))]
    assert [e.type.value for e in p.ledger()] == ["fill", "borrow_fee", "split", "borrow_fee"]


def test_a_refused_fill_on_a_new_day_accrues_nothing() -> None:
    p = LotPortfolioService(
        PortfolioConfig(
            initial_cash=D(1000),
            allow_short=False,
            financing=FinancingConfig(margin_rate=D("0.072")),
        )
    )
    p.apply_fill(fill(Side.BUY, 20, "100", day=DAY0))  # cash -1,000
    before = (p.snapshot(), p.ledger(), p.financed_on)
    with pytest.raises(PortfolioError, match="shorting is not allowed"):
        p.apply_fill(fill(Side.SELL, 21, "100", day=DAY0 + timedelta(days=1)))
    assert (p.snapshot(), p.ledger(), p.financed_on) == before


# --------------------------------------------------------------------- replay


def history() -> LotPortfolioService:
    p = financed(cash="10000", borrow_rate="0.03", margin_rate="0.05", day_count=365)
    p.apply_fill(fill(Side.SELL, 70, "33.33", day=DAY0, strategy="s2"))
    p.apply_fill(fill(Side.BUY, 400, "41.07", day=DAY0))  # cash -4,094.90
    for n in range(6):
        mark(p, DAY0 + timedelta(days=n), AAA=41.07 + n / 10)
    return p


def test_replay_with_financing_equals_the_live_state_and_goes_on_alike() -> None:
    live = history()
    kinds = {e.type for e in live.ledger()}
    assert {LedgerEntryType.BORROW_FEE, LedgerEntryType.MARGIN_INTEREST} <= kinds
    rebuilt = replay(
        live.config, live.ledger(), last_prices=live.last_prices(), marked_at=live.marked_at
    )
    assert rebuilt.financed_on == live.financed_on == DAY0 + timedelta(days=5)
    assert rebuilt.snapshot() == live.snapshot()
    assert rebuilt.ledger() == live.ledger()
    for sid in (None, "s1", "s2"):
        assert rebuilt.pnl_summary(sid) == live.pnl_summary(sid)
    for p in (live, rebuilt):
        mark(p, DAY0 + timedelta(days=9), AAA=40.0)
    assert rebuilt.ledger() == live.ledger()
    assert rebuilt.snapshot() == live.snapshot()


def test_replay_refuses_financing_entries_another_config_would_not_charge() -> None:
    live = history()
    other_rate = live.config.model_copy(
        update={
            "financing": FinancingConfig(
                borrow_rate=D("0.04"), margin_rate=D("0.05"), day_count=365
            )
        }
    )
    with pytest.raises(PortfolioError, match=r"borrow_fee.*rate 0.03, but the config's is 0.04"):
        replay(other_rate, live.ledger())
    off = PortfolioConfig(initial_cash=D(10000))
    with pytest.raises(PortfolioError, match=r"margin_interest.*config's is 0"):
        replay(off, live.ledger())
    entries_ = live.ledger()
    i = next(i for i, e in enumerate(entries_) if e.type is LedgerEntryType.MARGIN_INTEREST)
    for change, message in (
        ({"days": None}, "needs a rate and days"),
        ({"quantity": D(-1)}, "balance of -1, but cash is"),
        ({"cash_flow": D("-9.99")}, "replays differently"),
        ({"strategy_id": "s1"}, "replays differently"),
    ):
        edited = entries_[i].model_copy(update=change)
        with pytest.raises(PortfolioError, match=message):
            replay(live.config, (*entries_[:i], edited))
    j = next(i for i, e in enumerate(entries_) if e.type is LedgerEntryType.BORROW_FEE)
    for change, message in (
        ({"symbol": None}, "needs a strategy and a symbol"),
        ({"strategy_id": "s1"}, "which is not short"),
    ):
        edited = entries_[j].model_copy(update=change)
        with pytest.raises(PortfolioError, match=message):
            replay(live.config, (*entries_[:j], edited))


# --------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"borrow_rate": "-0.01"}, "borrow_rate"),
        ({"margin_rate": "11"}, "margin_rate"),
        ({"day_count": 364}, "day_count"),
        ({"borrow_rates": {"GME": "12"}}, "borrow rate of GME"),
        ({"borrow_rates": {"": "0.1"}}, "non-empty"),
        ({"borrow_fee": "0.01"}, "borrow_fee"),  # unknown key
    ],
)
def test_financing_config_refuses_bad_values(options: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        PortfolioConfig.model_validate({"initial_cash": 1, "financing": options})
