"""Portfolio snapshots: lots, positions and the whole portfolio state, all frozen."""

from __future__ import annotations

from decimal import Decimal

from pydantic import AwareDatetime, Field

from qtrader.models._base import FrozenModel

ZERO = Decimal(0)


class Lot(FrozenModel):
    """An open lot: quantity > 0 for a long lot, < 0 for a short lot.

    Its id (``lot_id``) is the id of the fill that opened it: an order that names the
    lots it closes names them by these ids.
    """

    symbol: str = Field(min_length=1)
    strategy_id: str = Field(min_length=1)
    quantity: Decimal
    price: Decimal = Field(gt=0)
    opened_at: AwareDatetime
    fill_id: str = Field(min_length=1)

    @property
    def cost_basis(self) -> Decimal:
        return self.quantity * self.price

    @property
    def lot_id(self) -> str:
        """The id of the lot: that of the fill that opened it (unique per strategy and
        symbol; a split keeps it, a partial close keeps it for what is left)."""
        return self.fill_id


class Position(FrozenModel):
    """All open lots of one symbol, valued at ``market_price``."""

    symbol: str = Field(min_length=1)
    quantity: Decimal
    average_price: Decimal
    market_price: Decimal
    market_value: Decimal
    unrealized_pnl: Decimal
    realized_pnl: Decimal = ZERO
    lots: tuple[Lot, ...] = ()


class PortfolioState(FrozenModel):
    """A frozen snapshot of the portfolio at ``timestamp``.

    ``equity = cash + market_value``; exposures are sums of absolute or signed
    market values; ``leverage = gross_exposure / equity``.

    Costs are amounts paid (>= 0), running totals since the start: ``commissions``;
    ``fees`` (regulatory fees on sales); ``borrow_fees`` (on shorts) and
    ``margin_interest`` (on negative cash), whose sum is ``financing_costs``.
    ``dividends = dividends_received - dividends_paid`` (shorts pay).
    ``total_pnl = equity - initial cash = realized_pnl - commissions - fees +
    unrealized_pnl + dividends - financing_costs``. The fields added after
    ``dividends`` default to 0 for a portfolio service that does not report them.
    """

    timestamp: AwareDatetime | None
    cash: Decimal
    equity: Decimal
    market_value: Decimal
    long_exposure: Decimal
    short_exposure: Decimal
    gross_exposure: Decimal
    net_exposure: Decimal
    leverage: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    commissions: Decimal
    dividends: Decimal = ZERO
    dividends_received: Decimal = ZERO
    dividends_paid: Decimal = ZERO
    fees: Decimal = ZERO
    borrow_fees: Decimal = ZERO
    margin_interest: Decimal = ZERO
    financing_costs: Decimal = ZERO
    total_pnl: Decimal = ZERO
    positions: tuple[Position, ...] = ()

    def position(self, symbol: str) -> Position | None:
        for position in self.positions:
            if position.symbol == symbol:
                return position
        return None
