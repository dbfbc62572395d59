"""LotPortfolioService: the book of record, with lots, an exact cash ledger and actions."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal

from qtrader.models import (
    BarSlice,
    CashDividend,
    ClosedLot,
    Fill,
    Lot,
    PortfolioState,
    Position,
    Split,
    split_fraction,
    to_decimal,
)
from qtrader.portfolio._arith import divide
from qtrader.portfolio._ids import IdSet
from qtrader.portfolio._marks import value_at_closes
from qtrader.portfolio.book import PositionBook
from qtrader.portfolio.config import PortfolioConfig
from qtrader.portfolio.errors import PortfolioError
from qtrader.portfolio.financing import RegulatoryFees, accrue
from qtrader.portfolio.ledger import LedgerEntry, LedgerEntryType
from qtrader.portfolio.lots import (
    LotMatcher,
    OpenLot,
    SpecificLotMatcher,
    lot_matcher,
)
from qtrader.portfolio.summary import PnlSummary
from qtrader.portfolio.view import PortfolioReadView

ZERO = Decimal(0)


def _is_positive(value: Decimal) -> bool:
    # NaN compares by raising, so check finiteness first.
    return isinstance(value, Decimal) and value.is_finite() and value > 0


def _decimal(close: float) -> Decimal:
    """``to_decimal`` of a Python float (what ``mark`` keeps), without its ``float()``."""
    return Decimal(repr(close))


def _whole_part(quantity: Decimal) -> Decimal:
    """The whole shares of a signed quantity, rounded toward zero."""
    return quantity.to_integral_value(rounding=ROUND_DOWN)


def _refuse_bad_fill(fill: Fill) -> None:
    """Raise ``PortfolioError`` for the first problem of a fill that failed the checks of
    ``apply_fill`` (the model normally guarantees them; ``model_construct`` does not)."""
    for name in ("id", "strategy_id", "symbol"):
        value = getattr(fill, name)
        if not isinstance(value, str) or not value:
            raise PortfolioError(f"fill {fill.id!r}: {name} must be a non-empty string")
    if not isinstance(fill.timestamp, datetime) or fill.timestamp.tzinfo is None:
        raise PortfolioError(
            f"fill {fill.id!r} ({fill.symbol}): timestamp must be timezone-aware, "
            f"got {fill.timestamp!r}"
        )
    for name in ("quantity", "price"):
        if not _is_positive(getattr(fill, name)):
            raise PortfolioError(
                f"fill {fill.id!r} ({fill.symbol}): {name} must be a positive finite "
                f"number, got {getattr(fill, name)}"
            )
    raise PortfolioError(
        f"fill {fill.id!r} ({fill.symbol}): commission must be >= 0, got {fill.commission}"
    )


class LotPortfolioService:
    """Positions as lots per (strategy, symbol), cash as an exact ledger, P&L by strategy.

    Every change of cash or position goes through one of the ``_post_*``
    methods, which both the live mutators and ``replay`` call, so replaying the
    ledger re-executes exactly the arithmetic that produced it.
    """

    def __init__(self, config: PortfolioConfig) -> None:
        self._config = config
        self._matcher = lot_matcher(config.lot_matching)
        self._cash = config.initial_cash
        # symbol -> strategy_id -> book; a book stays after it goes flat (it keeps its P&L).
        self._books: dict[str, dict[str, PositionBook]] = {}
        self._symbol_ranks: dict[str, int] = {}  # each symbol's place in ``_books``
        # The books with open lots, in the order ``_all_books`` yields them (their ``rank``),
        # so that sums over open books add in the same order as a scan of every book.
        self._open_ranks: list[tuple[int, int]] = []
        self._open_books_list: list[PositionBook] = []
        # Marks are kept lazily: ``mark`` stores each bar's float close in ``_pending``
        # and the exact Decimal (``to_decimal`` of that float) is made only when the
        # symbol's price is read (equity of a held symbol, ``last_price``, a snapshot).
        self._prices: dict[str, Decimal] = {}
        self._pending: dict[str, float] = {}
        self._marked_at: datetime | None = None
        self._entries: list[LedgerEntry] = []
        self._drained = 0  # entries handed over by ``drain_ledger`` (sequence numbers go on)
        self._fill_ids = IdSet()  # a bit a fill for the venue's usual ids
        self._realized = ZERO
        self._commissions = ZERO
        self._dividends = ZERO
        self._dividends_received = ZERO
        self._dividends_paid = ZERO
        self._fees = ZERO
        self._borrow_fees = ZERO
        self._margin_interest = ZERO
        self._margin_accrued = ZERO  # the exact sum of debit balance x rate x days
        # Financing (see ``financing.py``): ``None`` when no rate is above 0, so that
        # fills and marks skip it with one test. ``_financed_on`` is the session date of
        # the last fill, action or mark: financing is accrued up to it.
        self._financing = config.financing if config.financing.charges else None
        self._financed_on: date | None = None
        self._regulatory = (
            None if config.regulatory_fees is None else RegulatoryFees(config.regulatory_fees)
        )
        # order id -> (strategy, symbol, lot ids): the lots its fills close first.
        self._named_lots: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        # Whether a fill is only a fill (no financing, fees or named lots to look at).
        self._plain = self._financing is None and self._regulatory is None
        self._view = PortfolioReadView(self)
        # Equity is read several times a bar (engine, risk, strategies) but changes only
        # when cash, lots or marks do: computed once, dropped by every such change.
        self._equity: Decimal | None = None

    # ----------------------------------------------------------------- reading

    @property
    def config(self) -> PortfolioConfig:
        return self._config

    @property
    def cash(self) -> Decimal:
        return self._cash

    @property
    def equity(self) -> Decimal:
        """Cash plus the market value of every open lot."""
        if self._equity is None:
            # Usually every open book is marked at a float close of this or an earlier bar
            # not yet read as a Decimal: then ``value_at_closes`` gives exactly the sum of
            # ``_open_books_value``, for all books at once (the closes stay pending).
            total = value_at_closes(self._open_books_list, self._pending)
            if total is None:
                total = self._open_books_value()
            self._equity = self._cash + total
        return self._equity

    def _open_books_value(self) -> Decimal:
        """``_market_value`` of each open book, inlined (this runs every bar): the same
        additions, in the same order, as ``sum(..., start=ZERO)``. ``_decimal`` is inlined
        too: one call less per held symbol and bar."""
        take_pending, prices = self._pending.pop, self._prices
        total = ZERO
        for book in self._open_books_list:
            symbol = book.symbol
            close = take_pending(symbol, None)
            price: Decimal | None
            if close is not None:
                price = prices[symbol] = Decimal(repr(close))
            else:
                price = prices.get(symbol)
            total += book.cost if price is None else book.quantity * price
        return total

    def position(self, symbol: str, strategy_id: str | None = None) -> Decimal:
        """Signed quantity of ``symbol`` held by ``strategy_id``, or by all strategies."""
        books = self._books.get(symbol)
        if books is None:
            return ZERO
        if strategy_id is not None:
            book = books.get(strategy_id)
            return ZERO if book is None else book.quantity
        if len(books) == 1:
            # What the sum below gives for one book, without a generator.
            for book in books.values():
                return ZERO + book.quantity
        return sum((book.quantity for book in books.values()), start=ZERO)

    def last_price(self, symbol: str) -> Decimal | None:
        return self._price(symbol)

    def last_prices(self) -> dict[str, Decimal]:
        """A copy of every symbol's last mark."""
        for symbol, close in self._pending.items():
            self._prices[symbol] = _decimal(close)
        self._pending.clear()
        return dict(self._prices)

    @property
    def marked_at(self) -> datetime | None:
        """Timestamp of the last ``mark``."""
        return self._marked_at

    def ledger(self) -> tuple[LedgerEntry, ...]:
        """Every entry booked, less those ``drain_ledger`` handed over."""
        return tuple(self._entries)

    def drain_ledger(self) -> tuple[LedgerEntry, ...]:
        """The entries booked since the previous call, forgotten here (``LedgerDrain``):
        a run that streams its records keeps no entry to the end."""
        entries = tuple(self._entries)
        self._drained += len(entries)
        self._entries.clear()
        return entries

    def strategy_ids(self) -> tuple[str, ...]:
        """Every strategy that has traded, sorted."""
        return tuple(sorted({sid for books in self._books.values() for sid in books}))

    def pnl_summary(self, strategy_id: str | None = None) -> PnlSummary:
        """P&L of one strategy, or of the whole portfolio (``None``); see ``PnlSummary``.

        A strategy that never traded has all figures zero.
        """
        margin = ZERO
        if strategy_id is None:
            realized, commissions, dividends = self._realized, self._commissions, self._dividends
            received, paid = self._dividends_received, self._dividends_paid
            fees, borrow, margin = self._fees, self._borrow_fees, self._margin_interest
            cash_flow = self._cash - self._config.initial_cash
            books = list(self._all_books())
        else:
            books = [b for b in self._all_books() if b.strategy_id == strategy_id]
            realized = sum((b.realized for b in books), start=ZERO)
            commissions = sum((b.commissions for b in books), start=ZERO)
            dividends = sum((b.dividends for b in books), start=ZERO)
            received = sum((b.dividends_received for b in books), start=ZERO)
            paid = sum((b.dividends_paid for b in books), start=ZERO)
            fees = sum((b.fees for b in books), start=ZERO)
            borrow = sum((b.borrow_fees for b in books), start=ZERO)
            cash_flow = sum((b.cash_flow for b in books), start=ZERO)
        market_value = sum((self._market_value(b) for b in books if b.lots), start=ZERO)
        cost = sum((b.cost for b in books), start=ZERO)
        net_realized = realized - commissions - fees
        unrealized = market_value - cost
        financing = borrow + margin
        return PnlSummary(
            strategy_id=strategy_id,
            realized_pnl=realized,
            commissions=commissions,
            net_realized_pnl=net_realized,
            unrealized_pnl=unrealized,
            dividends=dividends,
            total_pnl=net_realized + unrealized + dividends - financing,
            market_value=market_value,
            cash_flow=cash_flow,
            fees=fees,
            dividends_received=received,
            dividends_paid=paid,
            borrow_fees=borrow,
            margin_interest=margin,
            financing_costs=financing,
        )

    def lots(self, symbol: str, strategy_id: str | None = None) -> tuple[Lot, ...]:
        """The open lots of ``symbol`` (of one strategy, or of all), sorted by
        ``(opened_at, fill_id)``: what an order may name to close (``Lot.lot_id``)."""
        books = self._books.get(symbol, {})
        held = [b for sid, b in books.items() if strategy_id in (None, sid) and b.lots]
        return _frozen_lots(symbol, _sorted_lots(held))

    @property
    def financed_on(self) -> date | None:
        """The session date financing is accrued up to (that of the last fill, action or
        mark); ``None`` before the first, or when financing is off."""
        return self._financed_on

    def snapshot(self) -> PortfolioState:
        positions = tuple(
            self._aggregate_position(symbol, books)
            for symbol, books in sorted(self._books.items())
            if any(book.lots for book in books.values())
        )
        market_value = sum((p.market_value for p in positions), start=ZERO)
        long_exposure = sum((p.market_value for p in positions if p.market_value > 0), start=ZERO)
        short_exposure = sum((p.market_value for p in positions if p.market_value < 0), start=ZERO)
        gross = long_exposure - short_exposure
        equity = self._cash + market_value
        return PortfolioState(
            timestamp=self._marked_at,
            cash=self._cash,
            equity=equity,
            market_value=market_value,
            long_exposure=long_exposure,
            short_exposure=short_exposure,
            gross_exposure=gross,
            net_exposure=market_value,
            leverage=gross / equity if equity != 0 else ZERO,
            realized_pnl=self._realized,
            unrealized_pnl=sum((p.unrealized_pnl for p in positions), start=ZERO),
            commissions=self._commissions,
            dividends=self._dividends,
            dividends_received=self._dividends_received,
            dividends_paid=self._dividends_paid,
            fees=self._fees,
            borrow_fees=self._borrow_fees,
            margin_interest=self._margin_interest,
            financing_costs=self._borrow_fees + self._margin_interest,
            total_pnl=equity - self._config.initial_cash,
            positions=positions,
        )

    def view(self) -> PortfolioReadView:
        """A read-only facade (a ``PortfolioView`` with no mutating methods)."""
        return self._view

    # ---------------------------------------------------------------- mutating

    def apply_fill(self, fill: Fill, lots: Sequence[str] | None = None) -> None:
        """Book a fill for its strategy; refuses bad input with ``PortfolioError``.

        ``lots`` names (by ``Lot.lot_id``) lots of the fill's strategy and symbol that it
        closes first, in that order (see ``SpecificLotMatcher``); one no longer open (the
        order was decided before another fill closed it) is passed over, but an id that
        is no lot at all is refused. Without ``lots``, the fill's own ``close_lots`` (what
        its order named), else the lots named for the fill's order by ``name_lots``, if
        any. The rest close in the configured ``lot_matching`` order.

        Everything is checked before anything changes, so a refused fill leaves
        the state untouched (the model normally guarantees these; a fill built
        with ``model_construct`` does not).
        """
        fill_id, strategy_id, symbol = fill.id, fill.strategy_id, fill.symbol
        timestamp, quantity, price, commission = (
            fill.timestamp,
            fill.quantity,
            fill.price,
            fill.commission,
        )
        # Every check of ``_refuse_bad_fill`` in one expression: a valid fill (the usual
        # case) costs one pass; an invalid one is then described by the first check it fails.
        if not (
            isinstance(fill_id, str)
            and fill_id
            and isinstance(strategy_id, str)
            and strategy_id
            and isinstance(symbol, str)
            and symbol
            and isinstance(timestamp, datetime)
            and timestamp.tzinfo is not None
            and _is_positive(quantity)
            and _is_positive(price)
            and commission.is_finite()
            and commission >= 0
        ):
            _refuse_bad_fill(fill)
        signed = quantity * fill.side.sign
        if lots is None and fill.close_lots:
            lots = fill.close_lots
        if lots is None and self._plain:  # no financing, fees or named lots: the usual case
            self._post_fill(timestamp, strategy_id, symbol, signed, price, commission, fill_id)
            return
        named: tuple[str, ...] = ()
        if lots is not None:
            named = self._check_named_lots(
                f"fill {fill_id!r}", strategy_id, symbol, lots, open_now=False
            )
        elif self._named_lots:
            order = self._named_lots.get(fill.order_id)
            if order is not None and order[:2] == (strategy_id, symbol):
                named = order[2]
        regulatory = self._regulatory
        if regulatory is not None and signed < 0:
            self._sec_rate(timestamp, fill_id, symbol)  # refuses a sale the schedule misses
        if self._financing is not None and self._new_session(timestamp):
            # Financing accrues before the fill (on the book as it stood overnight); a
            # fill that will be refused must not leave that behind.
            self._check_fill(strategy_id, symbol, signed, fill_id)
            self._accrue(timestamp)
        self._post_fill(timestamp, strategy_id, symbol, signed, price, commission, fill_id, named)
        if regulatory is not None and signed < 0:
            self._post_sec_fee(timestamp, strategy_id, symbol, signed, price, fill_id)
            self._post_finra_taf(timestamp, strategy_id, symbol, signed, fill_id)

    def name_lots(
        self, order_id: str, strategy_id: str, symbol: str, lot_ids: Sequence[str]
    ) -> None:
        """Have the fills of order ``order_id`` close the lots ``lot_ids`` first (in that
        order), for a venue whose fills do not carry the lots themselves.

        The lots must be open lots of ``strategy_id`` in ``symbol`` now; one that another
        order closes before this one fills is passed over then. An order is named once.
        """
        if not isinstance(order_id, str) or not order_id:
            raise PortfolioError(
                f"name_lots: order id must be a non-empty string, got {order_id!r}"
            )
        if order_id in self._named_lots:
            raise PortfolioError(
                f"order {order_id!r} ({symbol}): its lots were already named "
                f"{list(self._named_lots[order_id][2])}"
            )
        named = self._check_named_lots(
            f"order {order_id!r}", strategy_id, symbol, lot_ids, open_now=True
        )
        self._named_lots[order_id] = (strategy_id, symbol, named)
        self._plain = False

    def apply_action(self, action: Split | CashDividend, timestamp: datetime) -> None:
        """Apply a corporate action to every strategy's position in its symbol.

        Call it at the first bar of the ex-date, before that bar's fills: the
        positions then are those held at the close before the ex-date.
        """
        if timestamp.tzinfo is None:
            raise PortfolioError(f"{action.kind} of {action.symbol}: timestamp must be aware")
        if isinstance(action, Split):
            if not _is_positive(action.ratio):
                raise PortfolioError(
                    f"split of {action.symbol} on {action.ex_date}: ratio must be > 0, "
                    f"got {action.ratio}"
                )
        elif isinstance(action, CashDividend):
            if not _is_positive(action.amount):
                raise PortfolioError(
                    f"cash dividend of {action.symbol} on {action.ex_date}: amount must be "
                    f"> 0, got {action.amount}"
                )
        else:
            raise PortfolioError(f"unknown corporate action {action!r}")
        if self._financing is not None and self._new_session(timestamp):
            self._accrue(timestamp)
        if isinstance(action, Split):
            self._apply_split(action, timestamp)
        else:
            self._apply_dividend(action, timestamp)

    def mark(self, bars: BarSlice) -> None:
        """Take each bar's close as its symbol's last price; other symbols keep theirs.

        The closes are checked at once (a NaN, infinite or non-positive close is refused,
        naming the first such symbol, before anything changes) and kept as floats; each
        becomes the exact ``to_decimal(close)`` only when its price is read. With
        financing on, the first mark of a new session date first accrues it (at the
        previous closes).
        """
        closes = bars.close
        valid = (closes > 0) & (closes < math.inf)  # NaN fails both
        if not valid.all():
            i = int(valid.argmin())  # the first invalid close
            raise PortfolioError(
                f"mark at {bars.timestamp.isoformat()}: close of {bars.symbols[i]} must be a "
                f"positive finite price, got {to_decimal(closes[i])}"
            )
        if self._financing is not None and self._new_session(bars.timestamp):
            self._accrue(bars.timestamp)
        # tolist() gives Python floats at once; indexing numpy per symbol is slower.
        self._pending.update(zip(bars.symbols, closes.tolist(), strict=True))
        self._marked_at = bars.timestamp
        self._equity = None

    # ----------------------------------------------------------- corporate actions

    def _apply_split(self, split: Split, at: datetime) -> None:
        ratio = split.ratio
        reference = f"split:{split.symbol}:{split.ex_date.isoformat()}"
        mark = self._price(split.symbol)
        new, old = split_fraction(ratio)
        post_split_mark = None if mark is None else divide(mark * old, Decimal(new))
        for book in self._held_books(split.symbol):
            entry = self._post_split(at, book.strategy_id, split.symbol, ratio, reference)
            assert entry.position_after is not None  # a book's entry has one
            fraction = entry.position_after - _whole_part(entry.position_after)
            if fraction != 0:
                if post_split_mark is None:
                    # Never marked: the position is valued at cost, so the fraction
                    # is paid at the cost of the very lots it is taken from (no P&L
                    # is invented, up to the 1e-10 rounding of that price).
                    cost = book.cost_to_close(fraction, self._matcher)
                    price = divide(cost, fraction)
                else:
                    price = post_split_mark
                self._post_cash_in_lieu(
                    at, book.strategy_id, split.symbol, -fraction, price, reference
                )
        # Rescaled even when nothing is held, so a stale pre-split mark never values
        # a position opened before the next mark.
        if post_split_mark is not None:
            self._prices[split.symbol] = post_split_mark
            self._equity = None

    def _apply_dividend(self, dividend: CashDividend, at: datetime) -> None:
        reference = f"cash_dividend:{dividend.symbol}:{dividend.ex_date.isoformat()}"
        for book in self._held_books(dividend.symbol):
            self._post_dividend(at, book.strategy_id, dividend.symbol, dividend.amount, reference)

    # ------------------------------------------------------ financing and fees

    def _new_session(self, at: datetime) -> bool:
        """Whether ``at`` falls on a later session date than the last fill, action or
        mark (the first one only starts the clock)."""
        last = self._financed_on
        if last is None:
            self._financed_on = at.date()
            return False
        return at.date() > last

    def _accrue(self, at: datetime) -> None:
        """Charge the financing of the nights since ``_financed_on`` (see ``financing.py``):
        margin interest on the overnight cash first, then each short's borrow fee."""
        financing, last = self._financing, self._financed_on
        assert financing is not None
        assert last is not None
        day = at.date()
        days = (day - last).days
        self._financed_on = day
        if self._cash < 0 and financing.margin_rate > 0:
            self._post_margin_interest(at, self._cash, financing.margin_rate, days)
        for book in [b for b in self._open_books_list if b.quantity < 0]:
            rate = financing.borrow_rate_of(book.symbol)
            if rate > 0:
                price = self._price(book.symbol)
                self._post_borrow_fee(at, book.strategy_id, book.symbol, price, rate, days)

    def _sec_rate(self, at: datetime, fill_id: str, symbol: str) -> Decimal:
        assert self._regulatory is not None
        rate = self._regulatory.sec_rate(at.date())
        if rate is None:
            raise PortfolioError(
                f"fill {fill_id!r} ({symbol}): sold on {at.date()}, before the first "
                f"effective date of regulatory_fees.sec_fee_per_million "
                f"({self._regulatory.first_date()}); give the rate in effect then"
            )
        return rate

    def _check_named_lots(
        self, what: str, strategy_id: str, symbol: str, lot_ids: Sequence[str], *, open_now: bool
    ) -> tuple[str, ...]:
        """``lot_ids`` as a tuple, if they are distinct lot ids: of open lots of the
        strategy and symbol (``open_now``), or at least of fills already applied (a lot
        named when an order was decided may be closed by the time it fills)."""
        named = tuple(lot_ids)
        books = self._books.get(symbol, {})
        book = books.get(strategy_id)
        open_ids = set() if book is None else book.open_lot_ids()
        known = open_ids if open_now else self._fill_ids
        if (
            not named
            or len(set(named)) != len(named)
            or not all(isinstance(i, str) and i in known for i in named)
        ):
            which = "open lots" if open_now else "lots (fills applied)"
            raise PortfolioError(
                f"{what}: the lots to close must be distinct ids of {which} of strategy "
                f"{strategy_id!r} in {symbol}, got {list(named)}; its open lots are "
                f"{sorted(open_ids)}"
            )
        return named

    def _check_fill(self, strategy_id: str, symbol: str, quantity: Decimal, fill_id: str) -> None:
        """Refuse a fill already applied, or a sale that would leave its strategy short
        when shorting is not allowed."""
        if fill_id in self._fill_ids:
            raise PortfolioError(f"fill {fill_id!r} ({symbol}) was already applied")
        if not self._config.allow_short and quantity < 0:
            held = self.position(symbol, strategy_id)
            after = held + quantity
            if after < 0:
                raise PortfolioError(
                    f"fill {fill_id!r}: strategy {strategy_id!r} sells {-quantity} {symbol} "
                    f"holding {held}, which would leave it short {-after}; shorting is not "
                    f"allowed (allow_short=False)"
                )

    # ----------------------------------------- the primitives (shared with replay)

    def _post_fill(
        self,
        at: datetime,
        strategy_id: str,
        symbol: str,
        quantity: Decimal,
        price: Decimal,
        commission: Decimal,
        fill_id: str,
        named: tuple[str, ...] = (),
    ) -> LedgerEntry:
        if fill_id in self._fill_ids or (quantity < 0 and not self._config.allow_short):
            self._check_fill(strategy_id, symbol, quantity, fill_id)
        books = self._books.get(symbol)
        book = None if books is None else books.get(strategy_id)
        if book is None:
            book = self._book(strategy_id, symbol)
        matcher: LotMatcher = self._matcher
        if named:
            matcher = SpecificLotMatcher(named, matcher)
        sequence = self._drained + len(self._entries) + 1
        closed = book.trade(quantity, price, commission, fill_id, at, sequence, matcher)
        book.commissions += commission
        self._commissions += commission
        self._fill_ids.add(fill_id)
        return self._post(
            book,
            closed,
            timestamp=at,
            type=LedgerEntryType.FILL,
            quantity=quantity,
            price=price,
            cash_flow=-quantity * price - commission,
            commission=commission,
            reference=fill_id,
            named=named,
        )

    def _post_split(
        self, at: datetime, strategy_id: str, symbol: str, ratio: Decimal, reference: str
    ) -> LedgerEntry:
        book = self._book(strategy_id, symbol)
        before = book.quantity
        book.split(ratio)
        return self._post(
            book,
            (),
            timestamp=at,
            type=LedgerEntryType.SPLIT,
            quantity=book.quantity - before,
            price=None,
            cash_flow=ZERO,
            ratio=ratio,
            reference=reference,
        )

    def _post_cash_in_lieu(
        self,
        at: datetime,
        strategy_id: str,
        symbol: str,
        quantity: Decimal,
        price: Decimal,
        reference: str,
    ) -> LedgerEntry:
        book = self._book(strategy_id, symbol)
        if (
            quantity == 0
            or abs(quantity) > abs(book.quantity)
            or (quantity > 0) == (book.quantity > 0)
        ):
            raise PortfolioError(
                f"cash in lieu of {-quantity} {symbol} for strategy {strategy_id!r} does not "
                f"fit its position {book.quantity}"
            )
        closed = book.remove(-quantity, price, self._matcher)
        return self._post(
            book,
            closed,
            timestamp=at,
            type=LedgerEntryType.CASH_IN_LIEU,
            quantity=quantity,
            price=price,
            cash_flow=-quantity * price,
            reference=reference,
        )

    def _post_dividend(
        self, at: datetime, strategy_id: str, symbol: str, amount: Decimal, reference: str
    ) -> LedgerEntry:
        book = self._book(strategy_id, symbol)
        cash = amount * book.quantity
        book.dividends += cash
        self._dividends += cash
        if cash > 0:
            book.dividends_received += cash
            self._dividends_received += cash
        else:
            book.dividends_paid -= cash
            self._dividends_paid -= cash
        return self._post(
            book,
            (),
            timestamp=at,
            type=LedgerEntryType.DIVIDEND,
            quantity=book.quantity,
            price=amount,
            cash_flow=cash,
            reference=reference,
        )

    def _post_sec_fee(
        self,
        at: datetime,
        strategy_id: str,
        symbol: str,
        quantity: Decimal,
        price: Decimal,
        fill_id: str,
    ) -> LedgerEntry | None:
        """The SEC fee of a sale of ``-quantity`` at ``price``; nothing if it is 0 (or
        regulatory fees are off)."""
        if self._regulatory is None:
            return None
        rate = self._sec_rate(at, fill_id, symbol)
        fee = self._regulatory.sec_fee(-quantity, price, rate)
        if fee == 0:
            return None
        return self._post_fee(
            at, strategy_id, symbol, LedgerEntryType.SEC_FEE, quantity, price, rate, fee, fill_id
        )

    def _post_finra_taf(
        self, at: datetime, strategy_id: str, symbol: str, quantity: Decimal, fill_id: str
    ) -> LedgerEntry | None:
        """FINRA's TAF on a sale of ``-quantity``; nothing if it is 0 (or off)."""
        if self._regulatory is None:
            return None
        fee = self._regulatory.taf(-quantity)
        if fee == 0:
            return None
        return self._post_fee(
            at,
            strategy_id,
            symbol,
            LedgerEntryType.FINRA_TAF,
            quantity,
            None,
            self._regulatory.taf_per_share,
            fee,
            fill_id,
        )

    def _post_fee(
        self,
        at: datetime,
        strategy_id: str,
        symbol: str,
        type: LedgerEntryType,
        quantity: Decimal,
        price: Decimal | None,
        rate: Decimal,
        fee: Decimal,
        fill_id: str,
    ) -> LedgerEntry:
        book = self._book(strategy_id, symbol)
        book.fees += fee
        self._fees += fee
        return self._post(
            book,
            (),
            timestamp=at,
            type=type,
            quantity=quantity,
            price=price,
            cash_flow=-fee,
            reference=fill_id,
            rate=rate,
        )

    def _post_borrow_fee(
        self,
        at: datetime,
        strategy_id: str,
        symbol: str,
        price: Decimal | None,
        rate: Decimal,
        days: int,
    ) -> LedgerEntry:
        """The borrow fee of a short held ``days`` nights, valued at ``price`` (at cost
        when ``None``: never marked)."""
        book = self._book(strategy_id, symbol)
        if book.quantity >= 0:
            raise PortfolioError(
                f"borrow fee on {symbol} for strategy {strategy_id!r}, which is not short "
                f"({book.quantity})"
            )
        value = -book.cost if price is None else -book.quantity * price
        day_count = self._config.financing.day_count
        book.borrow_accrued, due = accrue(book.borrow_accrued, value, rate, days, day_count)
        fee = due - book.borrow_fees
        book.borrow_fees += fee
        self._borrow_fees += fee
        return self._post(
            book,
            (),
            timestamp=at,
            type=LedgerEntryType.BORROW_FEE,
            quantity=book.quantity,
            price=price,
            cash_flow=-fee,
            reference=f"borrow_fee:{symbol}:{at.date().isoformat()}",
            rate=rate,
            days=days,
        )

    def _post_margin_interest(
        self, at: datetime, balance: Decimal, rate: Decimal, days: int
    ) -> LedgerEntry:
        """Interest on the negative cash ``balance`` held ``days`` nights."""
        if balance >= 0 or balance != self._cash:
            raise PortfolioError(
                f"margin interest on a balance of {balance}, but cash is {self._cash}"
            )
        day_count = self._config.financing.day_count
        self._margin_accrued, due = accrue(self._margin_accrued, -balance, rate, days, day_count)
        interest = due - self._margin_interest
        self._margin_interest += interest
        entry = LedgerEntry.trusted(
            {
                "sequence": self._drained + len(self._entries) + 1,
                "timestamp": at,
                "type": LedgerEntryType.MARGIN_INTEREST,
                "strategy_id": None,
                "symbol": None,
                "quantity": balance,
                "price": None,
                "cash_flow": -interest,
                "commission": ZERO,
                "ratio": None,
                "position_after": None,
                "reference": f"margin_interest:{at.date().isoformat()}",
                "lots_closed": (),
                "lots_named": (),
                "rate": rate,
                "days": days,
            }
        )
        self._cash -= interest
        self._equity = None
        self._entries.append(entry)
        return entry

    def _post(
        self,
        book: PositionBook,
        closed: tuple[ClosedLot, ...],
        *,
        timestamp: datetime,
        type: LedgerEntryType,
        quantity: Decimal,
        price: Decimal | None,
        cash_flow: Decimal,
        reference: str,
        commission: Decimal = ZERO,
        ratio: Decimal | None = None,
        named: tuple[str, ...] = (),
        rate: Decimal | None = None,
        days: int | None = None,
    ) -> LedgerEntry:
        """Record an entry whose effect on ``book`` is done; move cash and running totals."""
        # Every value is valid by construction (checked inputs, the book's own
        # arithmetic), so the entry is not validated again (see ``FrozenModel.trusted``).
        entry = LedgerEntry.trusted(
            {
                "sequence": self._drained + len(self._entries) + 1,
                "timestamp": timestamp,
                "type": type,
                "strategy_id": book.strategy_id,
                "symbol": book.symbol,
                "quantity": quantity,
                "price": price,
                "cash_flow": cash_flow,
                "commission": commission,
                "ratio": ratio,
                "position_after": book.quantity,
                "reference": reference,
                "lots_closed": closed,
                "lots_named": named,
                "rate": rate,
                "days": days,
            }
        )
        realized = ZERO  # what ``sum(..., start=ZERO)`` adds, without a generator
        for lot in closed:
            realized += lot.realized_pnl
        self._realized += realized
        self._cash += cash_flow
        self._equity = None
        book.cash_flow += cash_flow
        self._entries.append(entry)
        self._track_open(book)
        return entry

    def _restore_marks(self, prices: Mapping[str, Decimal], at: datetime | None) -> None:
        for symbol, price in prices.items():
            if not _is_positive(price):
                raise PortfolioError(f"last price of {symbol} must be > 0, got {price}")
        self._prices = dict(prices)
        self._pending.clear()
        self._marked_at = at
        self._equity = None

    def _restore_financed_on(self, day: date | None) -> None:
        if self._financing is not None:
            self._financed_on = day

    # ----------------------------------------------------------------- helpers

    def _book(self, strategy_id: str, symbol: str) -> PositionBook:
        books = self._books.get(symbol)
        if books is None:
            books = self._books[symbol] = {}
        book = books.get(strategy_id)
        if book is None:
            # Symbols and, within one, strategies are never removed, so this rank is
            # the book's place in the order ``_all_books`` yields.
            rank = (self._symbol_ranks.setdefault(symbol, len(self._symbol_ranks)), len(books))
            book = books[strategy_id] = PositionBook(strategy_id, symbol, rank)
        return book

    def _track_open(self, book: PositionBook) -> None:
        """Keep ``book`` in the open books exactly while it has open lots."""
        ranks = self._open_ranks
        i = bisect_left(ranks, book.rank)
        listed = i < len(ranks) and ranks[i] == book.rank
        if book.lots and not listed:
            ranks.insert(i, book.rank)
            self._open_books_list.insert(i, book)
        elif listed and not book.lots:
            del ranks[i]
            del self._open_books_list[i]

    def _all_books(self) -> Iterator[PositionBook]:
        for books in self._books.values():
            yield from books.values()

    def _held_books(self, symbol: str) -> list[PositionBook]:
        """Books with an open position in ``symbol``, in a fixed (strategy id) order."""
        books = self._books.get(symbol, {})
        return [books[sid] for sid in sorted(books) if books[sid].quantity != 0]

    def _price(self, symbol: str) -> Decimal | None:
        """The last mark of ``symbol`` as an exact Decimal, converted on first read."""
        close = self._pending.pop(symbol, None)
        if close is not None:
            price = self._prices[symbol] = _decimal(close)
            return price
        return self._prices.get(symbol)

    def _market_value(self, book: PositionBook) -> Decimal:
        """Quantity at the last mark; a never-marked position is valued at its cost."""
        price = self._price(book.symbol)
        return book.cost if price is None else book.quantity * price

    def _aggregate_position(self, symbol: str, books: Mapping[str, PositionBook]) -> Position:
        lots = _sorted_lots(books.values())
        quantity = sum((book.quantity for book in books.values()), start=ZERO)
        cost = sum((lot.cost for lot in lots), start=ZERO)
        shares = sum((abs(lot.quantity) for lot in lots), start=ZERO)
        # Average entry price over all open shares (both sides, if strategies disagree).
        average = sum((abs(lot.cost) for lot in lots), start=ZERO) / shares
        market_value = sum(
            (self._market_value(book) for book in books.values() if book.lots), start=ZERO
        )
        price = self._price(symbol)
        return Position(
            symbol=symbol,
            quantity=quantity,
            average_price=average,
            market_price=average if price is None else price,
            market_value=market_value,
            unrealized_pnl=market_value - cost,
            realized_pnl=sum((book.realized for book in books.values()), start=ZERO),
            lots=_frozen_lots(symbol, lots),
        )


def _sorted_lots(books: Iterable[PositionBook]) -> list[OpenLot]:
    """The open lots of ``books``, sorted by ``(opened_at, fill_id)``."""
    return sorted(
        (lot for book in books for lot in book.lots),
        key=lambda lot: (lot.opened_at, lot.fill_id),
    )


def _frozen_lots(symbol: str, lots: Iterable[OpenLot]) -> tuple[Lot, ...]:
    """Frozen ``Lot`` copies of open lots (for snapshots and readers)."""
    return tuple(
        Lot(
            symbol=symbol,
            strategy_id=lot.strategy_id,
            quantity=lot.quantity,
            price=lot.price,
            opened_at=lot.opened_at,
            fill_id=lot.fill_id,
        )
        for lot in lots
    )
