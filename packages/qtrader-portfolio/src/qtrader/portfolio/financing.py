"""The arithmetic of financing (borrow fees, margin interest) and of regulatory fees.

**When financing accrues.** The engine calls ``mark`` once per bar slice, and before it
the corporate actions and fills of that slice; the service accrues at the first of these
calls whose timestamp falls on a later date than the last one it saw (the session date:
the timestamp's date in its own zone, the exchange's for the built-in feeds). That call
finds the book exactly as it stood overnight (nothing of the new session is booked yet,
the marks are the previous close), and it is charged for the calendar days elapsed:
Friday's close to Monday's first bar is 3 days, as brokers charge weekends. A short
opened and covered within one session pays nothing; one held over 30 nights pays 30
days. Nothing accrues before the first call, nor while time does not advance.

**What accrues.** For each (strategy, symbol) short overnight: its market value at the
previous close (at cost if it was never marked) x the symbol's annual borrow rate x days
/ ``day_count``. For the account, when cash is negative overnight: that negative balance
x the margin rate x days / ``day_count``. The balance is the cash the ledger holds, so
interest charged on earlier nights is part of it, as it is at a broker once posted; the
interest is computed on that balance, never on the interest alone. Margin interest is
posted before the night's borrow fees, so the fees of the same night are not in its base.

**Rounding.** Each book (and the account, for margin interest) keeps the exact sum of
its accruals, ``sum(base x rate x days)``; a charge is the increase of
``round_half_even(that sum / day_count, 0.01)``. So every entry is whole cents, and what
has been charged is always within half a cent of the exact interest: a short of 5,000.00
at 3% / 360 for 30 nights pays exactly 12.50 (not 30 x 0.42 = 12.60). A night whose
charge rounds to 0.00 still gets its (zero) entry: the ledger holds every accrual, so a
replay re-accrues the same sums. The division is carried to 60 digits, far beyond where
a cent could turn.

**Regulatory fees** (``RegulatoryFeesConfig``) are charged per sale fill and rounded up
to the cent, as brokers pass them on.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal, localcontext

from qtrader.portfolio.config import RegulatoryFeesConfig

CENT = Decimal("0.01")
ZERO = Decimal(0)
PRECISION = 60
"""Digits of the accrual arithmetic (products and sums of money x rate x days)."""


def accrue(
    accrued: Decimal, base: Decimal, rate: Decimal, days: int, day_count: int
) -> tuple[Decimal, Decimal]:
    """Add ``base x rate x days`` to the exact running accrual ``accrued``; return the new
    accrual and what it comes to in cents (``accrual / day_count``, half-even)."""
    with localcontext(prec=PRECISION):
        accrued += base * rate * days
        return accrued, (accrued / day_count).quantize(CENT, rounding=ROUND_HALF_EVEN)


def up_to_cent(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_CEILING)


class RegulatoryFees:
    """The fees of one sale under a ``RegulatoryFeesConfig``."""

    __slots__ = ("_dates", "_rates", "taf_max", "taf_per_share")

    def __init__(self, config: RegulatoryFeesConfig) -> None:
        schedule = config.sec_schedule()
        self._dates = [day for day, _ in schedule]
        self._rates = [rate for _, rate in schedule]
        self.taf_per_share = config.finra_taf_per_share
        self.taf_max = config.finra_taf_max

    def sec_rate(self, day: date) -> Decimal | None:
        """The SEC fee per dollar of sales in effect on ``day``; ``None`` before the first
        effective date of the schedule."""
        i = bisect_right(self._dates, day)
        return None if i == 0 else self._rates[i - 1]

    def first_date(self) -> date:
        return self._dates[0]

    @staticmethod
    def sec_fee(shares: Decimal, price: Decimal, rate: Decimal) -> Decimal:
        """Proceeds x rate, rounded up to the cent."""
        return up_to_cent(shares * price * rate)

    def taf(self, shares: Decimal) -> Decimal:
        """Shares x the rate, rounded up to the cent, at most the cap per trade."""
        return min(up_to_cent(shares * self.taf_per_share), self.taf_max)
