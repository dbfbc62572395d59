"""Splits (forward, reverse, with cash in lieu) and cash dividends, worked by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from qtrader.models import BarSlice, CashDividend, Fill, Side, Split
from qtrader.models.testing import make_bar, ny_close
from qtrader.portfolio import LedgerEntryType, LotPortfolioService, PortfolioConfig, PortfolioError

D = Decimal
DAY0 = date(2024, 3, 1)
EX = ny_close(date(2024, 3, 10))
_counter = iter(range(1, 10_000))


def fill(
    side: Side,
    quantity: str | int,
    price: str,
    *,
    symbol: str = "AAA",
    strategy: str = "s1",
    day: int = 0,
) -> Fill:
    n = next(_counter)
    return Fill(
        id=f"F-{n:05d}",
        order_id=f"O-{n:05d}",
        strategy_id=strategy,
        symbol=symbol,
        side=side,
        quantity=D(quantity),
        price=D(price),
        timestamp=ny_close(DAY0 + timedelta(days=day)),
    )


def mark(p: LotPortfolioService, day: int = 0, **closes: float) -> None:
    p.mark(
        BarSlice.from_bars([make_bar(s, DAY0 + timedelta(days=day), c) for s, c in closes.items()])
    )


def portfolio(cash: str = "100000") -> LotPortfolioService:
    return LotPortfolioService(PortfolioConfig(initial_cash=D(cash)))


def split(ratio: str, symbol: str = "AAA") -> Split:
    return Split(symbol=symbol, ex_date=EX.date(), ratio=D(ratio))


def dividend(amount: str, symbol: str = "AAA") -> CashDividend:
    return CashDividend(symbol=symbol, ex_date=EX.date(), amount=D(amount))


def test_four_for_one_split_keeps_cost_basis_and_value() -> None:
    p = portfolio()
    p.apply_fill(fill(Side.BUY, 100, "500"))
    mark(p, AAA=520.0)
    equity_before = p.equity  # 100000 - 50000 + 100 x 520 = 102000
    assert equity_before == D(102000)
    p.apply_action(split("4"), EX)
    (position,) = p.snapshot().positions
    (lot,) = position.lots
    # 100 x 4 = 400 shares at 500 / 4 = 125; cost basis 400 x 125 = 50000 = 100 x 500
    assert (lot.quantity, lot.price, lot.cost_basis) == (D(400), D(125), D(50000))
    assert p.last_price("AAA") == D(130)  # 520 / 4
    assert p.equity == equity_before  # 50000 + 400 x 130 = 102000
    assert p.cash == D(50000)
    (entry,) = p.ledger()[1:]
    assert (entry.type, entry.quantity, entry.ratio, entry.cash_flow, entry.position_after) == (
        LedgerEntryType.SPLIT,
        D(300),
        D(4),
        D(0),
        D(400),
    )


def test_one_for_four_reverse_split() -> None:
    p = portfolio()
    p.apply_fill(fill(Side.BUY, 100, "20"))
    mark(p, AAA=22.0)
    p.apply_action(split("0.25"), EX)
    (lot,) = p.snapshot().positions[0].lots
    # 100 x 0.25 = 25 shares at 20 / 0.25 = 80; cost 2000 unchanged
    assert (lot.quantity, lot.price, lot.cost_basis) == (D(25), D(80), D(2000))
    assert p.last_price("AAA") == D(88)  # 22 / 0.25
    assert p.equity == D(100000 - 2000 + 25 * 88)  # = 100200, as before the split


def test_three_for_two_split_of_101_shares_pays_half_a_share_in_lieu() -> None:
    p = portfolio("10000")
    p.apply_fill(fill(Side.BUY, 101, "30"))
    mark(p, AAA=31.5)
    # cash 10000 - 3030 = 6970; equity 6970 + 101 x 31.50 = 10151.50
    assert p.equity == D("10151.50")
    p.apply_action(split("1.5"), EX)
    # 101 x 1.5 = 151.5 -> 151 shares, 0.5 paid at 31.50 / 1.5 = 21.00 -> 10.50
    assert p.position("AAA") == 151
    assert p.cash == D("6980.50")
    split_entry, lieu = p.ledger()[1:]
    assert (split_entry.quantity, split_entry.position_after) == (D("50.5"), D("151.5"))
    assert (lieu.type, lieu.quantity, lieu.price, lieu.cash_flow, lieu.position_after) == (
        LedgerEntryType.CASH_IN_LIEU,
        D("-0.5"),
        D(21),
        D("10.50"),
        D(151),
    )
    # the half share is sold out of the lot: its cost 3030 x 0.5 / 151.5 = 10.00,
    # so it realizes 10.50 - 10.00 = 0.50
    (closed,) = lieu.lots_closed
    assert (closed.cost_basis, closed.realized_pnl) == (D(10), D("0.50"))
    (lot,) = p.snapshot().positions[0].lots
    assert (lot.quantity, lot.cost_basis, lot.price) == (D(151), D(3020), D(20))
    # value unchanged: 6980.50 + 151 x 21 = 6980.50 + 3171 = 10151.50
    assert p.equity == D("10151.50")


def test_fractional_short_after_split_buys_the_fraction_back() -> None:
    p = portfolio("10000")
    p.apply_fill(fill(Side.SELL, 101, "30"))
    mark(p, AAA=31.5)
    p.apply_action(split("1.5"), EX)
    # -151.5 -> -151; the short pays for 0.5 at 21.00: 10000 + 3030 - 10.50 = 13019.50
    assert p.position("AAA") == -151
    assert p.cash == D("13019.50")
    (closed,) = p.ledger()[-1].lots_closed
    # short entry 20 (post-split), bought back at 21: 0.5 x (20 - 21) = -0.50
    assert closed.realized_pnl == D("-0.50")


def test_cash_in_lieu_before_any_mark_is_paid_at_cost() -> None:
    p = portfolio("10000")
    p.apply_fill(fill(Side.BUY, 101, "30"))
    p.apply_action(split("1.5"), EX)
    # no mark: the half share is paid at the post-split cost 3030 / 151.5 = 20 -> 10.00
    assert p.cash == D(10000 - 3030 + 10)
    assert p.snapshot().realized_pnl == 0
    assert p.last_price("AAA") is None


def test_split_applies_to_every_strategy_separately() -> None:
    p = portfolio()
    p.apply_fill(fill(Side.BUY, 3, "10", strategy="long"))
    p.apply_fill(fill(Side.SELL, 5, "10", strategy="short"))
    mark(p, AAA=10.0)
    p.apply_action(split("1.5"), EX)
    # long: 3 x 1.5 = 4.5 -> 4, sells 0.5 at 10 / 1.5 (= 6.666..)
    # short: -5 x 1.5 = -7.5 -> -7, buys 0.5 back at the same price: cash flows cancel
    assert p.position("AAA", "long") == 4
    assert p.position("AAA", "short") == -7
    assert p.position("AAA") == -3
    lieus = [e for e in p.ledger() if e.type is LedgerEntryType.CASH_IN_LIEU]
    assert [(e.strategy_id, e.quantity) for e in lieus] == [
        ("long", D("-0.5")),
        ("short", D("0.5")),
    ]
    assert lieus[0].cash_flow == -lieus[1].cash_flow


def test_split_of_a_symbol_not_held_is_a_no_op_but_rescales_its_mark() -> None:
    p = portfolio()
    mark(p, AAA=100.0)
    p.apply_action(split("2"), EX)
    assert p.ledger() == ()
    assert p.last_price("AAA") == D(50)
    p.apply_action(split("2", symbol="ZZZ"), EX)
    p.apply_action(dividend("1", symbol="ZZZ"), EX)
    assert p.ledger() == ()
    assert p.last_price("ZZZ") is None


def test_dividend_paid_to_longs_and_charged_to_shorts() -> None:
    p = portfolio("10000")
    p.apply_fill(fill(Side.BUY, 100, "50", strategy="long"))
    p.apply_fill(fill(Side.SELL, 40, "50", strategy="short"))
    cash = p.cash  # 10000 - 5000 + 2000 = 7000
    assert cash == D(7000)
    p.apply_action(dividend("0.82"), EX)
    # long receives 100 x 0.82 = 82.00; short pays 40 x 0.82 = 32.80; net 49.20
    assert p.cash == D("7049.20")
    assert p.snapshot().dividends == D("49.20")
    assert p.pnl_summary("long").dividends == D("82.00")
    assert p.pnl_summary("short").dividends == D("-32.80")
    entries = [e for e in p.ledger() if e.type is LedgerEntryType.DIVIDEND]
    assert [(e.strategy_id, e.quantity, e.price, e.cash_flow) for e in entries] == [
        ("long", D(100), D("0.82"), D("82.00")),
        ("short", D(-40), D("0.82"), D("-32.80")),
    ]
    assert entries[0].reference == "cash_dividend:AAA:2024-03-10"


def test_a_short_receiving_a_dividend_pays_it() -> None:
    p = portfolio("1000")
    p.apply_fill(fill(Side.SELL, 100, "20"))
    p.apply_action(dividend("0.25"), EX)
    # 1000 + 2000 - 100 x 0.25 = 2975
    assert p.cash == D(2975)
    assert p.snapshot().dividends == D(-25)
    assert p.pnl_summary().total_pnl == D(-25)


def test_flat_position_gets_no_dividend() -> None:
    p = portfolio()
    p.apply_fill(fill(Side.BUY, 10, "10"))
    p.apply_fill(fill(Side.SELL, 10, "10", day=1))
    p.apply_action(dividend("1"), EX)
    assert len(p.ledger()) == 2


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (
            Split.model_construct(kind="split", symbol="AAA", ex_date=EX.date(), ratio=D(0)),
            "ratio must be > 0",
        ),
        (
            Split.model_construct(kind="split", symbol="AAA", ex_date=EX.date(), ratio=D(-2)),
            "ratio must be > 0",
        ),
        (
            CashDividend.model_construct(
                kind="cash_dividend",
                symbol="AAA",
                ex_date=EX.date(),
                amount=D("-0.5"),
                pay_date=None,
            ),
            "amount must be > 0",
        ),
    ],
)
def test_impossible_actions_are_refused_and_state_untouched(
    action: Split | CashDividend, message: str
) -> None:
    p = portfolio()
    p.apply_fill(fill(Side.BUY, 10, "10"))
    before = (p.snapshot(), p.ledger())
    with pytest.raises(PortfolioError, match=message):
        p.apply_action(action, EX)
    assert (p.snapshot(), p.ledger()) == before


def test_action_needs_an_aware_timestamp_and_a_known_kind() -> None:
    p = portfolio()
    with pytest.raises(PortfolioError, match="aware"):
        p.apply_action(split("2"), datetime(2024, 3, 10))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(PortfolioError, match="unknown corporate action"):
        p.apply_action(_Merger(), EX)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Merger:
    """An action kind the service does not know (yet)."""

    kind: str = "merger"
    symbol: str = "AAA"


def test_unmarked_cash_in_lieu_is_paid_at_the_cost_of_the_lot_it_comes_from() -> None:
    p = portfolio("1000")
    p.apply_fill(fill(Side.BUY, 1, "10"))
    p.apply_fill(fill(Side.BUY, 2, "20", day=1))
    p.apply_action(split("1.5"), EX)
    # lots 1.5 (cost 10) and 3 (cost 40): 4.5 shares, 0.5 paid in lieu out of the
    # first lot (FIFO): its cost 10 x 0.5 / 1.5 = 3.33333333333... rounds to
    # 3.3333333333, so the price is 3.3333333333 / 0.5 = 6.6666666666 and the cash
    # 0.5 x 6.6666666666 = 3.3333333333: exactly the cost removed, no P&L.
    lieu = p.ledger()[-1]
    assert lieu.price == D("6.6666666666")
    assert lieu.cash_flow == D("3.3333333333")
    assert p.snapshot().realized_pnl == 0
    assert p.cash == D("1000") - D(50) + D("3.3333333333")
    assert p.equity == D(1000)  # cash + remaining cost 50 - 3.3333333333


def test_a_non_terminating_post_split_price_is_rounded_to_1e_10() -> None:
    p = portfolio("0")
    p.apply_fill(fill(Side.BUY, 1, "10"))
    mark(p, AAA=10.0)
    p.apply_action(split("3"), EX)
    # 10 / 3 = 3.333... rounds half-even to 3.3333333333; equity -10 + 3 x that
    assert p.last_price("AAA") == D("3.3333333333")
    assert p.equity == D("-0.0000000001")
    # the book keeps the cost basis 10 itself, so unrealized is exactly
    # 3 x 3.3333333333 - 10 = -0.0000000001; the Lot shows price = 10 / 3 to 28 digits
    assert p.snapshot().unrealized_pnl == D("-0.0000000001")
    lot = p.snapshot().positions[0].lots[0]
    assert lot.price == D(10) / D(3)


def test_a_one_for_three_reverse_split_leaves_exactly_a_third_of_the_shares() -> None:
    # 1-for-3 can only be written rounded (0.333...3, 28 digits): 300 x that is
    # 99.999...9, which used to be paid out as 0.999... share of cash in lieu.
    p = portfolio()
    p.apply_fill(fill(Side.BUY, 300, "10"))
    mark(p, AAA=10.0)
    p.apply_action(split(str(D(1) / D(3))), EX)
    (position,) = p.snapshot().positions
    # 300 / 3 = 100 shares at 10 x 3 = 30; no fraction, no cash in lieu; value 3000.
    assert position.quantity == D(100)
    assert [e.type for e in p.ledger()][-1] is LedgerEntryType.SPLIT
    assert p.last_price("AAA") == D(30)
    assert p.cash == D(97000)
    assert p.equity == D(100000)


def test_a_two_for_three_reverse_split_pays_the_third_share_in_cash() -> None:
    # 100 x 2/3 = 66 2/3 shares, 66.6666666667 at the ledger's 1e-10 quantum: 66 kept,
    # 0.6666666667 share paid at the post-split mark 10 x 3 / 2 = 15 (10.0000000005).
    p = portfolio()
    p.apply_fill(fill(Side.BUY, 100, "10"))
    mark(p, AAA=10.0)
    p.apply_action(split(str(D(2) / D(3))), EX)
    (position,) = p.snapshot().positions
    assert position.quantity == D(66)
    assert p.last_price("AAA") == D(15)
    assert p.cash == D(99000) + D("0.6666666667") * D(15)
    assert p.equity == p.cash + D(66) * D(15)


@pytest.mark.parametrize(
    ("lots", "ratio", "held", "in_lieu"),
    [
        # 3 lots of 100: each 33.3333333333 at the ledger's quantum, 99.9999999999 in all,
        # so 0.9999999999 share used to be paid in cash and 99 kept. 300 / 3 = 100 exactly.
        ((100, 100, 100), D(1) / D(3), D(100), None),
        # 3 lots of 1, 4-for-3: 4 shares exactly, not 3 and a paid-out 0.9999999999.
        ((1, 1, 1), D(4) / D(3), D(4), None),
        # 2 lots of 100, 1-for-3: 66 2/3 shares, 66.6666666667 at the quantum as for one
        # lot of 200: 66 kept and 0.6666666667 paid in cash.
        ((100, 100), D(1) / D(3), D(66), D("0.6666666667")),
    ],
)
def test_a_split_of_several_lots_leaves_the_position_one_lot_would(
    lots: tuple[int, ...], ratio: Decimal, held: Decimal, in_lieu: Decimal | None
) -> None:
    p = portfolio()
    for day, quantity in enumerate(lots):
        p.apply_fill(fill(Side.BUY, quantity, "10", day=day))
    mark(p, day=len(lots), AAA=10.0)
    p.apply_action(split(str(ratio)), EX)
    (position,) = p.snapshot().positions
    assert position.quantity == held
    paid = [e.quantity for e in p.ledger() if e.type is LedgerEntryType.CASH_IN_LIEU]
    assert paid == ([] if in_lieu is None else [-in_lieu])
    assert sum((lot.quantity for lot in position.lots), start=D(0)) == held
