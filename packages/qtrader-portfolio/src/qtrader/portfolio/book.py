"""The lots one strategy holds in one symbol, and the arithmetic that changes them."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from qtrader.models import ClosedLot, split_fraction
from qtrader.portfolio._arith import divide
from qtrader.portfolio._marks import whole_quantity
from qtrader.portfolio.lots import LotMatcher, OpenLot

ZERO = Decimal(0)


def _share(total: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """``total x part / whole``: the pro-rata share of ``part`` out of ``whole``."""
    if part == whole:
        return total
    return divide(total * part, whole)


class PositionBook:
    """Open lots and running figures of one (strategy, symbol).

    Invariant: every open lot has the sign of ``quantity`` (a trade first closes
    lots of the opposite side, and only its remainder opens a new lot).
    The figures are gross running totals since the start; the service derives
    everything else (net P&L, unrealized P&L) from them and the marks.
    """

    __slots__ = (
        "borrow_accrued",
        "borrow_fees",
        "cash_flow",
        "commissions",
        "dividends",
        "dividends_paid",
        "dividends_received",
        "fees",
        "lots",
        "quantity",
        "rank",
        "realized",
        "strategy_id",
        "symbol",
        "whole",
    )

    def __init__(self, strategy_id: str, symbol: str, rank: tuple[int, int] = (0, 0)) -> None:
        self.strategy_id = strategy_id
        self.symbol = symbol
        # Where the owning service lists this book: (symbol's place, strategy's place).
        self.rank = rank
        self.lots: list[OpenLot] = []
        self.quantity = ZERO
        # ``quantity`` as an int for the exact bulk valuation (``_marks``), 0 when it cannot
        # be: set wherever ``quantity`` changes.
        self.whole = 0
        self.realized = ZERO
        self.commissions = ZERO
        self.dividends = ZERO  # received minus paid
        self.dividends_received = ZERO
        self.dividends_paid = ZERO  # by a short, > 0
        self.fees = ZERO  # regulatory fees on sales
        self.borrow_fees = ZERO  # charged, whole cents
        self.borrow_accrued = ZERO  # the exact sum of short value x rate x days
        self.cash_flow = ZERO

    @property
    def cost(self) -> Decimal:
        """Signed cost basis of the open lots."""
        return sum((lot.cost for lot in self.lots), start=ZERO)

    def trade(
        self,
        quantity: Decimal,
        price: Decimal,
        commission: Decimal,
        fill_id: str,
        at: datetime,
        sequence: int,
        matcher: LotMatcher,
    ) -> tuple[ClosedLot, ...]:
        """Apply a fill of signed ``quantity``: close opposite lots, open the remainder.

        The fill's commission is split pro rata by quantity between the closing
        and the opening part (for trade-level reporting; the totals are exact).
        """
        closed: tuple[ClosedLot, ...] = ()
        remainder = quantity
        if self.quantity != 0 and (self.quantity > 0) != (quantity > 0):
            to_close = min(abs(quantity), abs(self.quantity))
            closing_commission = _share(commission, to_close, abs(quantity))
            lot_side = to_close if self.quantity > 0 else -to_close
            closed = self._close(lot_side, price, closing_commission, matcher)
            remainder = quantity + lot_side
            commission -= closing_commission
        if remainder != 0:
            self.lots.append(
                OpenLot(
                    strategy_id=self.strategy_id,
                    symbol=self.symbol,
                    quantity=remainder,
                    cost=remainder * price,
                    commission=commission,
                    opened_at=at,
                    fill_id=fill_id,
                    sequence=sequence,
                )
            )
        self.quantity += quantity
        self.whole = whole_quantity(self.quantity)
        return closed

    def remove(
        self, quantity: Decimal, price: Decimal, matcher: LotMatcher
    ) -> tuple[ClosedLot, ...]:
        """Close ``quantity`` (signed like the lots) at ``price`` with no commission.

        Used for cash in lieu of a fractional share: it is a disposal of that
        fraction, so it realizes P&L like a sale.
        """
        closed = self._close(quantity, price, ZERO, matcher)
        self.quantity -= quantity
        self.whole = whole_quantity(self.quantity)
        return closed

    def split(self, ratio: Decimal) -> Decimal:
        """Scale every lot's quantity by ``ratio`` (as the exact fraction ``split_fraction``
        reads it: 300 shares after a 1-for-3 are 100, not 99.999...); costs stay, so prices
        divide. A quotient that does not terminate is rounded like every other (``divide``).

        Returns the fractional share left over (signed, toward zero) that the
        caller pays out as cash in lieu; the lots still include it.
        """
        new, old = split_fraction(ratio)
        # The position as one quotient, so several lots end where one lot would (three lots
        # of 100 after a 1-for-3 are 100 shares, not 3 x 33.3333333333); the lots' own
        # roundings are evened out on the last one.
        total = divide(self.quantity * new, Decimal(old))
        for lot in self.lots:
            lot.quantity = divide(lot.quantity * new, Decimal(old))
        if self.lots:
            self.lots[-1].quantity += total - sum((lot.quantity for lot in self.lots), start=ZERO)
        self.quantity = sum((lot.quantity for lot in self.lots), start=ZERO)
        self.whole = whole_quantity(self.quantity)
        return self.quantity - self.quantity.to_integral_value(rounding=ROUND_DOWN)

    def cost_to_close(self, quantity: Decimal, matcher: LotMatcher) -> Decimal:
        """The cost basis that closing ``quantity`` (signed like the lots) would remove."""
        return sum((cost for _, _, cost in self._plan(quantity, matcher)), start=ZERO)

    def open_lot_ids(self) -> set[str]:
        return {lot.fill_id for lot in self.lots}

    def _plan(
        self, quantity: Decimal, matcher: LotMatcher
    ) -> list[tuple[OpenLot, Decimal, Decimal]]:
        """Which lots close ``quantity``: (lot, shares taken, cost taken), in order."""
        plan: list[tuple[OpenLot, Decimal, Decimal]] = []
        needed = abs(quantity)
        for lot in matcher.closing_order(self.lots):
            if needed == 0:
                break
            size = abs(lot.quantity)
            take = min(needed, size)
            # The last piece of a lot takes all that is left, so costs sum exactly.
            plan.append((lot, take, _share(lot.cost, take, size)))
            needed -= take
        if needed != 0:  # pragma: no cover - callers never ask for more than is open
            raise AssertionError(f"{self.symbol}: {needed} left to close with no lot open")
        return plan

    def _close(
        self,
        quantity: Decimal,
        price: Decimal,
        closing_commission: Decimal,
        matcher: LotMatcher,
    ) -> tuple[ClosedLot, ...]:
        """Close ``quantity`` (signed like the lots) in the matcher's order."""
        closed: list[ClosedLot] = []
        needed = abs(quantity)
        commission_left = closing_commission
        for lot, take, cost in self._plan(quantity, matcher):
            size = abs(lot.quantity)
            taken = take if lot.quantity > 0 else -take
            opening_commission = _share(lot.commission, take, size)
            closing_share = _share(commission_left, take, needed)
            needed -= take
            commission_left -= closing_share
            if take == size:
                self.lots.remove(lot)
            else:
                lot.quantity -= taken
                lot.cost -= cost
                lot.commission -= opening_commission
            realized = price * taken - cost
            self.realized += realized
            # Valid by construction: the lot's own fields and the book's arithmetic.
            closed.append(
                ClosedLot.trusted(
                    {
                        "fill_id": lot.fill_id,
                        "opened_at": lot.opened_at,
                        "quantity": taken,
                        "cost_basis": cost,
                        "exit_price": price,
                        "realized_pnl": realized,
                        "opening_commission": opening_commission,
                        "closing_commission": closing_share,
                    }
                )
            )
        return tuple(closed)
