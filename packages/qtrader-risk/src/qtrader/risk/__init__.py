"""QTrader risk service: signal sizing and pre-trade limits.

``PreTradeRiskService`` implements ``qtrader.models.RiskService``; its policy
is a frozen ``RiskConfig`` (or a built-in preset). ``summarize`` counts what it
decided. See the package README.
"""

from qtrader.risk.config import DEFAULT_ADV_WINDOW, PRESETS, OnBreach, RiskConfig
from qtrader.risk.errors import RiskConfigError, RiskError
from qtrader.risk.limits import (
    AdvParticipationLimit,
    CashLimit,
    DailyLossLimit,
    DrawdownBreaker,
    GrossLeverageLimit,
    Limit,
    LimitVerdict,
    MaxPositionLimit,
    NetLeverageLimit,
    OpenPositionsLimit,
    OrderCheck,
    PortfolioBook,
    ShortSaleLimit,
    StrategyBudgetLimit,
    limits_for,
    reference_price,
)
from qtrader.risk.sections import (
    DrawdownBreakerPolicy,
    EqualWeightSizing,
    FixedNotionalSizing,
    FixedQuantitySizing,
    PercentOfEquitySizing,
    SizingPolicy,
    TargetWeightSizing,
    VolatilityTargetSizing,
)
from qtrader.risk.service import (
    ALREADY_AT_TARGET,
    NO_SIZING,
    PreTradeRiskService,
)
from qtrader.risk.sizing import (
    EqualWeightSizer,
    FixedNotionalSizer,
    FixedQuantitySizer,
    PercentOfEquitySizer,
    SignalSizer,
    TargetWeightSizer,
    VolatilityTargetSizer,
)
from qtrader.risk.summary import DecisionSummary, DecisionTally, reason_kind, summarize

__all__ = [
    "ALREADY_AT_TARGET",
    "DEFAULT_ADV_WINDOW",
    "NO_SIZING",
    "PRESETS",
    "AdvParticipationLimit",
    "CashLimit",
    "DailyLossLimit",
    "DecisionSummary",
    "DecisionTally",
    "DrawdownBreaker",
    "DrawdownBreakerPolicy",
    "EqualWeightSizer",
    "EqualWeightSizing",
    "FixedNotionalSizer",
    "FixedNotionalSizing",
    "FixedQuantitySizer",
    "FixedQuantitySizing",
    "GrossLeverageLimit",
    "Limit",
    "LimitVerdict",
    "MaxPositionLimit",
    "NetLeverageLimit",
    "OnBreach",
    "OpenPositionsLimit",
    "OrderCheck",
    "PercentOfEquitySizer",
    "PercentOfEquitySizing",
    "PortfolioBook",
    "PreTradeRiskService",
    "RiskConfig",
    "RiskConfigError",
    "RiskError",
    "ShortSaleLimit",
    "SignalSizer",
    "SizingPolicy",
    "StrategyBudgetLimit",
    "TargetWeightSizer",
    "TargetWeightSizing",
    "VolatilityTargetSizer",
    "VolatilityTargetSizing",
    "limits_for",
    "reason_kind",
    "reference_price",
    "summarize",
]
