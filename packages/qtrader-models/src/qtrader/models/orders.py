"""Order contracts: what strategies ask for, what a venue accepts, and what fills."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, Field, model_validator

from qtrader.models._base import FrozenModel

ZERO = Decimal(0)


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: signed quantity = sign x quantity."""
        return 1 if self is Side.BUY else -1


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"
    """A stop that follows the market at ``trail_amount`` (price units) or ``trail_percent``
    behind the best price since the order became active; it never moves back."""
    MARKET_ON_OPEN = "market_on_open"
    """Fills at the open of the first session that opens after the decision."""
    MARKET_ON_CLOSE = "market_on_close"
    """Fills at the close of the first session that closes after the decision (never at
    the close of the bar that decided it)."""

    @staticmethod
    def for_prices(limit_price: Decimal | None, stop_price: Decimal | None) -> OrderType:
        """The type an order has given the prices it names: none is a market order."""
        if limit_price is not None:
            return OrderType.LIMIT if stop_price is None else OrderType.STOP_LIMIT
        return OrderType.MARKET if stop_price is None else OrderType.STOP


class TimeInForce(StrEnum):
    DAY = "day"
    """Good for the session in which the order becomes active (not the submit session)."""
    GTC = "gtc"
    """Good until cancelled."""
    GTD = "gtd"
    """Good until ``expire_at``: it trades only in what of a bar lies before that time."""
    IOC = "ioc"
    """Immediate or cancel: what does not fill on the bar where the order becomes active
    is cancelled."""
    FOK = "fok"
    """Fill or kill: fills in full on the bar where the order becomes active, or not at all."""


class OrderStatus(StrEnum):
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    REPLACED = "replaced"
    """A working order's quantity or prices were modified (it keeps its id)."""


_PRICED_TYPES = {
    # type: (needs limit_price, needs stop_price)
    OrderType.MARKET: (False, False),
    OrderType.LIMIT: (True, False),
    OrderType.STOP: (False, True),
    OrderType.STOP_LIMIT: (True, True),
    OrderType.TRAILING_STOP: (False, False),
    OrderType.MARKET_ON_OPEN: (False, False),
    OrderType.MARKET_ON_CLOSE: (False, False),
}


def _check_lot_ids(lot_ids: tuple[str, ...]) -> None:
    """Lot ids are non-empty and named once."""
    if any(not lot_id for lot_id in lot_ids):
        raise ValueError(f"close_lots: a lot id must not be empty, got {list(lot_ids)}")
    if len(set(lot_ids)) != len(lot_ids):
        raise ValueError(f"close_lots: a lot is named twice in {list(lot_ids)}")


class OrderRequest(FrozenModel):
    """An order a strategy wants, before risk has looked at it and before it has an id.

    Beyond the plain types: a trailing stop names ``trail_amount`` or ``trail_percent``
    (percent points, 5 = 5%); GTD names ``expire_at``. ``stop_loss_price`` and
    ``take_profit_price`` make the order the entry of a bracket: once it fills, the venue
    places the exits (a stop and a limit on the other side, one cancelling the other).
    ``sizing_price`` is the price the order was sized at, for the venue's fill-price guard.
    """

    strategy_id: str = Field(min_length=1)
    symbol: str = Field(min_length=1)
    side: Side
    quantity: Decimal = Field(gt=0)
    type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = Field(default=None, gt=0)
    stop_price: Decimal | None = Field(default=None, gt=0)
    time_in_force: TimeInForce = TimeInForce.GTC
    tag: str | None = None
    trail_amount: Decimal | None = Field(default=None, gt=0)
    """Trailing stop: distance in price units behind the best price."""
    trail_percent: Decimal | None = Field(default=None, gt=0, lt=100)
    """Trailing stop: distance in percent points (5 = 5%) of the best price."""
    expire_at: AwareDatetime | None = None
    """GTD: the order does not trade after this time."""
    stop_loss_price: Decimal | None = Field(default=None, gt=0)
    """Bracket: the stop price of the exit placed once this order fills."""
    take_profit_price: Decimal | None = Field(default=None, gt=0)
    """Bracket: the limit price of the exit placed once this order fills."""
    sizing_price: Decimal | None = Field(default=None, gt=0)
    """The price the quantity was sized at (e.g. the last close); a venue with a price
    guard cancels a fill too far from it."""
    close_lots: tuple[str, ...] = ()
    """Specific-lot matching: the ids (``Lot.lot_id``, the opening fill's id) of the lots
    of this strategy and symbol that the order's fills close first, in this order; the
    rest close in the portfolio's ``lot_matching`` order. Only an order that reduces a
    position closes lots; a lot no longer open when a fill comes is passed over."""

    @model_validator(mode="after")
    def _check_prices(self) -> OrderRequest:
        if self.close_lots:
            _check_lot_ids(self.close_lots)
        needs_limit, needs_stop = _PRICED_TYPES[self.type]
        if needs_limit != (self.limit_price is not None):
            raise ValueError(
                f"a {self.type.value} order {'needs' if needs_limit else 'takes no'} limit_price"
            )
        if needs_stop != (self.stop_price is not None):
            raise ValueError(
                f"a {self.type.value} order {'needs' if needs_stop else 'takes no'} stop_price"
            )
        trails = (self.trail_amount is not None) + (self.trail_percent is not None)
        if self.type is OrderType.TRAILING_STOP:
            if trails != 1:
                raise ValueError(
                    "a trailing_stop order needs exactly one of trail_amount and trail_percent"
                )
        elif trails:
            raise ValueError(f"a {self.type.value} order takes no trail_amount or trail_percent")
        if (self.time_in_force is TimeInForce.GTD) != (self.expire_at is not None):
            raise ValueError(
                "a gtd order needs expire_at"
                if self.expire_at is None
                else f"a {self.time_in_force.value} order takes no expire_at (only gtd does)"
            )
        if self.stop_loss_price is not None or self.take_profit_price is not None:
            self._check_bracket()
        return self

    def _check_bracket(self) -> None:
        """Exits on the right side: for a buy, stop-loss < entry price < take-profit."""
        below, above = self.stop_loss_price, self.take_profit_price
        if self.side is Side.SELL:
            below, above = above, below
        names = {
            "stop_loss_price": self.stop_loss_price,
            "take_profit_price": self.take_profit_price,
        }
        entry = self.limit_price if self.limit_price is not None else self.stop_price
        if below is not None and above is not None and below >= above:
            raise ValueError(
                f"a {self.side.value} bracket needs stop_loss_price "
                f"{'below' if self.side is Side.BUY else 'above'} take_profit_price, got "
                f"{', '.join(f'{k}={v}' for k, v in names.items())}"
            )
        if entry is not None and (
            (below is not None and below >= entry) or (above is not None and above <= entry)
        ):
            raise ValueError(
                f"a {self.side.value} bracket needs its exits on either side of its entry "
                f"price {entry}, got {', '.join(f'{k}={v}' for k, v in names.items() if v)}"
            )

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity * self.side.sign

    @property
    def is_bracket(self) -> bool:
        """Whether the venue places exits once this order fills."""
        return self.stop_loss_price is not None or self.take_profit_price is not None


class Order(OrderRequest):
    """An order accepted by an execution service, which assigned its ``id``.

    ``created_at`` is the decision time; the order is active from the next
    timestamp on, never against the bar it was decided on. ``parent_id`` is the
    entry order of a bracket exit the venue placed, ``None`` for an order asked for.
    """

    id: str = Field(min_length=1)
    created_at: AwareDatetime
    parent_id: str | None = None


class ReplaceRequest(FrozenModel):
    """A strategy's request to modify a working order (cancel/replace; it keeps its id).

    ``None`` leaves a field as it is. ``quantity`` is what is left to fill after the
    change, as ``open_orders`` shows it (what has filled stays filled). The values are
    checked by the venue, which refuses an impossible change with a reason rather than
    raising, like a broker.
    """

    strategy_id: str = Field(min_length=1)
    order_id: str = Field(min_length=1)
    quantity: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None

    def changes(self) -> dict[str, Decimal]:
        """The fields this request sets, by name."""
        return {
            name: value
            for name, value in (
                ("quantity", self.quantity),
                ("limit_price", self.limit_price),
                ("stop_price", self.stop_price),
            )
            if value is not None
        }


class Fill(FrozenModel):
    """A (possibly partial) execution of an order. Money is exact ``Decimal``.

    ``slippage_per_share`` is how much worse than the fill model's price the trader got
    (after any cap at a limit), positive for a cost; ``slippage_cost`` is that times the
    quantity, in money. Both are already in ``price``: they explain it, not add to it.
    """

    id: str = Field(min_length=1)
    order_id: str = Field(min_length=1)
    strategy_id: str = Field(min_length=1)
    symbol: str = Field(min_length=1)
    side: Side
    quantity: Decimal = Field(gt=0)
    price: Decimal = Field(gt=0)
    commission: Decimal = Field(default=ZERO, ge=0)
    timestamp: AwareDatetime
    slippage_per_share: Decimal = ZERO
    slippage_cost: Decimal = ZERO
    close_lots: tuple[str, ...] = ()
    """The lots the fill's order named to close first (``OrderRequest.close_lots``)."""

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity * self.side.sign

    @property
    def cash_flow(self) -> Decimal:
        """Cash change of the account: a buy pays price x quantity plus commission."""
        return -self.signed_quantity * self.price - self.commission


class OrderUpdate(FrozenModel):
    """A change of an order's status other than a fill (cancel, expiry, rejection,
    replacement; and, when a venue reports its whole life cycle, acceptance and fills)."""

    order_id: str = Field(min_length=1)
    status: OrderStatus
    timestamp: AwareDatetime
    reason: str = ""


class ExecutionReport(FrozenModel):
    """What an execution service reports for one timestamp.

    ``orders`` are orders the venue placed by itself (the exits of a bracket whose
    entry filled), to be recorded like the ones it accepted from ``submit``.
    """

    fills: tuple[Fill, ...] = ()
    updates: tuple[OrderUpdate, ...] = ()
    orders: tuple[Order, ...] = ()
