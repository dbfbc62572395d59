"""In-memory fakes of the ports. Each satisfies its Protocol (checked in tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from qtrader.models._base import to_decimal
from qtrader.models.ledger import LedgerEntry
from qtrader.models.market import (
    BarSlice,
    CashDividend,
    Instrument,
    PriceAdjustment,
    Split,
    StreamRequest,
)
from qtrader.models.orders import (
    ExecutionReport,
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    ReplaceRequest,
)
from qtrader.models.portfolio import Lot, PortfolioState, Position
from qtrader.models.ports import BaseStrategy, PortfolioView, StrategyContext
from qtrader.models.signals import Intent, RiskDecision

ZERO = Decimal(0)


class FakeClock:
    """A clock that says whatever it was last set to."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        self._now = now


class FakeDataService:
    """Streams prepared slices, filtered to the request's dates (not its symbols).

    A slice is streamed when its date is at most ``end`` and either at least
    ``start`` or flagged ``warmup`` (the flag is set when the slices are built,
    e.g. by ``daily_slices(..., warmup=n)``; ``warmup_bars`` is not counted).
    Slices are handed over as built: every symbol in them, whatever was asked.
    """

    def __init__(
        self,
        slices: Sequence[BarSlice],
        adjustment: PriceAdjustment = PriceAdjustment.UNADJUSTED,
    ) -> None:
        self._slices = list(slices)
        self._adjustment = adjustment
        self.requests: list[StreamRequest] = []

    @property
    def price_adjustment(self) -> PriceAdjustment:
        return self._adjustment

    def symbols(self) -> list[str]:
        return sorted({s for sl in self._slices for s in sl.symbols})

    def instruments(self, symbols: Sequence[str]) -> list[Instrument]:
        known = set(self.symbols())
        for symbol in symbols:
            if symbol not in known:
                raise KeyError(f"unknown symbol {symbol!r}")
        return [Instrument(symbol=s) for s in symbols]

    def stream(self, request: StreamRequest) -> Iterator[BarSlice]:
        self.requests.append(request)
        for sl in self._slices:
            day = sl.timestamp.date()
            if day <= request.end and (day >= request.start or sl.warmup):
                yield sl


class _ReadOnlyView:
    def __init__(self, portfolio: FakePortfolioService) -> None:
        self._p = portfolio

    @property
    def cash(self) -> Decimal:
        return self._p.cash

    @property
    def equity(self) -> Decimal:
        return self._p.equity

    def position(self, symbol: str, strategy_id: str | None = None) -> Decimal:
        return self._p.position(symbol, strategy_id)

    def last_price(self, symbol: str) -> Decimal | None:
        return self._p.last_price(symbol)

    def lots(self, symbol: str, strategy_id: str | None = None) -> tuple[Lot, ...]:
        return self._p.lots(symbol, strategy_id)

    def snapshot(self) -> PortfolioState:
        return self._p.snapshot()


class FakePortfolioService:
    """Cash and net quantities only: no lots, no P&L breakdown."""

    def __init__(self, initial_cash: Decimal) -> None:
        self._cash = initial_cash
        self._quantities: dict[tuple[str, str], Decimal] = {}
        self._prices: dict[str, Decimal] = {}
        self._timestamp: datetime | None = None
        self.fills: list[Fill] = []
        self.actions: list[Split | CashDividend] = []

    @property
    def cash(self) -> Decimal:
        return self._cash

    @property
    def equity(self) -> Decimal:
        return self._cash + sum((self.position(s) * p for s, p in self._prices.items()), start=ZERO)

    def position(self, symbol: str, strategy_id: str | None = None) -> Decimal:
        return sum(
            (
                q
                for (sid, sym), q in self._quantities.items()
                if sym == symbol and strategy_id in (None, sid)
            ),
            start=ZERO,
        )

    def last_price(self, symbol: str) -> Decimal | None:
        return self._prices.get(symbol)

    def lots(self, symbol: str, strategy_id: str | None = None) -> tuple[Lot, ...]:
        """No lots: a fake book keeps net quantities only."""
        return ()

    def ledger(self) -> tuple[LedgerEntry, ...]:
        """No ledger: a run on this fake has fills but no closed lots (no round trips)."""
        return ()

    def apply_fill(self, fill: Fill) -> None:
        key = (fill.strategy_id, fill.symbol)
        self._quantities[key] = self._quantities.get(key, ZERO) + fill.signed_quantity
        self._cash += fill.cash_flow
        self.fills.append(fill)

    def apply_action(self, action: Split | CashDividend, timestamp: datetime) -> None:
        self.actions.append(action)

    def mark(self, bars: BarSlice) -> None:
        self._timestamp = bars.timestamp
        for i, symbol in enumerate(bars.symbols):
            self._prices[symbol] = to_decimal(bars.close[i])

    def view(self) -> PortfolioView:
        return _ReadOnlyView(self)

    def snapshot(self) -> PortfolioState:
        positions = []
        for symbol in sorted({sym for _, sym in self._quantities}):
            qty = self.position(symbol)
            price = self._prices.get(symbol, ZERO)
            positions.append(
                Position(
                    symbol=symbol,
                    quantity=qty,
                    average_price=ZERO,
                    market_price=price,
                    market_value=qty * price,
                    unrealized_pnl=ZERO,
                )
            )
        mv = sum((p.market_value for p in positions), start=ZERO)
        gross = sum((abs(p.market_value) for p in positions), start=ZERO)
        equity = self._cash + mv
        return PortfolioState(
            timestamp=self._timestamp,
            cash=self._cash,
            equity=equity,
            market_value=mv,
            long_exposure=sum((p.market_value for p in positions if p.quantity > 0), start=ZERO),
            short_exposure=sum((p.market_value for p in positions if p.quantity < 0), start=ZERO),
            gross_exposure=gross,
            net_exposure=mv,
            leverage=gross / equity if equity else ZERO,
            realized_pnl=ZERO,
            unrealized_pnl=ZERO,
            commissions=sum((f.commission for f in self.fills), start=ZERO),
            positions=tuple(positions),
        )


class FakeExecutionService:
    """Fills every market order in full at the open of the next bar of its symbol.

    Other order types just rest; nothing expires. No commission. ``replace`` changes a
    working order in place.
    """

    def __init__(self) -> None:
        self._working: dict[str, Order] = {}
        self._count = 0
        self.submitted: list[Order] = []

    def submit(self, request: OrderRequest, at: datetime) -> Order:
        self._count += 1
        order = Order(id=f"FAKE-{self._count}", created_at=at, **request.model_dump())
        self._working[order.id] = order
        self.submitted.append(order)
        return order

    def cancel(self, order_id: str, at: datetime) -> OrderUpdate | None:
        if self._working.pop(order_id, None) is None:
            return None
        return OrderUpdate(order_id=order_id, status=OrderStatus.CANCELLED, timestamp=at)

    def replace(self, request: ReplaceRequest, at: datetime) -> OrderUpdate | None:
        """Apply the changes to the working order (validated, so a bad one raises)."""
        order = self._working.get(request.order_id)
        if order is None:
            return None
        changes = request.changes()
        self._working[order.id] = Order.model_validate({**order.model_dump(), **changes})
        return OrderUpdate(
            order_id=order.id,
            status=OrderStatus.REPLACED,
            timestamp=at,
            reason=", ".join(f"{name} {value}" for name, value in changes.items()),
        )

    def process(self, bars: BarSlice) -> ExecutionReport:
        fills = []
        for order in list(self._working.values()):
            i = bars.index(order.symbol)
            # Never against the bar the order was decided on (or an earlier one).
            if (
                order.type is not OrderType.MARKET
                or i is None
                or order.created_at >= bars.timestamp
            ):
                continue
            del self._working[order.id]
            fills.append(
                Fill(
                    id=f"{order.id}-F",
                    order_id=order.id,
                    strategy_id=order.strategy_id,
                    symbol=order.symbol,
                    side=order.side,
                    quantity=order.quantity,
                    price=to_decimal(bars.open[i]),
                    timestamp=bars.opened_at,
                )
            )
        return ExecutionReport(fills=tuple(fills))

    def apply_action(
        self, action: Split | CashDividend, timestamp: datetime
    ) -> tuple[OrderUpdate, ...]:
        return ()

    def open_orders(self, strategy_id: str | None = None) -> tuple[Order, ...]:
        return tuple(o for o in self._working.values() if strategy_id in (None, o.strategy_id))


class FakeRiskService:
    """Approves every explicit order unchanged; rejects signals (it does not size)."""

    def __init__(self) -> None:
        self.seen: list[Intent] = []
        self.working_seen: list[tuple[Order, ...]] = []

    def decide(
        self,
        intents: Sequence[Intent],
        portfolio: PortfolioView,
        prices: Mapping[str, Decimal],
        at: datetime,
        open_orders: Sequence[Order] = (),
    ) -> list[RiskDecision]:
        self.seen.extend(intents)
        self.working_seen.append(tuple(open_orders))
        return [
            RiskDecision(timestamp=at, intent=i, order=i, approved=True)
            if isinstance(i, OrderRequest)
            else RiskDecision(
                timestamp=at,
                intent=i,
                order=None,
                approved=False,
                reason="the fake risk service does not size signals",
            )
            for i in intents
        ]


class ScriptedStrategy(BaseStrategy):
    """Calls ``script(ctx)`` on every bar and records what it saw."""

    def __init__(self, script: Callable[[StrategyContext], None] | None = None) -> None:
        self._script = script
        self.calls: list[str] = []
        self.fills: list[Fill] = []
        self.timestamps: list[datetime] = []

    def on_start(self, ctx: StrategyContext) -> None:
        self.calls.append("start")

    def on_bar(self, ctx: StrategyContext) -> None:
        self.calls.append("bar")
        self.timestamps.append(ctx.timestamp)
        if self._script is not None:
            self._script(ctx)

    def on_fill(self, ctx: StrategyContext, fill: Fill) -> None:
        self.calls.append("fill")
        self.fills.append(fill)

    def on_end(self, ctx: StrategyContext) -> None:
        self.calls.append("end")
