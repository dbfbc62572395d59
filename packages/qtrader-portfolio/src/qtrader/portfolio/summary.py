"""Per-strategy (and whole-portfolio) P&L figures."""

from __future__ import annotations

from decimal import Decimal

from qtrader.models import FrozenModel

ZERO = Decimal(0)


class PnlSummary(FrozenModel):
    """P&L figures of one strategy, or of the whole portfolio when ``strategy_id`` is None.

    Conventions (all exact ``Decimal``; costs are amounts paid, >= 0):

    - ``realized_pnl`` is GROSS of commissions and fees: sum over closed lot quantities
      of ``(exit - entry) x qty`` (reversed for shorts), cash in lieu included.
    - ``commissions`` is every commission charged so far, on opening and closing
      fills alike (including those of lots still open); ``fees`` every regulatory fee
      on sales (SEC fee, FINRA TAF).
    - ``net_realized_pnl = realized_pnl - commissions - fees``. Each is subtracted
      exactly once, when it is paid, and never also inside lot P&L.
    - ``dividends`` is ``dividends_received - dividends_paid`` (a short pays).
    - ``financing_costs = borrow_fees + margin_interest``. Margin interest is the
      account's (cash is not split by strategy): it is in the whole portfolio's figures
      and in no strategy's.
    - ``total_pnl = net_realized_pnl + unrealized_pnl + dividends - financing_costs``,
      which equals ``cash_flow + market_value``, and for the whole portfolio
      ``equity - initial_cash``.

    Every field of the whole portfolio is the sum of the same field over strategies,
    except that ``margin_interest``, ``financing_costs`` and ``total_pnl`` (and, with the
    other sign, ``cash_flow``) also hold the account's margin interest.
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
    fees: Decimal = ZERO
    dividends_received: Decimal = ZERO
    dividends_paid: Decimal = ZERO
    borrow_fees: Decimal = ZERO
    margin_interest: Decimal = ZERO
    financing_costs: Decimal = ZERO
