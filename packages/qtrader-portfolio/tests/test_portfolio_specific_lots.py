"""Specific-lot matching: a fill (or its order) names the lots it closes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from qtrader.models import Fill, Side
from qtrader.models.testing import ny_close
from qtrader.portfolio import (
    FifoLotMatcher,
    LotPortfolioService,
    PortfolioConfig,
    PortfolioError,
    SpecificLotMatcher,
    replay,
)

D = Decimal
DAY0 = date(2024, 1, 2)


def fill(n: int, side: Side, quantity: int, price: str, *, strategy: str = "s1",
         order: str | None = None, day: int = 0) -> Fill:  # fmt: skip
    return Fill(
        id=f"F-{n}",
        order_id=order or f"O-{n}",
        strategy_id=strategy,
        symbol="AAA",
        side=side,
        quantity=D(quantity),
        price=D(price),
        timestamp=ny_close(DAY0 + timedelta(days=day)),
    )


def three_lots(**config: object) -> LotPortfolioService:
    """Lots F-1, F-2, F-3 of 100 shares each, bought at 10, 20 and 30."""
    p = LotPortfolioService(PortfolioConfig(initial_cash=D(100_000), **config))  # type: ignore[arg-type]
    for n, price in enumerate(("10", "20", "30"), start=1):
        p.apply_fill(fill(n, Side.BUY, 100, price, day=n))
    return p


def remaining(p: LotPortfolioService) -> list[tuple[str, Decimal]]:
    return [(lot.lot_id, lot.quantity) for lot in p.lots("AAA")]


def test_the_named_lots_close_first_in_the_order_named() -> None:
    # sell 150 @ 25 naming F-3 then F-1: all of F-3 (100 @ 30), then 50 of F-1 (@ 10)
    # realized (25 - 30) x 100 + (25 - 10) x 50 = -500 + 750 = 250
    p = three_lots()
    p.apply_fill(fill(4, Side.SELL, 150, "25", day=4), lots=["F-3", "F-1"])
    entry = p.ledger()[-1]
    assert [(c.fill_id, c.quantity) for c in entry.lots_closed] == [("F-3", 100), ("F-1", 50)]
    assert entry.lots_named == ("F-3", "F-1")
    assert p.pnl_summary().realized_pnl == D(250)
    assert remaining(p) == [("F-1", D(50)), ("F-2", D(100))]


def test_what_the_named_lots_do_not_cover_follows_the_configured_rule() -> None:
    # sell 250 naming F-2: F-2 (100), then LIFO: F-3 (100), F-1 (50)
    p = three_lots(lot_matching="lifo")
    p.apply_fill(fill(4, Side.SELL, 250, "25", day=4), lots=["F-2"])
    closed = [(c.fill_id, c.quantity) for c in p.ledger()[-1].lots_closed]
    assert closed == [("F-2", 100), ("F-3", 100), ("F-1", 50)]
    assert remaining(p) == [("F-1", D(50))]


def test_lots_named_for_an_order_serve_all_its_fills() -> None:
    # order O-9 names F-2, F-3; it fills 60 then 90: F-2 60, then F-2 40 + F-3 50
    p = three_lots()
    p.name_lots("O-9", "s1", "AAA", ["F-2", "F-3"])
    p.apply_fill(fill(4, Side.SELL, 60, "25", order="O-9", day=4))
    p.apply_fill(fill(5, Side.SELL, 90, "25", order="O-9", day=4))
    assert [(c.fill_id, c.quantity) for c in p.ledger()[-1].lots_closed] == [
        ("F-2", 40),
        ("F-3", 50),
    ]
    # a named lot closed meanwhile is passed over: FIFO closes F-1 for a third fill
    p.apply_fill(fill(6, Side.SELL, 70, "25", order="O-9", day=4))
    assert [(c.fill_id, c.quantity) for c in p.ledger()[-1].lots_closed] == [
        ("F-3", 50),
        ("F-1", 20),
    ]
    # another order's fills, or another strategy's, are not affected
    p.apply_fill(fill(7, Side.SELL, 10, "25", day=4))
    assert [c.fill_id for c in p.ledger()[-1].lots_closed] == ["F-1"]


def test_bad_lot_names_are_refused_and_nothing_changes() -> None:
    p = three_lots()
    p.apply_fill(fill(9, Side.BUY, 5, "1", strategy="s2"))
    before = (p.snapshot(), p.ledger())
    for lots in ([], ["F-1", "F-1"], ["F-4"]):
        with pytest.raises(PortfolioError, match=r"distinct ids of lots \(fills applied\)"):
            p.apply_fill(fill(4, Side.SELL, 10, "25"), lots=lots)
    for lots in ([], ["F-1", "F-1"], ["F-4"], ["F-9"]):  # F-9 is s2's lot
        with pytest.raises(PortfolioError, match=r"order 'O-8'.*open lots are \['F-1', 'F-2'"):
            p.name_lots("O-8", "s1", "AAA", lots)
    assert (p.snapshot(), p.ledger()) == before
    p.name_lots("O-8", "s1", "AAA", ["F-1"])
    with pytest.raises(PortfolioError, match=r"order 'O-8' \(AAA\): its lots were already named"):
        p.name_lots("O-8", "s1", "AAA", ["F-2"])
    with pytest.raises(PortfolioError, match="order id must be a non-empty string"):
        p.name_lots("", "s1", "AAA", ["F-2"])


def test_a_fill_passes_over_named_lots_closed_since_the_order_was_decided() -> None:
    # F-1 was closed before the fill that names it; F-9 is another strategy's lot: the
    # fill closes F-3 (named, open), then FIFO (F-2)
    p = three_lots()
    p.apply_fill(fill(9, Side.BUY, 5, "1", strategy="s2"))
    p.apply_fill(fill(4, Side.SELL, 100, "25"))  # FIFO: F-1
    p.apply_fill(fill(5, Side.SELL, 150, "25"), lots=["F-1", "F-9", "F-3"])
    assert [(c.fill_id, c.quantity) for c in p.ledger()[-1].lots_closed] == [
        ("F-3", 100),
        ("F-2", 50),
    ]
    assert p.ledger()[-1].lots_named == ("F-1", "F-9", "F-3")


def test_lot_ids_are_visible_read_only_through_the_view() -> None:
    p = three_lots()
    p.apply_fill(fill(9, Side.SELL, 5, "1", strategy="s2"))
    view = p.view()
    assert [lot.lot_id for lot in view.lots("AAA", "s1")] == ["F-1", "F-2", "F-3"]
    assert [(lot.lot_id, lot.quantity) for lot in view.lots("AAA", "s2")] == [("F-9", D(-5))]
    assert len(view.lots("AAA")) == 4
    assert view.lots("ZZZ") == ()
    assert view.lots("AAA") == p.snapshot().positions[0].lots


def test_replay_closes_the_same_named_lots_whatever_the_fallback() -> None:
    live = three_lots()
    live.apply_fill(fill(4, Side.SELL, 150, "25", day=4), lots=["F-3", "F-1"])
    rebuilt = replay(live.config, live.ledger())
    assert rebuilt.snapshot() == live.snapshot()
    assert rebuilt.ledger() == live.ledger()


def test_the_specific_matcher_orders_named_lots_then_the_fallback() -> None:
    p = three_lots()
    lots = p._books["AAA"]["s1"].lots
    order = SpecificLotMatcher(["F-2", "F-7"], FifoLotMatcher()).closing_order(lots)
    assert [lot.fill_id for lot in order] == ["F-2", "F-1", "F-3"]


def test_a_fill_carrying_close_lots_closes_them_first() -> None:
    # buy 10 @ 100 (F-1), 10 @ 110 (F-2); sell 10 @ 120 naming F-2: (120 - 110) x 10 = 100
    # realized, where FIFO (F-1) would give (120 - 100) x 10 = 200
    def book(named: tuple[str, ...]) -> LotPortfolioService:
        p = LotPortfolioService(PortfolioConfig(initial_cash=D(10_000)))
        p.apply_fill(fill(1, Side.BUY, 10, "100", day=1))
        p.apply_fill(fill(2, Side.BUY, 10, "110", day=2))
        sale = fill(3, Side.SELL, 10, "120", day=3).model_copy(update={"close_lots": named})
        p.apply_fill(sale)
        return p

    named = book(("F-2",))
    assert named.pnl_summary().realized_pnl == D(100)
    assert named.ledger()[-1].lots_named == ("F-2",)
    assert [lot.lot_id for lot in named.lots("AAA")] == ["F-1"]
    fifo = book(())
    assert fifo.pnl_summary().realized_pnl == D(200)
    assert [lot.lot_id for lot in fifo.lots("AAA")] == ["F-2"]
    assert replay(named.config, named.ledger()).snapshot() == named.snapshot()
