"""``SimulatedExecutionService``: a deterministic simulated venue for backtests."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from qtrader.execution._book import OrderBook, WorkingOrder
from qtrader.execution.commissions import CommissionModel, build_commission_model
from qtrader.execution.config import ExecutionConfig, SplitPolicy
from qtrader.execution.errors import ExecutionError
from qtrader.execution.fill_models import BarPrices, FillModel, build_fill_model
from qtrader.execution.slippage import SlippageModel, build_slippage_model
from qtrader.models import (
    BarSlice,
    CashDividend,
    ExecutionReport,
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderUpdate,
    Side,
    Split,
    TimeInForce,
)

_REQUEST_FIELDS = tuple(OrderRequest.model_fields)
_NOTHING = ExecutionReport()


class SimulatedExecutionService:
    """Matches working orders against bars; implements ``qtrader.models.ExecutionService``.

    Timing: an order submitted at ``T`` is matched only by a later ``process``
    whose bars are stamped after ``T``, and only against a bar of its own
    symbol; an order whose symbol has no bar at a timestamp just waits. It
    never meets the bar it was decided on.

    Per bar, for each working order in submission order: the fill model picks
    a price inside the bar's range (or none); slippage moves it against the
    trader; a limit or stop-limit order's price is then capped at its limit (a
    limit order never fills worse than its limit, slippage included); the
    commission model charges the increase of the order's total commission.
    Orders fill in full (partial fills are the roadmap's volume model; the
    per-order bookkeeping already supports them).

    Time in force: GTC rests until filled or cancelled. DAY lives for the
    session in which the order becomes active, i.e. the session date of the
    first bar of its symbol after its decision time. Bars are taken to be one
    per session (daily bars), so a DAY order not filled by its first active bar
    expires in that bar's report (``OrderStatus.EXPIRED``, stamped with the bar).

    Warmup slices advance the clock but never trade. Corporate actions are
    applied only through ``apply_action`` (the engine calls it before
    ``process``); ``bars.actions`` is ignored here, so nothing applies twice.

    Ids come from counters: ``O-000001`` for orders, ``F-000001`` for fills.
    Injected ``fill_model``, ``slippage`` or ``commission`` objects replace the
    ones the config describes.
    """

    def __init__(
        self,
        config: ExecutionConfig | None = None,
        *,
        fill_model: FillModel | None = None,
        slippage: SlippageModel | None = None,
        commission: CommissionModel | None = None,
    ) -> None:
        self._config = config if config is not None else ExecutionConfig()
        self._fill_model = fill_model or build_fill_model(self._config.fill)
        self._slippage = slippage or build_slippage_model(self._config.slippage)
        self._commission = commission or build_commission_model(self._config.commission)
        self._book = OrderBook()
        self._order_count = 0
        self._fill_count = 0
        self._last_processed: datetime | None = None
        # The latest time the service has been told of (submit, cancel or
        # bars); stamps updates of calls that carry no time (apply_action).

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
        self._observe(at, "submit")
        if self._last_processed is not None and at < self._last_processed:
            raise ExecutionError(
                f"submit: decision time {at.isoformat()} is before the last processed bars "
                f"at {self._last_processed.isoformat()}; time cannot run backwards"
            )
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
        order = Order.trusted(values)
        self._book.add(order)
        return order

    def cancel(self, order_id: str, at: datetime) -> OrderUpdate | None:
        """Cancel a working order; ``None`` if it is unknown or already finished."""
        self._observe(at, "cancel")
        if self._book.remove(order_id) is None:
            return None
        return _update(order_id, OrderStatus.CANCELLED, at, "cancelled on request")

    def open_orders(self, strategy_id: str | None = None) -> tuple[Order, ...]:
        """Working orders (as adjusted by splits), in submission order."""
        if strategy_id is None:
            return self._book.orders()
        return tuple(w.order for w in self._book.of_strategy(strategy_id))

    # -- matching ----------------------------------------------------------

    def process(self, bars: BarSlice) -> ExecutionReport:
        """Match working orders against the bars of one timestamp."""
        if self._last_processed is not None and bars.timestamp <= self._last_processed:
            raise ExecutionError(
                f"process: bars at {bars.timestamp.isoformat()} are not after the last "
                f"processed bars at {self._last_processed.isoformat()}"
            )
        self._last_processed = bars.timestamp
        self._observe(bars.timestamp, "process")
        if bars.warmup or not len(self._book):
            return _NOTHING

        timestamp = bars.timestamp
        session = timestamp.date()
        column_index = bars.index
        match_order = self._fill_model.match
        book = self._book
        prices: dict[str, BarPrices] = {}
        fills: list[Fill] = []
        updates: list[OrderUpdate] = []
        # Only orders whose symbol has a bar now; the others wait for their next one.
        for working in book.of_symbols(bars):
            order = working.order
            if order.created_at >= timestamp:
                continue  # decided on these bars (or later): not active yet
            symbol = order.symbol
            bar = prices.get(symbol)
            if bar is None:
                i = column_index(symbol)
                assert i is not None  # of_symbols() keeps the symbols that have a bar
                bar = BarPrices.from_columns(bars.open, bars.high, bars.low, bars.close, i)
                prices[symbol] = bar
            if working.active_session is None:
                working.active_session = session

            match = match_order(order, working.triggered, bar)
            working.triggered = match.triggered
            if match.price is not None:
                stamp = bars.opened_at if match.at_open else timestamp
                fills.append(self._fill(working, match.price, stamp))
                if working.remaining <= 0:
                    book.remove(order.id)
                    continue
            if order.time_in_force is TimeInForce.DAY:
                # One bar per session: the active session ends with this bar.
                book.remove(order.id)
                updates.append(
                    _update(
                        order.id,
                        OrderStatus.EXPIRED,
                        timestamp,
                        f"DAY order not filled in its session {working.active_session}",
                    )
                )
        if not fills and not updates:
            return _NOTHING
        return ExecutionReport.trusted({"fills": tuple(fills), "updates": tuple(updates)})

    def _fill(self, working: WorkingOrder, model_price: Decimal, at: datetime) -> Fill:
        order = working.order
        quantity = working.remaining
        price = self._slippage.slipped(model_price, order.side, quantity)
        if order.limit_price is not None:
            # A limit is a guarantee to the trader: slippage cannot push past it.
            if order.side is Side.BUY:
                price = min(price, order.limit_price)
            else:
                price = max(price, order.limit_price)
        working.filled_quantity += quantity
        working.filled_notional += price * quantity
        total = self._commission.order_total(working.filled_quantity, working.filled_notional)
        commission = total - working.commission_charged
        if commission < 0:
            raise ExecutionError(
                f"commission model {type(self._commission).__name__} lowered order "
                f"{order.id}'s total commission from {working.commission_charged} to {total}; "
                "an order's total must not decrease as it fills"
            )
        working.commission_charged = total
        self._fill_count += 1
        # Valid by construction: the accepted order's fields, a price the fill model took
        # from a validated bar (moved by slippage of under 100%), a commission checked >= 0,
        # the bar's aware time. So the fill is not validated again.
        return Fill.trusted(
            {
                "id": f"F-{self._fill_count:06d}",
                "order_id": order.id,
                "strategy_id": order.strategy_id,
                "symbol": order.symbol,
                "side": order.side,
                "quantity": quantity,
                "price": price,
                "commission": commission,
                "timestamp": at,
            }
        )

    # -- corporate actions -------------------------------------------------

    def apply_action(
        self, action: Split | CashDividend, timestamp: datetime
    ) -> tuple[OrderUpdate, ...]:
        """Adjust (or cancel, per ``on_split``) working orders of a splitting symbol.

        ADJUST: quantity x ratio, limit and stop prices / ratio (exact
        ``Decimal``, no tick rounding), so a resting $500 limit becomes $125
        after a 4-for-1 and does not meet the post-split bars at a quarter of
        its price. Adjusted orders keep their id and report no update;
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
                self._book.remove(working.order.id)
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
        for working in affected:
            self._book.replace(working, _split_adjusted(working.order, action.ratio))
            working.filled_quantity *= action.ratio
        return ()

    # -- time --------------------------------------------------------------

    @staticmethod
    def _observe(at: datetime, call: str) -> None:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ExecutionError(f"{call}: time {at.isoformat()} must be timezone-aware")


def _update(order_id: str, status: OrderStatus, at: datetime, reason: str) -> OrderUpdate:
    """An update of an order the book knew (a non-empty id), at an aware time."""
    return OrderUpdate.trusted(
        {"order_id": order_id, "status": status, "timestamp": at, "reason": reason}
    )


def _split_adjusted(order: Order, ratio: Decimal) -> Order:
    """The same order in post-split units: ratio new shares per old share."""
    return Order.model_validate(
        {
            **order.model_dump(),
            "quantity": order.quantity * ratio,
            "limit_price": None if order.limit_price is None else order.limit_price / ratio,
            "stop_price": None if order.stop_price is None else order.stop_price / ratio,
        }
    )
