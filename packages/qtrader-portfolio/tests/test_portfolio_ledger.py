"""The ledger: the cash invariant, replay, and property tests over random histories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qtrader.models import BarSlice, CashDividend, Fill, Side, Split
from qtrader.models.testing import make_bar, ny_close
from qtrader.portfolio import (
    LedgerEntryType,
    LotMatching,
    LotPortfolioService,
    PortfolioConfig,
    PortfolioError,
    replay,
)

D = Decimal
DAY0 = date(2024, 1, 1)
ZERO = D(0)


def fill(
    n: int,
    side: Side,
    quantity: int | str,
    price: str,
    commission: str = "0",
    *,
    symbol: str = "AAA",
    strategy: str = "s1",
    day: int = 0,
) -> Fill:
    return Fill(
        id=f"F-{n}",
        order_id=f"O-{n}",
        strategy_id=strategy,
        symbol=symbol,
        side=side,
        quantity=D(quantity),
        price=D(price),
        commission=D(commission),
        timestamp=ny_close(DAY0 + timedelta(days=day)),
    )


def history(config: PortfolioConfig) -> LotPortfolioService:
    """A small history touching every entry type."""
    p = LotPortfolioService(config)
    p.apply_fill(fill(1, Side.BUY, 101, "30", "1", day=0))
    p.apply_fill(fill(2, Side.BUY, 50, "32", "1", day=1, strategy="s2"))
    p.mark(BarSlice.from_bars([make_bar("AAA", DAY0 + timedelta(days=1), 31.5)]))
    ex = ny_close(DAY0 + timedelta(days=2))
    p.apply_action(Split(symbol="AAA", ex_date=ex.date(), ratio=D("1.5")), ex)
    p.apply_action(CashDividend(symbol="AAA", ex_date=ex.date(), amount=D("0.10")), ex)
    p.apply_fill(fill(3, Side.SELL, 60, "22", "1", day=2))
    p.apply_fill(fill(4, Side.SELL, 200, "22.5", "2", day=3, strategy="s2"))
    p.mark(BarSlice.from_bars([make_bar("AAA", DAY0 + timedelta(days=3), 23.0)]))
    return p


def test_ledger_of_a_small_history_by_hand() -> None:
    p = history(PortfolioConfig(initial_cash=D(10000)))
    types = [(e.sequence, e.type.value, e.strategy_id) for e in p.ledger()]
    assert types == [
        (1, "fill", "s1"),
        (2, "fill", "s2"),
        (3, "split", "s1"),
        (4, "cash_in_lieu", "s1"),  # 101 x 1.5 = 151.5
        (5, "split", "s2"),  # 50 x 1.5 = 75, whole
        (6, "dividend", "s1"),
        (7, "dividend", "s2"),
        (8, "fill", "s1"),
        (9, "fill", "s2"),
    ]
    # cash: 10000 - 3031 - 1601 + 10.50 (0.5 x 31.5 / 1.5) + 15.10 (151 x 0.10)
    #       + 7.50 (75 x 0.10) + 1319 (60 x 22 - 1) + 4498 (200 x 22.5 - 2) = 11218.10
    assert p.cash == D("11218.10")
    assert p.cash == D(10000) + sum((e.cash_flow for e in p.ledger()), start=ZERO)
    # s1 holds 151 - 60 = 91; s2 flipped from 75 long to 125 short
    assert (p.position("AAA", "s1"), p.position("AAA", "s2")) == (D(91), D(-125))


@pytest.mark.parametrize("method", ["fifo", "lifo", "highest_cost"])
def test_replay_rebuilds_the_state_exactly(method: LotMatching) -> None:
    config = PortfolioConfig(initial_cash=D(10000), lot_matching=method)
    live = history(config)
    rebuilt = replay(
        config, live.ledger(), last_prices=live.last_prices(), marked_at=live.marked_at
    )
    assert rebuilt.snapshot() == live.snapshot()
    assert rebuilt.ledger() == live.ledger()
    for sid in (None, "s1", "s2"):
        assert rebuilt.pnl_summary(sid) == live.pnl_summary(sid)
    # and it goes on exactly like the original
    for p in (live, rebuilt):
        p.apply_fill(fill(5, Side.BUY, 10, "23", day=4))
    assert rebuilt.snapshot() == live.snapshot()


def test_replay_refuses_a_ledger_that_does_not_match_the_config() -> None:
    live = LotPortfolioService(PortfolioConfig(initial_cash=D(1000)))
    live.apply_fill(fill(1, Side.BUY, 1, "10"))
    live.apply_fill(fill(2, Side.BUY, 1, "20", day=1))
    live.apply_fill(fill(3, Side.SELL, 1, "15", day=2))
    lifo = PortfolioConfig(initial_cash=D(1000), lot_matching="lifo")
    with pytest.raises(PortfolioError, match=r"ledger entry #3 \(fill 'F-3'\) replays differently"):
        replay(lifo, live.ledger())
    no_short = PortfolioConfig(initial_cash=D(1000), allow_short=False)
    shorted = LotPortfolioService(PortfolioConfig(initial_cash=D(1000)))
    shorted.apply_fill(fill(1, Side.SELL, 1, "10"))
    with pytest.raises(PortfolioError, match=r"#1 \(fill 'F-1'\) cannot be replayed.*short"):
        replay(no_short, shorted.ledger())


def test_replay_refuses_an_edited_or_incomplete_ledger() -> None:
    config = PortfolioConfig(initial_cash=D(10000))
    entries = history(config).ledger()
    with pytest.raises(PortfolioError, match="expected sequence number 2"):
        replay(config, (entries[0], entries[2]))
    edited = entries[3].model_copy(update={"cash_flow": D("10.49")})
    with pytest.raises(PortfolioError, match=r"#4 .* replays differently"):
        replay(config, (*entries[:3], edited))
    for index, field in ((0, "price"), (2, "ratio"), (3, "price"), (5, "price")):
        broken = entries[index].model_copy(update={field: None})
        with pytest.raises(PortfolioError, match=f"needs a {field}"):
            replay(config, (*entries[:index], broken))
    wrong_lieu = entries[3].model_copy(update={"quantity": D("0.5")})
    with pytest.raises(PortfolioError, match="does not fit its position"):
        replay(config, (*entries[:3], wrong_lieu))
    with pytest.raises(PortfolioError, match="last price of AAA"):
        replay(config, entries, last_prices={"AAA": D(0)})


# ------------------------------------------------------------------ properties

STRATEGIES = ("A", "B")
SYMBOLS = ("AAA", "BBB")
EXACT_RATIOS = ("2", "4", "0.5", "0.25", "1.25")  # price / ratio is exact for cents
INEXACT_RATIOS = ("1.5", "3")


@dataclass(frozen=True)
class FillOp:
    strategy: str
    symbol: str
    side: Side
    quantity: int
    cents: int
    commission_cents: int


@dataclass(frozen=True)
class MarkOp:
    closes: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class SplitOp:
    symbol: str
    ratio: str


@dataclass(frozen=True)
class DividendOp:
    symbol: str
    cents: int


fill_ops = st.builds(
    FillOp,
    st.sampled_from(STRATEGIES),
    st.sampled_from(SYMBOLS),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 300),
    st.integers(100, 20_000),
    st.integers(0, 500),
)
mark_ops = st.builds(
    MarkOp,
    st.lists(
        st.tuples(st.sampled_from(SYMBOLS), st.integers(100, 20_000)),
        min_size=1,
        max_size=2,
        unique_by=lambda t: t[0],
    ).map(tuple),
)
split_ops = st.builds(
    SplitOp, st.sampled_from(SYMBOLS), st.sampled_from(EXACT_RATIOS + INEXACT_RATIOS)
)
dividend_ops = st.builds(DividendOp, st.sampled_from(SYMBOLS), st.integers(1, 200))
histories = st.lists(
    st.one_of(fill_ops, fill_ops, fill_ops, mark_ops, split_ops, dividend_ops), max_size=40
)


def check_invariants(p: LotPortfolioService) -> None:
    config = p.config
    ledger = p.ledger()
    state = p.snapshot()
    # cash = initial + sum of ledger cash flows, exactly
    assert p.cash == config.initial_cash + sum((e.cash_flow for e in ledger), start=ZERO)
    # equity = cash + sum of market values
    assert state.equity == state.cash + sum((x.market_value for x in state.positions), start=ZERO)
    assert p.equity == state.equity
    for position in state.positions:
        # position quantity = sum of lot quantities = position() over strategies
        assert position.quantity == sum((lot.quantity for lot in position.lots), start=ZERO)
        assert position.quantity == p.position(position.symbol)
        for lot in position.lots:
            # every lot's sign matches its strategy's position
            assert (lot.quantity > 0) == (p.position(lot.symbol, lot.strategy_id) > 0)
    # per-strategy figures add up to the total, to the cent (here: exactly)
    total = p.pnl_summary()
    parts = [p.pnl_summary(s) for s in p.strategy_ids()]
    for field in type(total).model_fields:
        if field != "strategy_id":
            assert sum((getattr(x, field) for x in parts), start=ZERO) == getattr(total, field)
    assert total.total_pnl == state.equity - config.initial_cash
    assert total.realized_pnl == state.realized_pnl
    assert total.unrealized_pnl == state.unrealized_pnl
    # replay from the ledger reproduces the state exactly
    rebuilt = replay(config, ledger, last_prices=p.last_prices(), marked_at=p.marked_at)
    assert rebuilt.snapshot() == state
    assert rebuilt.pnl_summary() == total


def run(p: LotPortfolioService, ops: list[object]) -> None:
    for n, op in enumerate(ops, start=1):
        day = DAY0 + timedelta(days=n)
        if isinstance(op, FillOp):
            f = Fill(
                id=f"F-{n}",
                order_id=f"O-{n}",
                strategy_id=op.strategy,
                symbol=op.symbol,
                side=op.side,
                quantity=D(op.quantity),
                price=D(op.cents) / 100,
                commission=D(op.commission_cents) / 100,
                timestamp=ny_close(day),
            )
            before = (p.snapshot(), len(p.ledger()))
            try:
                p.apply_fill(f)
            except PortfolioError:
                assert not p.config.allow_short
                assert (p.snapshot(), len(p.ledger())) == before
        elif isinstance(op, MarkOp):
            p.mark(BarSlice.from_bars([make_bar(s, day, c / 100) for s, c in op.closes]))
        elif isinstance(op, SplitOp):
            equity = p.equity
            marked = p.last_price(op.symbol) is not None
            p.apply_action(Split(symbol=op.symbol, ex_date=day, ratio=D(op.ratio)), ny_close(day))
            # a split changes no value (cash in lieu included): exactly when the
            # mark divides exactly by the ratio, else up to the rounding of the new
            # mark (or of the cash-in-lieu price and cost share, before any mark)
            # to 1e-10
            if op.ratio in EXACT_RATIOS and marked:
                assert p.equity == equity
            else:
                shares = sum((abs(p.position(op.symbol, s)) for s in STRATEGIES), start=ZERO)
                assert abs(p.equity - equity) <= (shares + 2) * D("1e-10")
        else:
            assert isinstance(op, DividendOp)
            held = {s: p.position(op.symbol, s) for s in STRATEGIES}
            cash = p.cash
            p.apply_action(
                CashDividend(symbol=op.symbol, ex_date=day, amount=D(op.cents) / 100), ny_close(day)
            )
            assert p.cash - cash == sum(held.values(), start=ZERO) * D(op.cents) / 100
        # equity is cached between changes: after every step it equals the snapshot's,
        # which is summed afresh
        assert p.equity == p.snapshot().equity


@settings(max_examples=150, deadline=None)
@given(
    ops=histories,
    method=st.sampled_from(["fifo", "lifo", "highest_cost"]),
    allow_short=st.booleans(),
)
def test_invariants_hold_for_random_histories(
    ops: list[object], method: LotMatching, allow_short: bool
) -> None:
    p = LotPortfolioService(
        PortfolioConfig(initial_cash=D(100_000), lot_matching=method, allow_short=allow_short)
    )
    run(p, ops)
    check_invariants(p)
    if not allow_short:
        assert all(p.position(sym, s) >= 0 for sym in SYMBOLS for s in STRATEGIES)
    # every entry type is a known one, numbered 1..n
    assert [e.sequence for e in p.ledger()] == list(range(1, len(p.ledger()) + 1))
    assert {e.type for e in p.ledger()} <= set(LedgerEntryType)
