"""The ledger: the cash invariant, replay, and property tests over random histories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from qtrader.models import BarSlice, CashDividend, Fill, Side, Split
from qtrader.models.testing import make_bar, ny_close
from qtrader.portfolio import (
    FinancingConfig,
    LedgerEntry,
    LedgerEntryType,
    LotMatching,
    LotPortfolioService,
    PortfolioConfig,
    PortfolioError,
    RegulatoryFeesConfig,
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


def test_a_drained_ledger_is_handed_over_once_and_its_numbers_go_on() -> None:
    whole = history(PortfolioConfig(initial_cash=D(10000))).ledger()
    p = LotPortfolioService(PortfolioConfig(initial_cash=D(10000)))
    p.apply_fill(fill(1, Side.BUY, 101, "30", "1", day=0))
    p.apply_fill(fill(2, Side.BUY, 50, "32", "1", day=1, strategy="s2"))
    first = p.drain_ledger()
    assert [e.sequence for e in first] == [1, 2]
    assert p.ledger() == ()
    assert p.drain_ledger() == ()
    p.mark(BarSlice.from_bars([make_bar("AAA", DAY0 + timedelta(days=1), 31.5)]))
    ex = ny_close(DAY0 + timedelta(days=2))
    p.apply_action(Split(symbol="AAA", ex_date=ex.date(), ratio=D("1.5")), ex)
    p.apply_action(CashDividend(symbol="AAA", ex_date=ex.date(), amount=D("0.10")), ex)
    p.apply_fill(fill(3, Side.SELL, 60, "22", "1", day=2))
    second = p.drain_ledger()
    p.apply_fill(fill(4, Side.SELL, 200, "22.5", "2", day=3, strategy="s2"))
    rest = p.ledger()
    # the parts are the whole ledger of the same history, numbers and all
    assert (*first, *second, *rest) == whole
    assert [e.sequence for e in rest] == [9]
    assert p.cash == D("11218.10")  # as in the history kept whole


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
    name_newest_lot: bool = False


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
    st.booleans(),
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
FINANCING = (
    FinancingConfig(),  # off
    FinancingConfig(borrow_rate=D("0.03"), margin_rate=D("0.05")),
    FinancingConfig(
        borrow_rate=D("0.25"), borrow_rates={"BBB": D("0.5")}, margin_rate=D("0.08"), day_count=365
    ),
)
# Day gaps between operations: 1 night, or a weekend's 3 (the ops' dates only grow).
GAPS = st.lists(st.sampled_from([1, 1, 3]), min_size=40, max_size=40)


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
    # per-strategy figures add up to the total, to the cent (here: exactly); margin
    # interest is the account's alone
    total = p.pnl_summary()
    margin = total.margin_interest
    account_part = {"margin_interest": margin, "financing_costs": margin, "total_pnl": -margin,
                    "cash_flow": -margin}  # fmt: skip
    parts = [p.pnl_summary(s) for s in p.strategy_ids()]
    for field in type(total).model_fields:
        if field != "strategy_id":
            summed = sum((getattr(x, field) for x in parts), start=ZERO)
            assert summed + account_part.get(field, ZERO) == getattr(total, field)
    assert total.total_pnl == state.equity - config.initial_cash == state.total_pnl
    assert total.realized_pnl == state.realized_pnl
    assert total.unrealized_pnl == state.unrealized_pnl
    assert total.total_pnl == (
        total.net_realized_pnl + total.unrealized_pnl + total.dividends - total.financing_costs
    )
    for field in ("fees", "borrow_fees", "margin_interest", "financing_costs",
                  "dividends_received", "dividends_paid", "dividends"):  # fmt: skip
        assert getattr(total, field) == getattr(state, field)
    assert state.dividends == state.dividends_received - state.dividends_paid
    # every cost is the sum of its ledger entries
    paid = dict.fromkeys(LedgerEntryType, ZERO)
    for e in ledger:
        paid[e.type] -= e.cash_flow
    assert paid[LedgerEntryType.SEC_FEE] + paid[LedgerEntryType.FINRA_TAF] == state.fees
    assert paid[LedgerEntryType.BORROW_FEE] == state.borrow_fees
    assert paid[LedgerEntryType.MARGIN_INTEREST] == state.margin_interest
    check_financing_rounding(config, ledger)
    # replay from the ledger reproduces the state exactly, and goes on alike
    rebuilt = replay(
        config,
        ledger,
        last_prices=p.last_prices(),
        marked_at=p.marked_at,
        financed_on=p.financed_on,
    )
    assert rebuilt.snapshot() == state
    assert rebuilt.pnl_summary() == total
    later = (p.marked_at.date() if p.marked_at else DAY0) + timedelta(days=5)
    for q in (p, rebuilt):
        q.mark(BarSlice.from_bars([make_bar(s, later, 77.0) for s in SYMBOLS]))
    assert rebuilt.ledger() == p.ledger()
    assert rebuilt.snapshot() == p.snapshot()


def check_financing_rounding(config: PortfolioConfig, ledger: tuple[LedgerEntry, ...]) -> None:
    """What each short (and the account) has been charged is its exact accrual rounded
    half-even to the cent, recomputed here from what the entries record."""
    day_count = config.financing.day_count
    accrued: dict[tuple[str | None, str | None], Decimal] = {}
    charged: dict[tuple[str | None, str | None], Decimal] = {}
    for e in ledger:
        if e.type not in (LedgerEntryType.BORROW_FEE, LedgerEntryType.MARGIN_INTEREST):
            continue
        if e.price is None and e.type is LedgerEntryType.BORROW_FEE:
            return  # valued at cost: not recorded in the entry
        assert e.rate is not None and e.days is not None  # noqa: PT018
        base = -e.quantity * (e.price or 1)
        key = (e.strategy_id, e.symbol)
        with localcontext(prec=60):
            accrued[key] = accrued.get(key, ZERO) + base * e.rate * e.days
            exact = (accrued[key] / day_count).quantize(D("0.01"), rounding=ROUND_HALF_EVEN)
        charged[key] = charged.get(key, ZERO) - e.cash_flow
        assert charged[key] == exact


def financing_costs(p: LotPortfolioService) -> Decimal:
    return p.pnl_summary().financing_costs


def run(p: LotPortfolioService, ops: list[object], gaps: list[int] | None = None) -> None:
    day = DAY0
    for n, op in enumerate(ops, start=1):
        day += timedelta(days=1 if gaps is None else gaps[n - 1])
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
            held = p.lots(op.symbol, op.strategy)
            named = [held[-1].lot_id] if op.name_newest_lot and held else None
            try:
                p.apply_fill(f, lots=named)
            except PortfolioError:
                assert not p.config.allow_short
                assert (p.snapshot(), len(p.ledger())) == before
        elif isinstance(op, MarkOp):
            p.mark(BarSlice.from_bars([make_bar(s, day, c / 100) for s, c in op.closes]))
        elif isinstance(op, SplitOp):
            # financing accrues first (a new day): the split changes equity by that alone
            equity = p.equity + financing_costs(p)
            marked = p.last_price(op.symbol) is not None
            p.apply_action(Split(symbol=op.symbol, ex_date=day, ratio=D(op.ratio)), ny_close(day))
            equity -= financing_costs(p)
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
            cash = p.cash + financing_costs(p)
            p.apply_action(
                CashDividend(symbol=op.symbol, ex_date=day, amount=D(op.cents) / 100), ny_close(day)
            )
            cash -= financing_costs(p)  # what accrued first (a new day)
            assert p.cash - cash == sum(held.values(), start=ZERO) * D(op.cents) / 100
        # equity is cached between changes: after every step it equals the snapshot's,
        # which is summed afresh
        assert p.equity == p.snapshot().equity


@settings(max_examples=150, deadline=None)
@given(
    ops=histories,
    method=st.sampled_from(["fifo", "lifo", "highest_cost"]),
    allow_short=st.booleans(),
    financing=st.sampled_from(FINANCING),
    fees=st.sampled_from([None, RegulatoryFeesConfig()]),
    cash=st.sampled_from([100_000, 5_000]),
    gaps=GAPS,
)
def test_invariants_hold_for_random_histories(
    ops: list[object],
    method: LotMatching,
    allow_short: bool,
    financing: FinancingConfig,
    fees: RegulatoryFeesConfig | None,
    cash: int,
    gaps: list[int],
) -> None:
    p = LotPortfolioService(
        PortfolioConfig(
            initial_cash=D(cash),
            lot_matching=method,
            allow_short=allow_short,
            financing=financing,
            regulatory_fees=fees,
        )
    )
    run(p, ops, gaps)
    kinds = {e.type for e in p.ledger()}
    for kind in (
        LedgerEntryType.BORROW_FEE,
        LedgerEntryType.MARGIN_INTEREST,
        LedgerEntryType.SEC_FEE,
    ):
        event(f"{kind.value} charged: {kind in kinds}")
    event(f"a fill named a lot: {any(e.lots_named for e in p.ledger())}")
    check_invariants(p)
    if not allow_short:
        assert all(p.position(sym, s) >= 0 for sym in SYMBOLS for s in STRATEGIES)
    # every entry type is a known one, numbered 1..n
    assert [e.sequence for e in p.ledger()] == list(range(1, len(p.ledger()) + 1))
    assert {e.type for e in p.ledger()} <= set(LedgerEntryType)


@settings(max_examples=100, deadline=None)
@given(
    ops=st.lists(st.one_of(fill_ops, fill_ops, mark_ops, split_ops), min_size=8, max_size=40),
    method=st.sampled_from(["fifo", "lifo", "highest_cost"]),
    financing=st.sampled_from(FINANCING[1:]),
    gaps=GAPS,
)
def test_invariants_hold_with_financing_and_fees_on(
    ops: list[object], method: LotMatching, financing: FinancingConfig, gaps: list[int]
) -> None:
    """Histories that charge: financing and fees on, little cash (margin), shorts."""
    p = LotPortfolioService(
        PortfolioConfig(
            initial_cash=D(2_000),
            lot_matching=method,
            financing=financing,
            regulatory_fees=RegulatoryFeesConfig(),
        )
    )
    run(p, ops, gaps)
    check_invariants(p)
    kinds = {e.type for e in p.ledger()}
    for kind in (LedgerEntryType.BORROW_FEE, LedgerEntryType.MARGIN_INTEREST):
        event(f"{kind.value} charged: {kind in kinds}")
