"""Division that keeps the ledger exact."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, Inexact, localcontext

QUOTIENT_QUANTUM = Decimal("1e-10")
"""Where a non-terminating quotient is rounded (half-even)."""


def divide(numerator: Decimal, denominator: Decimal) -> Decimal:
    """``numerator / denominator``, exact when it terminates, else rounded to 1e-10.

    Divisions are the only inexact step in the book (a price after a 3-for-1
    split, a pro-rata cost share of such a lot). Left at 28 significant digits,
    such a quotient would make every later sum round at a different place, and
    ``cash == initial + sum(cash flows)`` or "strategies add up to the total"
    would fail in the 28th digit. Rounded to a fixed quantum instead, it is
    one exact number that every later sum and product carries exactly.
    """
    with localcontext() as context:
        context.clear_flags()
        quotient = numerator / denominator
        if context.flags[Inexact]:
            return quotient.quantize(QUOTIENT_QUANTUM, rounding=ROUND_HALF_EVEN)
    return quotient
