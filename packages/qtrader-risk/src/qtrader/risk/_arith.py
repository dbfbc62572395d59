"""Decimal helpers shared by sizing and limits."""

from __future__ import annotations

from decimal import Decimal

ZERO = Decimal(0)
ONE = Decimal(1)

LOT_SIZE = ONE
"""The lot of a symbol the service was given no lot size for (whole shares)."""

SHOWN = Decimal("0.0001")
"""Fractions and odd quantities are shown in reasons to four decimals (figures stay exact)."""


def lots_within(amount: Decimal, unit_price: Decimal, lot: Decimal = LOT_SIZE) -> Decimal:
    """The largest whole number of lots whose value at ``unit_price`` is at most ``amount``.

    ``//`` is Decimal's exact integer division (the integer part of the true
    quotient), so the result never rounds up past ``amount``, as ``amount /
    unit_price`` could at the last digit. Never below zero.
    """
    if amount <= ZERO:
        return ZERO
    return (amount // (unit_price * lot)) * lot


def floor_lots(quantity: Decimal, lot: Decimal = LOT_SIZE) -> Decimal:
    """``quantity`` (>= 0) rounded down to a whole number of ``lot``; never below zero."""
    if quantity <= ZERO:
        return ZERO
    return (quantity // lot) * lot


def fmt(value: Decimal) -> str:
    """Plain notation for reasons: ``15000`` not ``1.5E+4``, ``0.05`` not ``5E-2``."""
    if value == ZERO:
        return "0"
    return format(value.normalize(), "f")


def fmt_short(value: Decimal) -> str:
    """``fmt`` of ``value`` to four decimals, for computed ratios (``0.2308`` not 28 digits)."""
    return fmt(value.quantize(SHOWN)) if value.adjusted() < 24 else fmt(value)


def usable_price(price: Decimal | None) -> bool:
    """A price that can value an order: known, finite and positive."""
    return price is not None and price.is_finite() and price > ZERO
