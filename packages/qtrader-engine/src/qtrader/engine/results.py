"""What a run produced, recorded as the engine goes (round trips, metrics and result files
are analytics' business: ``qtrader-analytics``).

Records are kept to the end, or, with a ``RecordSink``, handed to it in batches between
two bar slices and forgotten, so a long run's memory does not grow with its records."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from qtrader.models import (
    BacktestResult,
    EquityRow,
    Fill,
    LedgerEntry,
    Order,
    OrderRejection,
    OrderStatus,
    OrderUpdate,
    PortfolioState,
    RecordBatch,
    RecordSink,
    RiskDecision,
)

__all__ = ["BacktestResult", "EquityRow", "ResultRecorder"]


class ResultRecorder:
    def __init__(self, sink: RecordSink | None = None) -> None:
        self._sink = sink
        self._fills: list[Fill] = []
        self._orders: list[Order] = []
        self._updates: list[OrderUpdate] = []
        self._decisions: list[RiskDecision] = []
        self._equity: list[EquityRow] = []
        self._rejections: list[OrderRejection] = []

    def fill(self, fill: Fill) -> None:
        self._fills.append(fill)

    def order(self, order: Order) -> None:
        self._orders.append(order)

    def updates(self, updates: Iterable[OrderUpdate]) -> None:
        self._updates.extend(updates)

    def rejection(self, rejection: OrderRejection, at: datetime) -> None:
        """A request the strategy's context refused at ``at``: kept, and recorded as a
        ``rejected`` update of its id."""
        self._rejections.append(rejection)
        self._updates.append(
            OrderUpdate(
                order_id=rejection.id,
                status=OrderStatus.REJECTED,
                timestamp=at,
                reason=rejection.reason,
            )
        )

    def decision(self, decision: RiskDecision) -> None:
        self._decisions.append(decision)

    def equity(self, row: EquityRow) -> None:
        self._equity.append(row)

    @property
    def pending(self) -> int:
        """How many records (equity rows aside) are held."""
        return (
            len(self._fills)
            + len(self._orders)
            + len(self._updates)
            + len(self._decisions)
            + len(self._rejections)
        )

    def flush(self, ledger: Sequence[LedgerEntry] = ()) -> None:
        """Hand the records held (and ``ledger``, the entries booked since the previous
        flush) to the sink and forget them; without a sink, nothing happens."""
        if self._sink is None:
            return
        batch = RecordBatch(
            orders=tuple(self._orders),
            rejections=tuple(self._rejections),
            fills=tuple(self._fills),
            order_updates=tuple(self._updates),
            decisions=tuple(self._decisions),
            ledger=tuple(ledger),
        )
        for records in (self._orders, self._rejections, self._fills, self._updates):
            records.clear()
        self._decisions.clear()
        if len(batch):
            self._sink.write(batch)

    def result(
        self,
        final_state: PortfolioState,
        open_orders: Sequence[Order],
        ledger: Sequence[LedgerEntry] = (),
    ) -> BacktestResult:
        """The run's result; with a sink, the records left are flushed to it first and
        the result's records are empty (``records_streamed``)."""
        if self._sink is not None:
            self.flush(ledger)
            ledger = ()
        return BacktestResult(
            fills=tuple(self._fills),
            orders=tuple(self._orders),
            order_updates=tuple(self._updates),
            decisions=tuple(self._decisions),
            equity=tuple(self._equity),
            final_state=final_state,
            open_orders=tuple(open_orders),
            rejections=tuple(self._rejections),
            ledger=tuple(ledger),
            records_streamed=self._sink is not None,
        )
