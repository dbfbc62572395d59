"""``SimulatedExecutionService``: a deterministic simulated venue for backtests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_FLOOR, Decimal
from operator import attrgetter

from qtrader.execution._book import OrderBook, Role, WorkingOrder
from qtrader.execution._orders import (
    as_stop,
    exit_order,
    replaced,
    resized,
    split_adjusted,
    trail_stop,
)
from qtrader.execution._sessions import BarSession, SessionClock
from qtrader.execution.commissions import CommissionModel, build_commission_model
from qtrader.execution.config import BracketConflict, ExecutionConfig, SplitPolicy
from qtrader.execution.errors import ExecutionError
from qtrader.execution.fill_models import NO_MATCH, BarPrices, FillModel, Match, build_fill_model
from qtrader.execution.slippage import SlippageModel, build_slippage_model
from qtrader.models import (
    BarSlice,
    CashDividend,
    ExecutionReport,
    Fill,
    Instrument,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    ReplaceRequest,
    Side,
    Split,
    TimeInForce,
    split_fraction,
)

_REQUEST_FIELDS = tuple(OrderRequest.model_fields)
_time_of = attrgetter("timestamp")
_NOTHING = ExecutionReport()
ZERO = Decimal(0)
ONE = Decimal(1)
DAY, GTD, IOC, FOK = TimeInForce.DAY, TimeInForce.GTD, TimeInForce.IOC, TimeInForce.FOK
MOO, MOC = OrderType.MARKET_ON_OPEN, OrderType.MARKET_ON_CLOSE
TRAILING = OrderType.TRAILING_STOP


class _Step:
    """What one ``process`` call gathers: its bars' times, what it reports, the OCO pairs
    already settled and, under a participation cap, the volume each symbol has left."""

    __slots__ = (
        "available",
        "bars",
        "fills",
        "growing",
        "handled",
        "opened_at",
        "orders",
        "timestamp",
        "updates",
    )

    def __init__(self, bars: BarSlice, pending: list[OrderUpdate]) -> None:
        self.bars = bars
        self.timestamp = bars.timestamp
        self.opened_at = bars.opened_at
        self.fills: list[Fill] = []
        self.updates: list[OrderUpdate] = pending
        self.orders: list[Order] = []
        self.handled: set[str] = set()
        self.available: dict[str, Decimal] = {}
        # Bracket entries that filled more while their exits work, and how much more.
        self.growing: list[tuple[WorkingOrder, Decimal]] = []

    def opened_at_of(self, symbol: str) -> datetime:
        """When ``symbol``'s bar opened (bars of one timestamp may differ in length)."""
        if self.bars.bars_opened_at is None:
            return self.opened_at
        return self.bars.opened_at_of(symbol)


class SimulatedExecutionService:
    """Matches working orders against bars; implements ``qtrader.models.ExecutionService``.

    Timing: an order submitted at ``T`` is matched only by a later ``process``
    whose bars are stamped after ``T``, and only against a bar of its own
    symbol; an order whose symbol has no bar at a timestamp just waits. It
    never meets the bar it was decided on.

    Per bar, for each working order in submission order: the fill model picks
    a price inside the bar's range (or none); the quantity is what is left of the
    order, capped by the fill model's ``participation`` of the bar's volume (shared by
    the symbol's orders in that bar; the rest keeps working); slippage moves the price
    against the trader; a limit or stop-limit order's price is then capped at its limit
    (a limit order never fills worse than its limit, slippage included); a fill too far
    from the order's ``sizing_price`` is refused by the price guard, which cancels the
    order; the commission model charges the increase of the order's total commission.

    Time in force (sessions are local dates in each instrument's zone; a bar stamped
    at or after the session close ends its session): GTC rests until filled or
    cancelled. DAY lives for the session in which the order becomes active and expires
    after the bar that ends it (or, if that session had no closing bar, before the
    first bar of a later one). GTD trades only in what of a bar lies before
    ``expire_at``. IOC and FOK live for the bar on which they become active. Expiries
    are stamped with the bar that decided them. Market-on-open and -on-close orders
    become active on the bar that opens (closes) their session and what they do not
    fill there is cancelled.

    Brackets: once an entry fills, its exits are placed (a stop and a limit on the
    other side, active from the next bar, growing with later fills of the entry) and
    reported in ``ExecutionReport.orders``. A fill of one exit cancels, or for a partial
    fill reduces, the other; when one bar reaches both, a leg marketable at the open
    wins, else the fill model's ``bracket_conflict`` leg (the stop-loss by default).

    Warmup slices advance the clock but never trade. Corporate actions are
    applied only through ``apply_action`` (the engine calls it before
    ``process``); ``bars.actions`` is ignored here, so nothing applies twice.

    Ids come from counters: ``O-000001`` for orders, ``F-000001`` for fills.
    Injected ``fill_model``, ``slippage`` or ``commission`` objects replace the
    ones the config describes. ``instruments`` give each symbol its zone and lot size;
    when given, an order for any other symbol is rejected.
    """

    def __init__(
        self,
        config: ExecutionConfig | None = None,
        *,
        fill_model: FillModel | None = None,
        slippage: SlippageModel | None = None,
        commission: CommissionModel | None = None,
        instruments: Iterable[Instrument] = (),
    ) -> None:
        self._config = config = config if config is not None else ExecutionConfig()
        self._fill_model = fill_model or build_fill_model(config.fill)
        self._slippage = slippage or build_slippage_model(config.slippage)
        self._commission = commission or build_commission_model(config.commission)
        self._clock = clock = SessionClock(config.session, instruments)
        self._known = clock.known
        self._lots = clock.lots
        self._participation = config.fill.participation
        self._stop_loss_wins = config.fill.bracket_conflict is BracketConflict.STOP_LOSS
        self._max_deviation = config.max_price_deviation
        self._lifecycle = config.lifecycle_updates
        self._book = OrderBook()
        self._order_count = 0
        self._fill_count = 0
        self._last_processed: datetime | None = None
        # Updates of calls that return none (acceptances, rejections at submit), reported
        # with the next bars.
        self._pending: list[OrderUpdate] = []

    @property
    def config(self) -> ExecutionConfig:
        return self._config

    @property
    def fill_model_name(self) -> str:
        """The fill model's name, to print with the results."""
        return self._fill_model.name

    # -- orders ------------------------------------------------------------

    def submit(self, request: OrderRequest, at: datetime) -> Order:
        """Accept an order decided at ``at``; it is matched from the next bar after ``at``."""
        if at.tzinfo is None or at.utcoffset() is None:
            self._observe(at, "submit")  # raises
        if self._last_processed is not None and at < self._last_processed:
            self._check_decision_time(at, "submit")  # raises
        if not isinstance(request, OrderRequest):
            raise ExecutionError(f"submit: expected an OrderRequest, got {type(request).__name__}")
        self._order_count += 1
        # Only the request's own fields: an ``Order`` passed back in gets a new id and time.
        # They were validated when the request was made, and ``at`` is aware (checked
        # above), so the order is not validated again (see ``FrozenModel.trusted``).
        fields = request.__dict__
        if type(request) is OrderRequest:
            values = dict(fields)  # exactly its fields, in declaration order
        else:
            values = {name: fields[name] for name in _REQUEST_FIELDS}
        values["id"] = f"O-{self._order_count:06d}"
        values["created_at"] = at
        values["parent_id"] = None
        order = Order.trusted(values)
        clock = self._clock
        symbol = order.symbol
        if self._known and symbol not in self._known:
            self._pending.append(
                _update(
                    order.id,
                    OrderStatus.REJECTED,
                    at,
                    f"unknown symbol {symbol!r} (strategy {order.strategy_id}); the venue "
                    f"trades {sorted(self._known)}",
                )
            )
            return order
        working = self._book.add(order, self._lots.get(symbol, ONE))
        if order.type is MOO:
            working.moo_from = clock.first_open_after(symbol, at)
        if self._lifecycle:
            self._pending.append(_update(order.id, OrderStatus.ACCEPTED, at, "accepted"))
        return order

    def cancel(self, order_id: str, at: datetime) -> OrderUpdate | None:
        """Cancel a working order; ``None`` if it is unknown or already finished."""
        self._observe(at, "cancel")
        working = self._book.get(order_id)
        if working is None:
            return None
        self._remove(working)
        return _update(order_id, OrderStatus.CANCELLED, at, "cancelled on request")

    def replace(self, request: ReplaceRequest, at: datetime) -> OrderUpdate | None:
        """Modify a working order's quantity, limit or stop price, decided at ``at``.

        ``quantity`` is what is left to fill after the change, as ``open_orders`` shows
        it (what has filled stays filled). The order keeps its id, its place in the book
        and what it has filled; the change applies from the next bar on. Returns
        ``REPLACED`` with what changed; an impossible change (another strategy's order, a
        price its type does not take, a quantity that is not positive or not a whole
        number of lots, a trailing stop's stop, the stop of a stop that triggered) leaves
        the order as it was and is answered with its current status (``ACCEPTED`` or
        ``PARTIALLY_FILLED``) and the reason; ``None`` if the order is not working.
        """
        self._check_decision_time(at, "replace")
        working = self._book.get(request.order_id)
        if working is None:
            return None
        order = working.order
        current = OrderStatus.PARTIALLY_FILLED if working.filled_quantity else OrderStatus.ACCEPTED
        asked = request.changes()
        left = asked.get("quantity")
        why = ""
        if request.strategy_id != order.strategy_id:
            why = f"the order belongs to strategy {order.strategy_id}, not {request.strategy_id}"
        elif not asked:
            why = "nothing to change (give quantity, limit_price or stop_price)"
        elif order.type is TRAILING and "stop_price" in asked:
            why = "a trailing stop's stop follows the market; replace it by a new order"
        elif working.triggered and "stop_price" in asked:
            why = (
                "its stop has triggered (it now works as a "
                f"{'limit' if order.limit_price is not None else 'market'} order)"
            )
        elif left is not None and left <= 0:
            why = f"quantity {left} to fill is not positive (cancel the order instead)"
        elif left is not None and left % working.lot:
            why = f"quantity {left} is not a whole number of lots of {working.lot}"
        if why:
            return _update(order.id, current, at, f"replace refused: {why}")
        changes = dict(asked)
        if left is not None:
            changes["quantity"] = working.filled_quantity + left  # the order's new total
        new = replaced(order, changes)
        if isinstance(new, str):
            return _update(order.id, current, at, f"replace refused: {new}")
        before = {**order.__dict__, "quantity": working.remaining}
        done = ", ".join(f"{name} {before[name]} -> {value}" for name, value in asked.items())
        self._book.replace(working, new)
        working.trail_view = None
        return _update(order.id, OrderStatus.REPLACED, at, f"replaced: {done}")

    def open_orders(self, strategy_id: str | None = None) -> tuple[Order, ...]:
        """Working orders (as adjusted by splits and replaced), in submission order, each
        with what is left to fill as its quantity."""
        if strategy_id is None:
            return self._book.orders()
        return tuple(w.still_working() for w in self._book.of_strategy(strategy_id))

    # -- matching ----------------------------------------------------------

    def drain_updates(self) -> tuple[OrderUpdate, ...]:
        """The updates that would go out with the next bars (``PendingUpdates``): at the
        end of a run, the acceptances of the orders submitted on the last bar."""
        pending, self._pending = self._pending, []
        return tuple(pending)

    def process(self, bars: BarSlice) -> ExecutionReport:
        """Match working orders against the bars of one timestamp."""
        if self._last_processed is not None and bars.timestamp <= self._last_processed:
            raise ExecutionError(
                f"process: bars at {bars.timestamp.isoformat()} are not after the last "
                f"processed bars at {self._last_processed.isoformat()}"
            )
        self._last_processed = bars.timestamp
        self._observe(bars.timestamp, "process")
        pending, self._pending = self._pending, []  # reported now, never again
        if bars.warmup or not len(self._book):
            if pending:
                return ExecutionReport.trusted(
                    {"fills": (), "updates": tuple(pending), "orders": ()}
                )
            return _NOTHING

        timestamp = bars.timestamp
        self._clock.start(timestamp, bars)
        step = _Step(bars, pending)
        column_index = bars.index
        match_order = self._fill_model.match
        participation = self._participation
        prices: dict[str, BarPrices] = {}
        handled = step.handled
        # When every bar opened at once (the usual case), one time to compare with.
        opened_at = bars.opened_at if bars.bars_opened_at is None else None
        # Only orders whose symbol has a bar now; the others wait for their next one.
        for working in self._book.of_symbols(bars, bars.symbols):
            order = working.order
            created_at = order.created_at
            if created_at >= timestamp:
                continue  # decided on these bars (or later): not active yet
            symbol = order.symbol
            bar = prices.get(symbol)
            if bar is None:
                i = column_index(symbol)
                assert i is not None  # of_symbols() keeps the symbols that have a bar
                bar = BarPrices.from_columns(
                    bars.open, bars.high, bars.low, bars.close, i, bars.volume
                )
                prices[symbol] = bar
            if created_at > (opened_at or bars.opened_at_of(symbol)):
                # The symbol's bar began before the decision (an hourly bar that opened at
                # 10:00, after a decision at 10:30 on a 30-minute bar): its open and range
                # are partly before the order existed, so it does not trade on them. Its
                # session still ends on it (DAY), and its close comes after (on close).
                if not working.plain and (not handled or order.id not in handled):
                    self._visit(working, bar, step, late=True)
                continue
            if working.plain:
                match = match_order(order, working.triggered, bar)
                working.triggered = match.triggered
                if match.price is not None:
                    quantity = (
                        working.remaining
                        if participation is None
                        else self._fillable(working, bar, step)
                    )
                    if quantity > 0:
                        self._fill(working, match, bar, quantity, step)
            elif not handled or order.id not in handled:
                self._visit(working, bar, step)
        if step.growing:
            self._grow_exits(step)
        if not step.fills and not step.updates and not step.orders:
            return _NOTHING
        fills, updates = step.fills, step.updates
        if len(fills) > 1:
            # In time order: a market buy filled at the open (stamped then) comes before a
            # limit sell submitted earlier that filled later in the bar (stamped at its
            # close), so the portfolio, the ledger and the round trips see them as they
            # happened. The sort is stable: fills at one time keep submission order.
            fills.sort(key=_time_of)
        if len(updates) > 1:
            updates.sort(key=_time_of)  # likewise (a fill's update, an expiry at the close)
        return ExecutionReport.trusted(
            {
                "fills": tuple(fills),
                "updates": tuple(updates),
                "orders": tuple(step.orders),
            }
        )

    def _visit(
        self, working: WorkingOrder, bar: BarPrices, step: _Step, late: bool = False
    ) -> None:
        """One bar for an order that is not plain: time in force, market-on-open and
        -close, trailing stops, bracket entries and exits. ``late``: the bar opened before
        the order was decided; only its close may fill it (market-on-close), and a DAY
        order's session may end on it."""
        order = working.order
        tif = order.time_in_force
        kind = order.type
        facts: BarSession | None = None
        if tif is DAY or kind is MOO or kind is MOC:
            facts = self._clock.of_bar(order.symbol)
        if self._expired_before(working, facts, step) or not self._may_trade(working, facts):
            return
        if late and kind is not MOC:
            if tif is DAY:
                self._after_bar(working, facts, NO_MATCH, ZERO, step)
            return
        sibling = working.sibling
        if sibling is not None:
            self._visit_pair(working, sibling, bar, step)
            return
        view = order if kind is not TRAILING else self._trail_view(working, bar)
        match = self._fill_model.match(view, working.triggered, bar)
        working.triggered = match.triggered
        if (
            match.price is not None
            and tif is GTD
            and not match.at_open
            and step.timestamp > _expiry(order)
        ):
            match = NO_MATCH  # inside a bar that outlived the order: maybe after expiry
        available = ZERO
        if match.price is not None:
            available = self._fillable(working, bar, step)
            if available > 0 and (tif is not FOK or available >= working.remaining):
                self._fill(working, match, bar, available, step)
        if working.order.id in self._book:  # not filled, nor cancelled by the price guard
            if kind is TRAILING:
                self._ratchet(working, bar)
            self._after_bar(working, facts, match, available, step)

    def _expired_before(self, working: WorkingOrder, facts: BarSession | None, step: _Step) -> bool:
        """Expire, before this bar trades, a DAY order whose session ended without a bar at
        its close and a GTD order that expired before this bar opened."""
        order = working.order
        tif = order.time_in_force
        active = working.active_session
        if tif is DAY and active is not None and facts is not None and facts.date > active:
            why = f"DAY order not filled in its session {active} (which had no bar at its close)"
        elif tif is GTD and step.opened_at_of(order.symbol) >= _expiry(order):
            why = f"GTD order expired at {_expiry(order)}"
        else:
            return False
        self._end(working, OrderStatus.EXPIRED, step, why)
        return True

    def _may_trade(self, working: WorkingOrder, facts: BarSession | None) -> bool:
        """Whether the order trades on this bar: market-on-open (-close) orders only on a
        bar that opens (closes) their session, DAY orders on no post-market bar (their
        session is the next regular one). The first such bar activates the order."""
        kind = working.order.type
        if working.order.time_in_force is DAY:
            if facts is None:
                facts = self._clock.of_bar(working.order.symbol)
            if facts.after_close:
                return False
        if kind is MOO:
            assert facts is not None
            assert working.moo_from is not None
            if not (facts.opens and facts.date >= working.moo_from):
                return False
        elif kind is MOC:
            assert facts is not None
            if not facts.ends:
                return False
        if working.active_session is None:
            if facts is None:
                facts = self._clock.of_bar(working.order.symbol)
            working.active_session = facts.date
        return True

    def _after_bar(
        self,
        working: WorkingOrder,
        facts: BarSession | None,
        match: Match,
        available: Decimal,
        step: _Step,
    ) -> None:
        """The ends of an order's life that this bar decided, if it is still working:
        IOC, FOK, market-on-open and -close after their one bar, DAY after its session's
        closing bar, GTD after a bar that reached its expiry."""
        order = working.order
        tif, kind = order.time_in_force, order.type
        remaining, quantity = working.remaining, order.quantity
        status = OrderStatus.CANCELLED
        if tif is IOC:
            why = f"IOC order: {remaining} of {quantity} not filled on its first bar"
        elif tif is FOK:
            why = (
                f"FOK order: its price was not reached on its first bar (all {remaining})"
                if match.price is None
                else f"FOK order: only {available} of {remaining} within the participation "
                "cap on its first bar"
            )
        elif kind is MOO or kind is MOC:
            what = "open" if kind is MOO else "close"
            why = (
                f"market-on-{what} order: {remaining} of {quantity} not filled at the "
                f"{what} of {working.active_session}"
            )
        elif tif is DAY and facts is not None and facts.ends:
            status = OrderStatus.EXPIRED
            why = f"DAY order not filled in its session {working.active_session}"
        elif tif is GTD and step.timestamp >= _expiry(order):
            status = OrderStatus.EXPIRED
            why = f"GTD order expired at {_expiry(order)}"
        else:
            return
        self._end(working, status, step, why)

    def _visit_pair(
        self, first: WorkingOrder, second: WorkingOrder, bar: BarPrices, step: _Step
    ) -> None:
        """The two exits of a bracket in one bar: at most one of them trades (OCO)."""
        step.handled.add(second.order.id)
        match = self._fill_model.match
        one = match(first.order, first.triggered, bar)
        other = match(second.order, second.triggered, bar)
        first.triggered, second.triggered = one.triggered, other.triggered
        if one.price is None and other.price is None:
            return
        if one.price is not None and other.price is not None:
            if one.at_open != other.at_open:
                # Marketable at the open: certainly first, whatever the rest of the bar did.
                first_wins = one.at_open
            else:
                wanted = Role.STOP_LOSS if self._stop_loss_wins else Role.TAKE_PROFIT
                first_wins = first.role is wanted
        else:
            first_wins = one.price is not None
        winner, won = (first, one) if first_wins else (second, other)
        quantity = self._fillable(winner, bar, step)
        if quantity > 0:
            self._fill(winner, won, bar, quantity, step)

    def _fillable(self, working: WorkingOrder, bar: BarPrices, step: _Step) -> Decimal:
        """How much of the order may trade in this bar: all that is left, or under a
        participation cap what the symbol's volume still allows, in whole lots."""
        remaining = working.remaining
        participation = self._participation
        if participation is None:
            return remaining
        symbol = working.order.symbol
        available = step.available.get(symbol)
        if available is None:
            available = step.available[symbol] = participation * bar.volume
        if remaining <= available:
            return remaining
        lot = working.lot
        return (available / lot).to_integral_value(ROUND_FLOOR) * lot

    def _fill(
        self, working: WorkingOrder, match: Match, bar: BarPrices, quantity: Decimal, step: _Step
    ) -> None:
        order = working.order
        model_price = match.price
        assert model_price is not None
        side = order.side
        price = self._slippage.slipped(model_price, side, quantity, bar)
        if order.limit_price is not None:
            # A limit is a guarantee to the trader: slippage cannot push past it.
            if side is Side.BUY:
                price = min(price, order.limit_price)
            else:
                price = max(price, order.limit_price)
        stamp = step.opened_at_of(order.symbol) if match.at_open else step.timestamp
        if order.sizing_price is not None and self._max_deviation is not None:
            deviation = abs(price - order.sizing_price) / order.sizing_price
            if deviation > self._max_deviation:
                self._end(
                    working,
                    OrderStatus.CANCELLED,
                    step,
                    f"price guard: a fill at {price} is {deviation:.2%} from the sizing price "
                    f"{order.sizing_price} (at most {self._max_deviation:.2%} allowed)",
                    stamp,
                )
                return
        working.filled_quantity += quantity
        working.filled_notional += price * quantity
        working.fills += 1
        commission_model = self._commission
        working.commission_cost += commission_model.fill_cost(quantity, price, stamp)
        total = commission_model.order_total(
            working.commission_cost, working.filled_quantity, working.filled_notional
        )
        commission = total - working.commission_charged
        if commission < 0:
            raise ExecutionError(
                f"commission model {type(commission_model).__name__} lowered order "
                f"{order.id}'s total commission from {working.commission_charged} to {total}; "
                "an order's total must not decrease as it fills"
            )
        working.commission_charged = total
        self._fill_count += 1
        if price is model_price:  # no slippage (the common default): no arithmetic
            slip = slip_cost = ZERO
        else:
            slip = price - model_price if side is Side.BUY else model_price - price
            slip_cost = slip * quantity
        # Valid by construction: the accepted order's fields, a price the fill model took
        # from a validated bar (moved by slippage of under 100%), a commission checked >= 0,
        # the bar's aware time. So the fill is not validated again.
        step.fills.append(
            Fill.trusted(
                {
                    "id": f"F-{self._fill_count:06d}",
                    "order_id": order.id,
                    "strategy_id": order.strategy_id,
                    "symbol": order.symbol,
                    "side": side,
                    "quantity": quantity,
                    "price": price,
                    "commission": commission,
                    "timestamp": stamp,
                    "slippage_per_share": slip,
                    "slippage_cost": slip_cost,
                    "close_lots": order.close_lots,
                }
            )
        )
        if self._participation is not None:
            step.available[order.symbol] -= quantity
        remaining = working.remaining
        if remaining > 0:
            self._book.changed()  # ``open_orders`` shows what is left to fill
        if self._lifecycle:
            status, reason = (
                (
                    OrderStatus.PARTIALLY_FILLED,
                    f"filled {working.filled_quantity} of {order.quantity}; {remaining} working",
                )
                if remaining > 0
                else (OrderStatus.FILLED, f"filled {order.quantity} in {working.fills} fill(s)")
            )
            step.updates.append(_update(order.id, status, stamp, reason))
        if working.plain:  # neither a bracket's entry nor an exit with a sibling
            if remaining <= 0:
                self._book.remove(order.id)
            return
        sibling = working.sibling
        if sibling is not None:
            self._reduce_sibling(working, sibling, quantity, step)
        if remaining <= 0:
            self._remove(working)
        if order.is_bracket:
            self._place_exits(working, quantity, step)

    # -- brackets and trailing stops ------------------------------------------

    def _place_exits(self, entry: WorkingOrder, quantity: Decimal, step: _Step) -> None:
        """Exits for ``quantity`` more of a bracket entry: the working ones grow, or (the
        first fill, or the earlier exits are done) a new stop-loss / take-profit pair."""
        book = self._book
        live = [w for w in entry.exits if w.order.id in book]
        if live:
            # They grow when the bar is done (``_grow_exits``): grown now, an exit matched
            # later in this bar could sell what was bought in it, an order of events the bar
            # cannot tell (like any exit, the new part is active from the next bar).
            step.growing.append((entry, quantity))
            return
        order = entry.order
        exits = []
        for role, price in (
            (Role.STOP_LOSS, order.stop_loss_price),
            (Role.TAKE_PROFIT, order.take_profit_price),
        ):
            if price is None:
                continue
            self._order_count += 1
            child = exit_order(order, role, quantity, f"O-{self._order_count:06d}", step.timestamp)
            working = book.add(child, entry.lot)
            working.role = role
            exits.append(working)
            step.orders.append(child)
            if self._lifecycle:
                step.updates.append(
                    _update(child.id, OrderStatus.ACCEPTED, step.timestamp, f"{role} of {order.id}")
                )
        if len(exits) == 2:
            stop_loss, take_profit = exits
            stop_loss.sibling, take_profit.sibling = take_profit, stop_loss
            stop_loss.classify()
            take_profit.classify()
        entry.exits = tuple(exits)

    def _grow_exits(self, step: _Step) -> None:
        """Exits for what bracket entries filled in this bar while their exits worked: the
        exits still working grow, or (done in this bar) a new pair covers it."""
        book = self._book
        for entry, quantity in step.growing:
            live = [w for w in entry.exits if w.order.id in book]
            if not live:
                self._place_exits(entry, quantity, step)
                continue
            for working in live:
                book.replace(working, resized(working.order, working.order.quantity + quantity))

    def _reduce_sibling(
        self, working: WorkingOrder, sibling: WorkingOrder, quantity: Decimal, step: _Step
    ) -> None:
        """One exit filled ``quantity``: its sibling covers that much less (OCO)."""
        order = working.order
        if sibling.remaining <= quantity:
            self._end(
                sibling,
                OrderStatus.CANCELLED,
                step,
                f"one-cancels-other: {order.id} ({working.role}) filled",
            )
        else:
            self._book.replace(sibling, resized(sibling.order, sibling.order.quantity - quantity))

    def _trail_view(self, working: WorkingOrder, bar: BarPrices) -> Order:
        """The trailing stop as a stop order for this bar. Its best price so far moves with
        this bar's open first (the open is known before anything else in the bar); the
        bar's high or low moves it only after the bar (``_ratchet``), because the bar does
        not say whether that extreme came before or after the price that would trigger
        the stop, so the stop never triggers on the extreme that moved it."""
        order = working.order
        extreme = working.trail_extreme
        open_ = bar.open
        if extreme is None or (open_ > extreme if order.side is Side.SELL else open_ < extreme):
            working.trail_extreme = open_
            working.trail_view = None
        view = working.trail_view
        if view is None:
            assert working.trail_extreme is not None
            view = working.trail_view = as_stop(order, trail_stop(order, working.trail_extreme))
        return view

    @staticmethod
    def _ratchet(working: WorkingOrder, bar: BarPrices) -> None:
        """After the bar: its favourable extreme (a sell trails the high, a buy the low)."""
        extreme = working.trail_extreme
        assert extreme is not None
        if working.order.side is Side.SELL:
            best = bar.high
            moved = best > extreme
        else:
            best = bar.low
            moved = best < extreme
        if moved:
            working.trail_extreme = best
            working.trail_view = None

    # -- endings -----------------------------------------------------------

    def _remove(self, working: WorkingOrder) -> None:
        """Take an order off the book; a bracket exit's sibling stands alone from now."""
        self._book.remove(working.order.id)
        sibling = working.sibling
        if sibling is not None:
            sibling.sibling = None
            working.sibling = None
            sibling.classify()

    def _end(
        self,
        working: WorkingOrder,
        status: OrderStatus,
        step: _Step,
        reason: str,
        at: datetime | None = None,
    ) -> None:
        self._remove(working)
        step.updates.append(_update(working.order.id, status, at or step.timestamp, reason))

    # -- corporate actions -------------------------------------------------

    def apply_action(
        self, action: Split | CashDividend, timestamp: datetime
    ) -> tuple[OrderUpdate, ...]:
        """Adjust (or cancel, per ``on_split``) working orders of a splitting symbol.

        ADJUST: quantity x ratio, every price (limit, stop, bracket exits, sizing price)
        and a trailing amount / ratio (exact ``Decimal``, no tick rounding), so a resting
        $500 limit becomes $125 after a 4-for-1 and does not meet the post-split bars at
        a quarter of its price. Adjusted orders keep their id and report no update;
        ``open_orders`` shows them adjusted. CANCEL: each is cancelled, with an
        update stamped ``timestamp``. Cash dividends change no order.
        """
        self._observe(timestamp, "apply_action")
        if isinstance(action, CashDividend):
            return ()
        affected = self._book.of_symbol(action.symbol)
        if not affected:
            return ()
        if self._config.on_split is SplitPolicy.CANCEL:
            for working in affected:
                self._remove(working)
            return tuple(
                _update(
                    working.order.id,
                    OrderStatus.CANCELLED,
                    timestamp,
                    f"cancelled by the {action.ratio}-for-1 split of {action.symbol} "
                    f"effective {action.ex_date} (on_split=cancel)",
                )
                for working in affected
            )
        ratio = action.ratio
        new, old = split_fraction(ratio)
        cancelled: list[OrderUpdate] = []
        for working in affected:
            adjusted = split_adjusted(working.order, ratio)
            filled = working.filled_quantity * new / old
            # What is left to fill, in whole lots: a holder's fraction of a share is paid
            # in cash, so selling (or buying) a fraction would leave one in the book.
            left = working.remaining * new / old
            whole = (left / working.lot).to_integral_value(rounding=ROUND_DOWN) * working.lot
            if whole <= 0:
                self._remove(working)
                cancelled.append(
                    _update(
                        working.order.id,
                        OrderStatus.CANCELLED,
                        timestamp,
                        f"cancelled by the {ratio}-for-1 split of {action.symbol} effective "
                        f"{action.ex_date}: {left} share(s) left to fill, less than a lot of "
                        f"{working.lot}",
                    )
                )
                continue
            if whole != left:
                adjusted = resized(adjusted, filled + whole)
            self._book.replace(working, adjusted)
            working.filled_quantity = filled
            if working.trail_extreme is not None:
                working.trail_extreme = working.trail_extreme * old / new
            working.trail_view = None
        return tuple(cancelled)

    # -- time --------------------------------------------------------------

    def _check_decision_time(self, at: datetime, call: str) -> None:
        self._observe(at, call)
        if self._last_processed is not None and at < self._last_processed:
            raise ExecutionError(
                f"{call}: decision time {at.isoformat()} is before the last processed bars "
                f"at {self._last_processed.isoformat()}; time cannot run backwards"
            )

    @staticmethod
    def _observe(at: datetime, call: str) -> None:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ExecutionError(f"{call}: time {at.isoformat()} must be timezone-aware")


def _expiry(order: Order) -> datetime:
    expire_at = order.expire_at
    assert expire_at is not None, "a GTD order has expire_at (OrderRequest checks it)"
    return expire_at


def _update(order_id: str, status: OrderStatus, at: datetime, reason: str) -> OrderUpdate:
    """An update of an order the book knew (a non-empty id), at an aware time."""
    return OrderUpdate.trusted(
        {"order_id": order_id, "status": status, "timestamp": at, "reason": reason}
    )
