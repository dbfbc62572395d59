"""Portfolio snapshots: lots, positions and the whole portfolio state, all frozen."""

from __future__ import annotations

from decimal import Decimal

from pydantic import AwareDatetime, Field

from qtrader.models._base import FrozenModel

ZERO = Decimal(0)


class Lot(FrozenModel):
    """An open lot: quantity > 0 for a long lot, < 0 for a short lot."""

    symbol: str = Field(min_length=1)
    strategy_id: str = Field(min_length=1)
    quantity: Decimal
    price: Decimal = Field(gt=0)
    opened_at: AwareDatetime
    fill_id: str = Field(min_length=1)

    @property
    def cost_basis(self) -> Decimal:
        return self.quantity * self.price


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
    positions: tuple[Position, ...] = ()

    def position(self, symbol: str) -> Position | None:
        for position in self.positions:
            if position.symbol == symbol:
                return position
        return None
