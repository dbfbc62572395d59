"""``value_at_closes``: the open books' value at float closes, all at once, is exactly the
book-by-book Decimal sum (value and exponent, so it prints the same), or declines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qtrader.portfolio import _marks
from qtrader.portfolio._marks import value_at_closes, whole_quantity

ZERO = Decimal(0)


@pytest.fixture(autouse=True)
def _every_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bulk path for any number of books (the service uses it from ``BULK_FROM``)."""
    monkeypatch.setattr(_marks, "BULK_FROM", 1)


@dataclass
class Book:
    symbol: str
    quantity: Decimal

    @property
    def whole(self) -> int:
        return whole_quantity(self.quantity)


def one_by_one(books: list[Book], closes: dict[str, float]) -> Decimal:
    """What the portfolio adds book by book: ``ZERO + q * Decimal(repr(close)) + ...``."""
    total = ZERO
    for book in books:
        total += book.quantity * Decimal(repr(closes[book.symbol]))
    return total


# Closes as files write them: up to six decimals, over the range of real prices; and floats
# of any digits, which must be declined or valued the same.
six_decimals = st.builds(
    lambda micros: float(Decimal(micros).scaleb(-6)), st.integers(100, 10**15 - 1)
)
any_close = st.floats(min_value=1e-6, max_value=1e12, allow_nan=False, allow_infinity=False)
quantities = st.one_of(
    st.integers(-(10**7), 10**7).filter(bool).map(Decimal),
    st.sampled_from([Decimal("100.0"), Decimal("1E+2"), Decimal("0.5"), Decimal("-3.25")]),
)


@st.composite
def holdings(
    draw: st.DrawFn, closes: st.SearchStrategy[float]
) -> tuple[list[Book], dict[str, float]]:
    n = draw(st.integers(1, 12))
    symbols = [f"S{i}" for i in range(n)]
    marks = {s: draw(closes) for s in symbols}
    books = [Book(draw(st.sampled_from(symbols)), draw(quantities)) for _ in range(n)]
    return books, marks


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(holdings(six_decimals))
def test_whole_quantities_at_closes_of_six_decimals_are_valued_at_once_exactly(
    case: tuple[list[Book], dict[str, float]],
) -> None:
    books, closes = case
    expected = one_by_one(books, closes)
    got = value_at_closes(books, closes)
    small = sum(abs(b.quantity) * Decimal(repr(closes[b.symbol])) for b in books) < 10**12
    if all(book.whole for book in books) and all(c < 1e9 for c in closes.values()) and small:
        assert got is not None
    if got is not None:
        assert got == expected
        assert str(got) == str(expected)  # the same exponent: it prints the same


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(holdings(any_close))
def test_any_other_close_is_valued_the_same_or_declined(
    case: tuple[list[Book], dict[str, float]],
) -> None:
    books, closes = case
    got = value_at_closes(books, closes)
    if got is not None:
        assert str(got) == str(one_by_one(books, closes))


def test_the_cases_it_declines() -> None:
    hundred = [Book("A", Decimal(100))]
    assert str(value_at_closes(hundred, {"A": 12.5})) == "1250.0"  # as 100 * Decimal("12.5")
    assert str(value_at_closes(hundred, {"A": 12.0})) == "1200.0"  # repr writes 12.0
    assert str(value_at_closes(hundred, {"A": 0.000123})) == "0.012300"
    assert value_at_closes(hundred, {}) is None  # no float close: its Decimal mark is used
    assert value_at_closes(hundred, {"A": 12.3456789}) is None  # seven decimals
    assert value_at_closes(hundred, {"A": 2e9}) is None  # too large to tell apart
    assert value_at_closes(hundred, {"A": 5e-5}) is None  # repr writes 5e-05
    assert value_at_closes([Book("A", Decimal("100.0"))], {"A": 12.5}) is None
    assert value_at_closes([Book("A", Decimal(2**60))], {"A": 900.5}) is None  # int64 bound
    assert value_at_closes([], {"A": 1.0}) is None
    assert whole_quantity(Decimal("1E+2")) == 0
    assert whole_quantity(Decimal(-7)) == -7
    assert whole_quantity(Decimal(2**53)) == 0
    assert whole_quantity(Decimal("NaN")) == whole_quantity(Decimal("-Infinity")) == 0
    assert whole_quantity(Decimal("-0")) == 0


def test_fewer_books_than_bulk_from_are_left_to_the_one_by_one_sum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_marks, "BULK_FROM", 3)
    books = [Book(f"S{i}", Decimal(10)) for i in range(3)]
    closes = {"S0": 1.5, "S1": 2.25, "S2": 3.0}
    assert value_at_closes(books[:2], closes) is None
    assert str(value_at_closes(books, closes)) == "67.50"  # 15.0 + 22.50 + 30.0


def test_a_portfolio_holding_many_symbols_has_the_equity_of_the_one_by_one_sum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 40 symbols held (long and short, two strategies in one), marked, partly sold, split
    # and marked again: equity, as printed, equals the one-by-one sum at every step.
    import numpy as np  # noqa: PLC0415

    from qtrader.models import BarSlice, Fill, Side, Split  # noqa: PLC0415
    from qtrader.models.testing import ny_close  # noqa: PLC0415
    from qtrader.portfolio import LotPortfolioService, PortfolioConfig  # noqa: PLC0415

    monkeypatch.setattr(_marks, "BULK_FROM", 16)
    symbols = [f"S{i:02d}" for i in range(40)]
    stamp = ny_close(date(2024, 5, 1))
    portfolio = LotPortfolioService(
        PortfolioConfig(initial_cash=Decimal(1_000_000), allow_short=True)
    )
    n = 0

    def fill(symbol: str, side: Side, quantity: int, price: str, strategy: str = "a") -> None:
        nonlocal n
        n += 1
        portfolio.apply_fill(
            Fill(id=f"F-{n:06d}", order_id=f"O-{n}", strategy_id=strategy, symbol=symbol,
                 side=side, quantity=Decimal(quantity), price=Decimal(price), timestamp=stamp)
        )  # fmt: skip

    def mark(closes: list[float]) -> None:
        column = np.array(closes)
        portfolio.mark(
            BarSlice(timestamp=stamp, opened_at=stamp, symbols=tuple(symbols), open=column,
                     high=column, low=column, close=column, volume=np.ones(len(closes)))
        )  # fmt: skip

    def one_by_one_equity() -> str:
        with monkeypatch.context() as off:
            off.setattr(_marks, "BULK_FROM", 10**9)
            portfolio._equity = None
            return str(portfolio.equity)

    for i, symbol in enumerate(symbols):
        fill(symbol, Side.BUY if i % 3 else Side.SELL, 10 + i, f"{20 + i}.25")
    fill("S05", Side.BUY, 7, "25.5", strategy="b")
    mark([20 + i + 0.125 * (i % 8) for i in range(40)])
    assert value_at_closes(portfolio._open_books_list, portfolio._pending) is not None  # bulk
    bulk = str(portfolio.equity)
    assert bulk == one_by_one_equity()
    fill("S07", Side.SELL, 3, "27.75")
    mark([21 + i + 0.5 for i in range(40)])
    assert str(portfolio.equity) == one_by_one_equity()
    portfolio.apply_action(
        Split(symbol="S09", ex_date=date(2024, 5, 2), ratio=Decimal(2)), stamp
    )  # its mark is now a Decimal: the one-by-one sum
    assert str(portfolio.equity) == one_by_one_equity()
