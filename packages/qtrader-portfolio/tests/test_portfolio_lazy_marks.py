"""Lazy marks: closes kept as floats, made exact Decimals only when read, and the
open books kept as a set; every figure equals the eager computation's."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from qtrader.models import BarSlice, Fill, Side, Split, to_decimal
from qtrader.models.testing import ny_close
from qtrader.portfolio import LotPortfolioService, PortfolioConfig, PortfolioError, replay

D = Decimal
DAY0 = date(2024, 5, 1)
_ids = iter(range(1, 10_000))


def at(day: int) -> object:
    return ny_close(DAY0 + timedelta(days=day))


def bars(day: int, **closes: float) -> BarSlice:
    stamp = ny_close(DAY0 + timedelta(days=day))
    column = np.array(list(closes.values()), dtype=np.float64)
    return BarSlice(
        timestamp=stamp,
        opened_at=stamp,
        symbols=tuple(closes),
        open=column,
        high=column,
        low=column,
        close=column,
        volume=np.ones(len(closes)),
    )


def fill(
    side: Side, quantity: int, price: str, *, symbol: str = "AAA", strategy: str = "s1"
) -> Fill:
    n = next(_ids)
    return Fill(
        id=f"F-{n}",
        order_id=f"O-{n}",
        strategy_id=strategy,
        symbol=symbol,
        side=side,
        quantity=D(quantity),
        price=D(price),
        timestamp=ny_close(DAY0),
    )


def eager_equity(p: LotPortfolioService) -> Decimal:
    """Equity as the eager service computed it: every book scanned, every mark converted."""
    prices = p.last_prices()
    total = D(0)
    for books in p._books.values():
        for book in books.values():
            if book.lots:
                price = prices.get(book.symbol)
                total += book.cost if price is None else book.quantity * price
    return p.cash + total


def open_books(p: LotPortfolioService) -> list[tuple[str, str]]:
    """The open books, checked to be in the order of a scan of every book."""
    listed = [(b.symbol, b.strategy_id) for b in p._open_books_list]
    assert listed == [(b.symbol, b.strategy_id) for b in p._all_books() if b.lots]
    return listed


@pytest.mark.parametrize(
    ("bad", "shown"),
    [(float("nan"), "NaN"), (float("inf"), "Infinity"), (-1.5, "-1.5"), (0.0, "0.0")],
)
def test_a_bad_close_is_refused_naming_the_first_bad_symbol_and_the_time(
    bad: float, shown: str
) -> None:
    p = LotPortfolioService(PortfolioConfig(initial_cash=D(0)))
    p.mark(bars(0, AAA=10.0, BBB=20.0))
    with pytest.raises(PortfolioError) as error:
        p.mark(bars(1, AAA=11.0, BBB=bad, CCC=float("nan")))
    assert str(error.value) == (
        f"mark at {ny_close(DAY0 + timedelta(days=1)).isoformat()}: close of BBB must be a "
        f"positive finite price, got {shown}"
    )
    # Nothing of the refused slice was kept, not even the good close of AAA.
    assert p.last_prices() == {"AAA": D(10), "BBB": D(20)}
    assert p.marked_at == ny_close(DAY0)


def test_marks_become_the_exact_decimal_of_the_latest_close_when_read() -> None:
    p = LotPortfolioService(PortfolioConfig(initial_cash=D(0)))
    p.mark(bars(0, AAA=157.92, BBB=1.1))
    p.mark(bars(1, AAA=157.93))  # AAA's first close is never read
    assert p.last_price("AAA") == to_decimal(157.93) == D("157.93")
    assert p.last_price("AAA") is p.last_price("AAA")  # converted once
    assert p.last_price("BBB") == D("1.1")
    assert p.last_price("CCC") is None
    p.mark(bars(2, AAA=150.5))
    assert p.last_prices() == {"AAA": D("150.5"), "BBB": D("1.1")}


def test_equity_values_only_held_symbols_and_matches_the_eager_sum() -> None:
    p = LotPortfolioService(PortfolioConfig(initial_cash=D(100_000)))
    p.apply_fill(fill(Side.BUY, 10, "20", symbol="BBB", strategy="s2"))
    p.apply_fill(fill(Side.BUY, 5, "10", symbol="AAA"))
    p.apply_fill(fill(Side.BUY, 7, "11", symbol="BBB"))
    p.apply_fill(fill(Side.SELL, 3, "12", symbol="CCC", strategy="s2"))  # a short
    assert p.equity == eager_equity(p)  # never marked: valued at cost
    for day, closes in enumerate(
        [
            {"AAA": 10.25, "BBB": 21.5, "CCC": 11.75, "DDD": 3.0},
            {"AAA": 10.5, "BBB": 21.0, "DDD": 3.25},
            {"CCC": 12.125, "EEE": 4.0},
        ],
        start=1,
    ):
        p.mark(bars(day, **closes))
        assert "DDD" in p._pending or day == 3  # an unheld symbol stays a float
        assert p.equity == eager_equity(p)
    p.apply_fill(fill(Side.SELL, 10, "22", symbol="BBB", strategy="s2"))  # s2 flat in BBB
    p.apply_fill(fill(Side.BUY, 3, "12", symbol="CCC", strategy="s2"))  # CCC flat
    assert open_books(p) == [("BBB", "s1"), ("AAA", "s1")]
    assert p.equity == eager_equity(p)
    p.apply_fill(fill(Side.BUY, 1, "22", symbol="BBB", strategy="s2"))  # reopened: same place
    p.apply_fill(fill(Side.BUY, 1, "12", symbol="CCC", strategy="s2"))
    assert open_books(p) == [("BBB", "s2"), ("BBB", "s1"), ("AAA", "s1"), ("CCC", "s2")]
    assert p.equity == eager_equity(p)
    assert p.snapshot().equity == p.equity
    assert p.pnl_summary().total_pnl == p.equity - p.config.initial_cash


def test_position_of_all_strategies_sums_their_books() -> None:
    p = LotPortfolioService(PortfolioConfig(initial_cash=D(10_000)))
    assert p.position("AAA") == 0
    p.apply_fill(fill(Side.BUY, 5, "10"))
    assert p.position("AAA") == D(5)
    p.apply_fill(fill(Side.BUY, 7, "10", strategy="s2"))
    assert p.position("AAA") == D(12)
    assert p.position("AAA", "s2") == D(7)
    assert p.position("AAA", "s3") == 0


def test_a_split_rescales_the_latest_close_even_if_it_was_never_read() -> None:
    p = LotPortfolioService(PortfolioConfig(initial_cash=D(10_000)))
    p.apply_fill(fill(Side.BUY, 10, "40"))
    p.mark(bars(0, AAA=40.0))
    p.mark(bars(1, AAA=44.0))
    p.apply_action(Split(symbol="AAA", ex_date=DAY0 + timedelta(days=2), ratio=D(4)), at(2))
    assert p.last_price("AAA") == D(11)
    assert p.position("AAA") == D(40)
    assert p.equity == D(10_000) - D(400) + D(440)


def test_replay_restores_marks_over_pending_closes() -> None:
    p = LotPortfolioService(PortfolioConfig(initial_cash=D(10_000)))
    p.apply_fill(fill(Side.BUY, 10, "40"))
    p.mark(bars(0, AAA=41.0, BBB=5.0))
    rebuilt = replay(p.config, p.ledger())
    rebuilt.mark(bars(1, AAA=1.0))
    rebuilt._restore_marks({"AAA": D(42)}, ny_close(DAY0))
    assert rebuilt.last_prices() == {"AAA": D(42)}
    assert rebuilt.equity == D(10_000) - D(400) + D(420)
