"""What a run produced, recorded as the engine goes (round trips, metrics and result files
are analytics' business: ``qtrader-analytics``)."""

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
    RiskDecision,
)

__all__ = ["BacktestResult", "EquityRow", "ResultRecorder"]


class ResultRecorder:
    def __init__(self) -> None:
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

    def result(
        self,
        final_state: PortfolioState,
        open_orders: Sequence[Order],
        ledger: Sequence[LedgerEntry] = (),
    ) -> BacktestResult:
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
        )
