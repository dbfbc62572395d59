"""QTrader shared contracts: Pydantic models and the Protocols (ports) of every service."""

from qtrader.models._base import FrozenModel, to_decimal
from qtrader.models.context import OrderHelpers
from qtrader.models.errors import QTraderError
from qtrader.models.ledger import ClosedLot, LedgerEntry, LedgerEntryType
from qtrader.models.market import (
    PRICE_FIELDS,
    Bar,
    BarSlice,
    CashDividend,
    CorporateAction,
    FloatArray,
    Instrument,
    PriceAdjustment,
    Split,
    StreamRequest,
)
from qtrader.models.order_input import OrderRejection
from qtrader.models.orders import (
    ExecutionReport,
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    ReplaceRequest,
    Side,
    TimeInForce,
)
from qtrader.models.portfolio import Lot, PortfolioState, Position
from qtrader.models.ports import (
    BarObserver,
    BaseStrategy,
    Clock,
    DataService,
    ExecutionService,
    HistoryMatrix,
    PortfolioService,
    PortfolioView,
    RiskService,
    Strategy,
    StrategyContext,
)
from qtrader.models.results import BacktestResult, EquityRow
from qtrader.models.signals import Intent, RiskDecision, Signal, SignalDirection

__all__ = [
    "PRICE_FIELDS",
    "BacktestResult",
    "Bar",
    "BarObserver",
    "BarSlice",
    "BaseStrategy",
    "CashDividend",
    "Clock",
    "ClosedLot",
    "CorporateAction",
    "DataService",
    "EquityRow",
    "ExecutionReport",
    "ExecutionService",
    "Fill",
    "FloatArray",
    "FrozenModel",
    "HistoryMatrix",
    "Instrument",
    "Intent",
    "LedgerEntry",
    "LedgerEntryType",
    "Lot",
    "Order",
    "OrderHelpers",
    "OrderRejection",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "OrderUpdate",
    "PortfolioService",
    "PortfolioState",
    "PortfolioView",
    "Position",
    "PriceAdjustment",
    "QTraderError",
    "ReplaceRequest",
    "RiskDecision",
    "RiskService",
    "Side",
    "Signal",
    "SignalDirection",
    "Split",
    "Strategy",
    "StrategyContext",
    "StreamRequest",
    "TimeInForce",
    "to_decimal",
]
