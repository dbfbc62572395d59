"""Decimal helpers shared by sizing and limits."""

from __future__ import annotations

from decimal import Decimal

ZERO = Decimal(0)

LOT_SIZE = Decimal(1)
"""Quantity step of every instrument in this foundation (whole shares).

Per-instrument lot sizes (``Instrument.lot_size``) slot in here once the
service is handed instruments.
"""


def lots_within(amount: Decimal, unit_price: Decimal, lot: Decimal = LOT_SIZE) -> Decimal:
    """The largest whole number of lots whose value at ``unit_price`` is at most ``amount``.

    ``//`` is Decimal's exact integer division (the integer part of the true
    quotient), so the result never rounds up past ``amount``, as ``amount /
    unit_price`` could at the last digit. Never below zero.
    """
    if amount <= ZERO:
        return ZERO
    return (amount // (unit_price * lot)) * lot


def fmt(value: Decimal) -> str:
    """Plain notation for reasons: ``15000`` not ``1.5E+4``, ``0.05`` not ``5E-2``."""
    if value == ZERO:
        return "0"
    return format(value.normalize(), "f")


def usable_price(price: Decimal | None) -> bool:
    """A price that can value an order: known, finite and positive."""
    return price is not None and price.is_finite() and price > ZERO
