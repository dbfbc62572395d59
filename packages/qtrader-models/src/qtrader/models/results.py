"""What a backtest produced: the records the engine collected, as one plain value.

The engine fills it; analytics (round trips, metrics, result files, the report) reads it.
Records are the services' own validated models, so nothing here validates again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from qtrader.models.ledger import LedgerEntry
from qtrader.models.order_input import OrderRejection
from qtrader.models.orders import Fill, Order, OrderUpdate
from qtrader.models.portfolio import PortfolioState
from qtrader.models.signals import RiskDecision


@dataclass(frozen=True, slots=True)
class EquityRow:
    """The account after one bar slice was marked at its closes."""

    timestamp: datetime
    cash: Decimal
    equity: Decimal


@dataclass(frozen=True)
class BacktestResult:
    """What a run produced. ``rejections`` are the requests the strategies' contexts
    refused (each also a ``rejected`` update in ``order_updates``); ``orders`` are the
    orders the venue accepted or placed; ``ledger`` is every change of cash or position
    the portfolio booked (its closed lots are the round trips' source)."""

    fills: tuple[Fill, ...]
    orders: tuple[Order, ...]
    order_updates: tuple[OrderUpdate, ...]
    decisions: tuple[RiskDecision, ...]
    equity: tuple[EquityRow, ...]
    final_state: PortfolioState
    open_orders: tuple[Order, ...]
    rejections: tuple[OrderRejection, ...] = field(default=())
    ledger: tuple[LedgerEntry, ...] = field(default=())
