"""Order contracts: what strategies ask for, what a venue accepts, and what fills."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, Field, model_validator

from qtrader.models._base import FrozenModel


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


class OrderStatus(StrEnum):
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REJECTED = "rejected"


class OrderRequest(FrozenModel):
    """An order a strategy wants, before risk has looked at it and before it has an id."""

    strategy_id: str = Field(min_length=1)
    symbol: str = Field(min_length=1)
    side: Side
    quantity: Decimal = Field(gt=0)
    type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = Field(default=None, gt=0)
    stop_price: Decimal | None = Field(default=None, gt=0)
    time_in_force: TimeInForce = TimeInForce.GTC
    tag: str | None = None

    @model_validator(mode="after")
    def _check_prices(self) -> OrderRequest:
        needs_limit = self.type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_stop = self.type in (OrderType.STOP, OrderType.STOP_LIMIT)
        if needs_limit != (self.limit_price is not None):
            raise ValueError(
                f"a {self.type.value} order {'needs' if needs_limit else 'takes no'} limit_price"
            )
        if needs_stop != (self.stop_price is not None):
            raise ValueError(
                f"a {self.type.value} order {'needs' if needs_stop else 'takes no'} stop_price"
            )
        return self

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity * self.side.sign


class Order(OrderRequest):
    """An order accepted by an execution service, which assigned its ``id``.

    ``created_at`` is the decision time; the order is active from the next
    timestamp on, never against the bar it was decided on.
    """

    id: str = Field(min_length=1)
    created_at: AwareDatetime


class Fill(FrozenModel):
    """A (possibly partial) execution of an order. Money is exact ``Decimal``."""

    id: str = Field(min_length=1)
    order_id: str = Field(min_length=1)
    strategy_id: str = Field(min_length=1)
    symbol: str = Field(min_length=1)
    side: Side
    quantity: Decimal = Field(gt=0)
    price: Decimal = Field(gt=0)
    commission: Decimal = Field(default=Decimal(0), ge=0)
    timestamp: AwareDatetime

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity * self.side.sign

    @property
    def cash_flow(self) -> Decimal:
        """Cash change of the account: a buy pays price x quantity plus commission."""
        return -self.signed_quantity * self.price - self.commission


class OrderUpdate(FrozenModel):
    """A change of an order's status other than a fill (cancel, expiry, rejection)."""

    order_id: str = Field(min_length=1)
    status: OrderStatus
    timestamp: AwareDatetime
    reason: str = ""


class ExecutionReport(FrozenModel):
    """What an execution service reports for one timestamp."""

    fills: tuple[Fill, ...] = ()
    updates: tuple[OrderUpdate, ...] = ()
