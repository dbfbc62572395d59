"""QTrader execution service: a simulated venue with named fill, slippage and commission models.

``SimulatedExecutionService(ExecutionConfig(...))`` implements
``qtrader.models.ExecutionService``. See the package README for the rules.
"""

from qtrader.execution.commissions import (
    CommissionModel,
    NoCommission,
    PercentCommission,
    PerShareCommission,
    build_commission_model,
)
from qtrader.execution.config import (
    BpsSlippageConfig,
    CommissionConfig,
    ExecutionConfig,
    FillConfig,
    NextOpenFillConfig,
    NoCommissionConfig,
    NoSlippageConfig,
    PercentCommissionConfig,
    PerShareCommissionConfig,
    SlippageConfig,
    SplitPolicy,
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
from qtrader.execution.slippage import BpsSlippage, NoSlippage, SlippageModel, build_slippage_model

__all__ = [
    "BarPrices",
    "BpsSlippage",
    "BpsSlippageConfig",
    "CommissionConfig",
    "CommissionModel",
    "ExecutionConfig",
    "ExecutionConfigError",
    "ExecutionError",
    "FillConfig",
    "FillModel",
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
    "SimulatedExecutionService",
    "SlippageConfig",
    "SlippageModel",
    "SplitPolicy",
    "build_commission_model",
    "build_fill_model",
    "build_slippage_model",
    "load_execution_config",
]
