"""QTrader risk service: signal sizing and pre-trade limits.

``PreTradeRiskService`` implements ``qtrader.models.RiskService``; its policy
is a frozen ``RiskConfig`` (or a built-in preset). See the package README.
"""

from qtrader.risk.config import PRESETS, OnBreach, RiskConfig
from qtrader.risk.errors import RiskConfigError, RiskError
from qtrader.risk.limits import (
    CashLimit,
    Limit,
    LimitVerdict,
    MaxPositionLimit,
    OrderCheck,
    ShortSaleLimit,
    limits_for,
    reference_price,
)
from qtrader.risk.service import (
    ALREADY_AT_TARGET,
    NO_SIZING,
    PreTradeRiskService,
)
from qtrader.risk.sizing import FixedQuantitySizer, SignalSizer

__all__ = [
    "ALREADY_AT_TARGET",
    "NO_SIZING",
    "PRESETS",
    "CashLimit",
    "FixedQuantitySizer",
    "Limit",
    "LimitVerdict",
    "MaxPositionLimit",
    "OnBreach",
    "OrderCheck",
    "PreTradeRiskService",
    "RiskConfig",
    "RiskConfigError",
    "RiskError",
    "ShortSaleLimit",
    "SignalSizer",
    "limits_for",
    "reference_price",
]
