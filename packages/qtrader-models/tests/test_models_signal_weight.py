"""A signal may carry the weight of equity it targets (for target-weight sizing)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from qtrader.models import Signal, SignalDirection


def test_weight_is_optional_and_exact() -> None:
    plain = Signal(strategy_id="s1", symbol="AAA", direction=SignalDirection.LONG)
    assert plain.weight is None
    weighted = plain.model_copy(update={"weight": Decimal("0.05")})
    assert weighted.weight == Decimal("0.05")
    # a float becomes the decimal it reads as, not its binary expansion
    parsed = Signal(strategy_id="s1", symbol="AAA", direction=SignalDirection.LONG, weight=0.05)  # type: ignore[arg-type]
    assert parsed.weight == Decimal("0.05")


@pytest.mark.parametrize("weight", [0, -0.1, float("nan"), float("inf")])
def test_weight_must_be_a_positive_number(weight: float) -> None:
    with pytest.raises(ValidationError, match="weight"):
        Signal(strategy_id="s1", symbol="AAA", direction=SignalDirection.LONG, weight=weight)  # type: ignore[arg-type]
