"""Per-strategy (and whole-portfolio) P&L figures."""

from __future__ import annotations

from decimal import Decimal

from qtrader.models import FrozenModel


class PnlSummary(FrozenModel):
    """P&L figures of one strategy, or of the whole portfolio when ``strategy_id`` is None.

    Conventions (all exact ``Decimal``):

    - ``realized_pnl`` is GROSS of commissions: sum over closed lot quantities of
      ``(exit - entry) x qty`` (reversed for shorts), cash in lieu included.
    - ``commissions`` is every commission charged so far, on opening and closing
      fills alike (including those of lots still open).
    - ``net_realized_pnl = realized_pnl - commissions``. Each commission is
      subtracted exactly once, when it is paid, and never also inside lot P&L.
    - ``dividends`` is received minus paid (a short pays).
    - ``total_pnl = net_realized_pnl + unrealized_pnl + dividends``, which equals
      ``cash_flow + market_value``, and for the whole portfolio
      ``equity - initial_cash``.

    Every field of the whole portfolio is the sum of the same field over strategies.
    """

    strategy_id: str | None
    realized_pnl: Decimal
    commissions: Decimal
    net_realized_pnl: Decimal
    unrealized_pnl: Decimal
    dividends: Decimal
    total_pnl: Decimal
    market_value: Decimal
    cash_flow: Decimal
