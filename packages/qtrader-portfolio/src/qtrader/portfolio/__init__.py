"""QTrader portfolio service: exact Decimal lot accounting, a cash ledger and actions.

``LotPortfolioService`` implements ``qtrader.models.PortfolioService``; its
``view()`` is a read-only ``PortfolioView``. See the package README for the
sign and P&L conventions.
"""

from qtrader.models import ClosedLot
from qtrader.portfolio.config import (
    FinancingConfig,
    LotMatching,
    PortfolioConfig,
    RegulatoryFeesConfig,
)
from qtrader.portfolio.errors import PortfolioError
from qtrader.portfolio.ledger import LedgerEntry, LedgerEntryType
from qtrader.portfolio.lots import (
    FifoLotMatcher,
    HighestCostLotMatcher,
    LifoLotMatcher,
    LotMatcher,
    SpecificLotMatcher,
    lot_matcher,
)
from qtrader.portfolio.replay import replay
from qtrader.portfolio.service import LotPortfolioService
from qtrader.portfolio.summary import PnlSummary
from qtrader.portfolio.view import PortfolioReadView

__all__ = [
    "ClosedLot",
    "FifoLotMatcher",
    "FinancingConfig",
    "HighestCostLotMatcher",
    "LedgerEntry",
    "LedgerEntryType",
    "LifoLotMatcher",
    "LotMatcher",
    "LotMatching",
    "LotPortfolioService",
    "PnlSummary",
    "PortfolioConfig",
    "PortfolioError",
    "PortfolioReadView",
    "RegulatoryFeesConfig",
    "SpecificLotMatcher",
    "lot_matcher",
    "replay",
]
