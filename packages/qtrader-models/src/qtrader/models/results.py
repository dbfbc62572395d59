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
    records_streamed: bool = False
    """Whether the records (fills, orders, updates, decisions, rejections, ledger) went to
    a ``RecordSink`` as the run went: then those fields are empty, and anything computed
    from them (metrics, round trips) comes from the sink instead."""


@dataclass(frozen=True, slots=True)
class RecordBatch:
    """The records of a run since the previous batch, in the order they happened: what the
    engine hands a ``RecordSink``. A batch ends between two bar slices, never inside one,
    so every record of one timestamp is in the same batch."""

    orders: tuple[Order, ...] = ()
    rejections: tuple[OrderRejection, ...] = ()
    fills: tuple[Fill, ...] = ()
    order_updates: tuple[OrderUpdate, ...] = ()
    decisions: tuple[RiskDecision, ...] = ()
    ledger: tuple[LedgerEntry, ...] = ()

    def __len__(self) -> int:
        return (
            len(self.orders)
            + len(self.rejections)
            + len(self.fills)
            + len(self.order_updates)
            + len(self.decisions)
            + len(self.ledger)
        )
