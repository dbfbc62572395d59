"""QTrader execution service: a simulated venue with named fill, slippage and commission models.

``SimulatedExecutionService(ExecutionConfig(...))`` implements
``qtrader.models.ExecutionService``. See the package README for the rules.
"""

from qtrader.execution.commissions import (
    CommissionModel,
    FlatCommission,
    NoCommission,
    PercentCommission,
    PerShareCommission,
    TieredCommission,
    build_commission_model,
)
from qtrader.execution.config import (
    TIERED_PRESETS,
    BpsSlippageConfig,
    BracketConflict,
    CommissionConfig,
    CommissionTier,
    ExecutionConfig,
    FillConfig,
    FlatCommissionConfig,
    HalfSpreadSlippageConfig,
    NextOpenFillConfig,
    NoCommissionConfig,
    NoSlippageConfig,
    PercentCommissionConfig,
    PerShareCommissionConfig,
    SessionConfig,
    SlippageConfig,
    SplitPolicy,
    SquareRootSlippageConfig,
    TieredCommissionConfig,
    load_execution_config,
)
from qtrader.execution.errors import ExecutionConfigError, ExecutionError
from qtrader.execution.fill_models import (
    BarPrices,
    FillModel,
    Match,
    NextOpenFillModel,
    build_fill_model,
)
from qtrader.execution.service import SimulatedExecutionService
from qtrader.execution.slippage import (
    BpsSlippage,
    HalfSpreadSlippage,
    NoSlippage,
    SlippageModel,
    SquareRootSlippage,
    build_slippage_model,
)

__all__ = [
    "TIERED_PRESETS",
    "BarPrices",
    "BpsSlippage",
    "BpsSlippageConfig",
    "BracketConflict",
    "CommissionConfig",
    "CommissionModel",
    "CommissionTier",
    "ExecutionConfig",
    "ExecutionConfigError",
    "ExecutionError",
    "FillConfig",
    "FillModel",
    "FlatCommission",
    "FlatCommissionConfig",
    "HalfSpreadSlippage",
    "HalfSpreadSlippageConfig",
    "Match",
    "NextOpenFillConfig",
    "NextOpenFillModel",
    "NoCommission",
    "NoCommissionConfig",
    "NoSlippage",
    "NoSlippageConfig",
    "PerShareCommission",
    "PerShareCommissionConfig",
    "PercentCommission",
    "PercentCommissionConfig",
    "SessionConfig",
    "SimulatedExecutionService",
    "SlippageConfig",
    "SlippageModel",
    "SplitPolicy",
    "SquareRootSlippage",
    "SquareRootSlippageConfig",
    "TieredCommission",
    "TieredCommissionConfig",
    "build_commission_model",
    "build_fill_model",
    "build_slippage_model",
    "load_execution_config",
]
