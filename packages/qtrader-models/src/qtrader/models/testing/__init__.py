"""In-memory fakes of every port and builders of test data.

With these, any one service (or the engine) can be tested with all the others
faked. They are deliberately simple and exact; they are not the real services.
"""

from qtrader.models.testing.builders import daily_slices, make_bar, ny_close, ny_open
from qtrader.models.testing.context import FakeStrategyContext
from qtrader.models.testing.fakes import (
    FakeClock,
    FakeDataService,
    FakeExecutionService,
    FakePortfolioService,
    FakeRiskService,
    ScriptedStrategy,
)

__all__ = [
    "FakeClock",
    "FakeDataService",
    "FakeExecutionService",
    "FakePortfolioService",
    "FakeRiskService",
    "FakeStrategyContext",
    "ScriptedStrategy",
    "daily_slices",
    "make_bar",
    "ny_close",
    "ny_open",
]
