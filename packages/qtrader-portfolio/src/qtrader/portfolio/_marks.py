"""The market value of the open books at their float closes, exactly, a bar at a time.

Equity is cash plus each open book's quantity times its symbol's last close, in exact
``Decimal``: ``Decimal(repr(close))`` (the close as the file wrote it) times the quantity,
added book by book. With hundreds of symbols held that is most of the cost of a bar (a
``repr``, a ``Decimal`` and two operations per book). ``value_at_closes`` gives the very
same ``Decimal`` (value and exponent, so it prints the same) with integer arithmetic over
all books at once, in the usual case: whole quantities and closes of at most six decimals.
Anything else returns ``None``, and the caller adds book by book as before.

Why it is the same number. For a close ``c`` in ``[1e-4, 1e9)`` let ``m = rint(c * 1e6)``.
If ``m / 1e6 == c`` (one correctly rounded division), the decimal ``m * 10**-6`` rounds to
``c``. A float below ``2**30`` is less than ``10**-6`` from its neighbours, so no other
multiple of ``10**-6`` rounds to it; ``repr(c)``, the shortest decimal that rounds to
``c``, has at most six decimals (one exists), so it is that multiple: ``Decimal(repr(c))``
is ``m * 10**-6``, written with ``6 - z`` decimals (``z`` the trailing zeros of ``m``, at
most 6) and at least one (``repr`` writes ``100.0``). A product ``q * price`` with ``q`` a
whole ``Decimal`` of exponent 0 has the price's exponent, and an exact sum has the least
exponent of its terms (the first, ``ZERO``, has 0). The sum fits in 19 digits (checked),
far below the context's 28, so no step of the book-by-book sum rounds either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Protocol

import numpy as np

_MICROS = 1_000_000
_LIMIT = 2.0**62
"""Bound on the sum of |quantity x close in millionths|: int64 arithmetic stays exact."""
_MAX_WHOLE = 2**53
BULK_FROM = 16
"""Fewer open books are added one by one: numpy's fixed cost (about 11 us) is more than
theirs (about 0.6 us a book); both give the same number."""


class HeldBook(Protocol):
    @property
    def symbol(self) -> str: ...

    @property
    def whole(self) -> int: ...


def whole_quantity(quantity: Decimal) -> int:
    """``quantity`` as an int when it is a whole number written without exponent
    (``Decimal("100")``, not ``Decimal("100.0")`` or ``Decimal("1E+2")``) and below
    2**53 in size; else 0 (an open book never holds 0, so 0 means "add it as a Decimal")."""
    text = str(quantity)  # digits alone exactly when the exponent is 0 (and it is finite)
    if not text.lstrip("-").isdigit():
        return 0
    whole = int(text)
    return whole if -_MAX_WHOLE < whole < _MAX_WHOLE else 0


def value_at_closes(books: Sequence[HeldBook], closes: Mapping[str, float]) -> Decimal | None:
    """``ZERO + q1 * Decimal(repr(c1)) + q2 * ...`` over ``books`` (each book's ``whole``
    quantity at its symbol's float close in ``closes``), or ``None`` unless every book has
    a whole quantity and a close this module can take (see above), and there are at least
    ``BULK_FROM`` books."""
    if len(books) < BULK_FROM:
        return None
    get = closes.get
    close = np.array([get(book.symbol, np.nan) for book in books], dtype=np.float64)
    wholes = np.array([book.whole for book in books], dtype=np.int64)
    micros = np.rint(close * _MICROS)
    # NaN (no float close) fails every comparison, and makes min and max NaN.
    if not (
        wholes.all()
        and close.min() >= 1e-4
        and close.max() < 1e9
        and bool((micros / _MICROS == close).all())
        and float(np.abs(wholes) @ micros) < _LIMIT
    ):
        return None
    whole_micros = micros.astype(np.int64)
    total = int(wholes @ whole_micros)
    # The least trailing zeros of the closes' millionths are those of their gcd.
    common = int(np.gcd.reduce(whole_micros))
    zeros = 0
    while zeros < 6 and common % 10 == 0:
        common //= 10
        zeros += 1
    exponent = -max(1, 6 - zeros)
    return Decimal(total // 10 ** (exponent + 6)).scaleb(exponent)
