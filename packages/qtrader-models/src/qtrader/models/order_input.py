"""What a strategy passes to the order helpers, read the way a broker would read it.

Numbers become exact ``Decimal``: a float through ``str`` (its shortest round-trip
text, ``10.3``), never ``Decimal(float)`` (``10.300000000000000710...``). Quantities
are rounded toward zero to the instrument's lot size, so an order never trades more
than asked. What cannot be read is refused with a reason (``OrderRejection``) rather
than raised, so that one bad order does not end a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from pydantic import ValidationError

from qtrader.models.orders import OrderType, Side

ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class OrderRejection:
    """An order, target or signal the strategy context refused before risk saw it.

    The fields are what the strategy asked for, read as far as they could be (a
    quantity or price that is not a number stays as given; a target or signal has no
    side or quantity). ``problem`` says what was wrong; ``reason`` adds the strategy,
    what was asked, the symbol and the bar (``created_at``, the decision time; ``None``
    before any bar). The engine records it in ``orders.csv`` under its ``id``
    (``R-000001``, ...) and as a ``rejected`` update in ``order_updates.csv``.
    """

    id: str
    created_at: datetime | None
    strategy_id: str
    symbol: str
    side: Side | None
    quantity: object
    type: OrderType | None
    limit_price: object
    stop_price: object
    time_in_force: object
    tag: object
    problem: str
    reason: str


class OrderInputError(ValueError):
    """A strategy's request that cannot become an order; the message is the problem."""


def exact_number(name: str, value: object) -> Decimal:
    """``value`` as an exact ``Decimal`` (a float, numpy scalar or text through ``str``);
    ``OrderInputError`` if it is not a number. Infinities and NaN are returned as such."""
    if type(value) is Decimal:
        return value
    if type(value) is int:
        return Decimal(value)
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise OrderInputError(f"{name} must be a number, got {value!r}") from None


def finite_number(name: str, value: object) -> Decimal:
    """``exact_number``, refusing infinities and NaN."""
    number = exact_number(name, value)
    if not number.is_finite():
        raise OrderInputError(f"{name} must be a finite number, got {value}")
    return number


def price_or_none(name: str, value: object) -> Decimal | None:
    """A limit, stop or exit price: ``None``, or a finite positive ``Decimal``."""
    if value is None:
        return None
    price = finite_number(name, value)
    if price <= 0:
        raise OrderInputError(f"{name} must be positive, got {price}")
    return price


def round_to_lot(quantity: Decimal, lot: Decimal) -> Decimal:
    """``quantity`` rounded toward zero to a whole number of ``lot`` (signed quantities
    too: never more than asked, either side)."""
    if lot == ONE:
        return quantity.to_integral_value(ROUND_DOWN)
    return (quantity / lot).to_integral_value(ROUND_DOWN) * lot


def order_quantity(value: object, lot: Decimal) -> Decimal:
    """An order's quantity: positive, finite, rounded toward zero to the lot; an order
    that rounds to nothing is refused."""
    quantity = finite_number("quantity", value)
    if quantity <= 0:
        raise OrderInputError(f"quantity must be positive, got {quantity}")
    rounded = round_to_lot(quantity, lot)
    if not rounded:
        raise OrderInputError(f"quantity {quantity} rounds to 0 at the lot size of {lot}")
    return rounded


def as_recorded(value: object) -> object:
    """A number as an exact ``Decimal`` for the record of a refusal, else as given."""
    if value is None:
        return None
    try:
        return exact_number("", value)
    except OrderInputError:
        return value


def problem_of(error: Exception) -> str:
    """What was wrong, in one line: pydantic's errors as ``field: message; ...``, a
    ``KeyError``'s message without the quotes ``str`` adds."""
    if isinstance(error, ValidationError):
        return "; ".join(
            (
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                if e["loc"]
                else str(e["msg"]).removeprefix("Value error, ")
            )
            for e in error.errors()
        )
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])
    return str(error)
