"""Guards added after review: slices, rejected decisions and the fake venue's timing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from qtrader.models import BarSlice, OrderRequest, RiskDecision, Side
from qtrader.models.testing import FakeExecutionService, daily_slices, ny_close

DAY = date(2024, 2, 1)


def test_a_slice_cannot_open_after_it_closes() -> None:
    close = ny_close(DAY)
    with pytest.raises(ValueError, match=r"opened_at .* is after its close"):
        BarSlice(
            timestamp=close,
            opened_at=close + timedelta(minutes=1),
            symbols=("AAA",),
            open=np.ones(1),
            high=np.ones(1),
            low=np.ones(1),
            close=np.ones(1),
            volume=np.ones(1),
        )


def test_slice_columns_become_float64_arrays() -> None:
    close = ny_close(DAY)
    bars = BarSlice(
        timestamp=close,
        opened_at=close,
        symbols=("AAA", "BBB"),
        open=[1, 2],  # type: ignore[arg-type]
        high=np.array([1, 2], dtype=np.int64),
        low=np.ones(2),
        close=np.ones(2),
        volume=np.ones(2),
    )
    assert bars.open.dtype == np.float64
    assert bars.high.dtype == np.float64
    assert bars.open.tolist() == [1.0, 2.0]


def test_a_rejected_decision_carries_no_order() -> None:
    order = OrderRequest(strategy_id="s", symbol="AAA", side=Side.BUY, quantity=Decimal(1))
    with pytest.raises(ValueError, match="rejected intent cannot carry"):
        RiskDecision(timestamp=ny_close(DAY), intent=order, order=order, approved=False)


def test_the_fake_venue_never_fills_on_the_decision_bar() -> None:
    (first, second) = daily_slices(
        [DAY, DAY + timedelta(days=1)], {"AAA": [(1.0, 2.0), (3.0, 4.0)]}
    )
    venue = FakeExecutionService()
    venue.submit(
        OrderRequest(strategy_id="s", symbol="AAA", side=Side.BUY, quantity=Decimal(1)),
        first.timestamp,
    )
    assert venue.process(first).fills == ()  # even if asked again for the decision bar
    (fill,) = venue.process(second).fills
    assert fill.price == Decimal(3)
