"""to_decimal, FrozenModel, portfolio snapshots, signals and risk decisions."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from qtrader.models import (
    FrozenModel,
    Lot,
    OrderRequest,
    PortfolioState,
    Position,
    RiskDecision,
    Side,
    Signal,
    SignalDirection,
    to_decimal,
)

D = Decimal
EST = timezone(timedelta(hours=-5))
T0 = datetime(2024, 1, 2, 16, 0, tzinfo=EST)


# ------------------------------------------------------------------------------ to_decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.1, "0.1"),
        (157.92, "157.92"),
        (75.0, "75.0"),
        (1e-7, "1E-7"),
        (1e16, "1E+16"),
    ],
)
def test_to_decimal_is_the_shortest_round_trip(value: float, expected: str) -> None:
    assert to_decimal(value) == D(expected)


def test_to_decimal_of_a_numpy_float_is_exact() -> None:
    # Decimal(157.92) would be 157.919999999999987494...; to_decimal must not be.
    assert D(157.92) != D("157.92")
    assert to_decimal(np.float64(157.92)) == D("157.92")
    assert to_decimal(np.array([0.1, 0.2])[1]) == D("0.2")


def test_to_decimal_passes_non_finite_values_through() -> None:
    # Documented contract: to_decimal does not validate. Callers check prices themselves
    # (the portfolio names the symbol whose close is NaN instead of a bare ValueError here).
    assert to_decimal(math.nan).is_nan()
    assert to_decimal(math.inf) == D("Infinity")


# ----------------------------------------------------------------------------- FrozenModel


class _Config(FrozenModel):
    name: str
    size: int = 1


def test_frozen_model_is_immutable_hashable_and_strict() -> None:
    cfg = _Config(name="a")
    assert hash(cfg) == hash(_Config(name="a", size=1))
    with pytest.raises(ValidationError, match="frozen"):
        cfg.name = "b"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="nmae"):
        _Config.model_validate({"nmae": "a"})


def test_frozen_model_validates_defaults() -> None:
    class Bad(FrozenModel):
        size: int = "not a number"  # type: ignore[assignment]

    with pytest.raises(ValidationError, match="size"):
        Bad()


# ---------------------------------------------------------------------- portfolio models


def test_lot_cost_basis_is_signed() -> None:
    # long 100 @ 75.00 -> 7500.00; short 50 @ 76.50 -> -3825.00
    long_lot = Lot(
        symbol="AAPL",
        strategy_id="s",
        quantity=D(100),
        price=D("75.00"),
        opened_at=T0,
        fill_id="F1",
    )
    short_lot = Lot(
        symbol="AAPL",
        strategy_id="s",
        quantity=D(-50),
        price=D("76.50"),
        opened_at=T0,
        fill_id="F2",
    )
    assert long_lot.cost_basis == D("7500.00")
    assert short_lot.cost_basis == D("-3825.00")
    # a lot is named (to close it) by the id of the fill that opened it
    assert (long_lot.lot_id, short_lot.lot_id) == ("F1", "F2")


def test_lot_price_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="price"):
        Lot.model_validate(
            {
                "symbol": "AAPL",
                "strategy_id": "s",
                "quantity": "1",
                "price": "0",
                "opened_at": T0,
                "fill_id": "F1",
            }
        )


def position(symbol: str, quantity: str, price: str) -> Position:
    q, p = D(quantity), D(price)
    return Position(
        symbol=symbol,
        quantity=q,
        average_price=p,
        market_price=p,
        market_value=q * p,
        unrealized_pnl=D(0),
    )


def state(**overrides: Any) -> PortfolioState:
    # cash 10000, long 100 AAPL @ 75 = 7500, short 50 MSFT @ 80 = -4000
    # market value 7500 - 4000 = 3500; equity 10000 + 3500 = 13500
    # gross 7500 + 4000 = 11500; leverage 11500 / 13500
    fields: dict[str, Any] = {
        "timestamp": T0,
        "cash": D(10000),
        "equity": D(13500),
        "market_value": D(3500),
        "long_exposure": D(7500),
        "short_exposure": D(-4000),
        "gross_exposure": D(11500),
        "net_exposure": D(3500),
        "leverage": D(11500) / D(13500),
        "realized_pnl": D(0),
        "unrealized_pnl": D(0),
        "commissions": D(0),
        "positions": (position("AAPL", "100", "75"), position("MSFT", "-50", "80")),
    }
    fields.update(overrides)
    return PortfolioState.model_validate(fields)


def test_portfolio_state_position_lookup() -> None:
    s = state()
    aapl = s.position("AAPL")
    assert aapl is not None
    assert aapl.market_value == D(7500)
    msft = s.position("MSFT")
    assert msft is not None
    assert msft.quantity == D(-50)
    assert s.position("GOOG") is None


def test_portfolio_state_defaults_and_empty_book() -> None:
    s = state(timestamp=None, positions=())
    assert s.timestamp is None
    assert s.dividends == D(0)
    # costs and income a portfolio service may not report default to 0
    for name in ("dividends_received", "dividends_paid", "fees", "borrow_fees",
                 "margin_interest", "financing_costs", "total_pnl"):  # fmt: skip
        assert getattr(s, name) == D(0)
    assert s.position("AAPL") is None
    p = position("AAPL", "1", "1")
    assert p.realized_pnl == D(0)
    assert p.lots == ()


def test_portfolio_state_rejects_a_naive_timestamp() -> None:
    with pytest.raises(ValidationError, match="timestamp"):
        state(timestamp=datetime(2024, 1, 2, 16))  # noqa: DTZ001


# ------------------------------------------------------------------------------- signals


@pytest.mark.parametrize("strength", [0.0, 0.5, 1.0])
def test_signal_strength_within_bounds(strength: float) -> None:
    sig = Signal(strategy_id="s", symbol="AAPL", direction=SignalDirection.LONG, strength=strength)
    assert sig.strength == strength


@pytest.mark.parametrize("strength", [-0.01, 1.01, math.nan, math.inf])
def test_signal_strength_out_of_bounds(strength: float) -> None:
    with pytest.raises(ValidationError, match="strength"):
        Signal(strategy_id="s", symbol="AAPL", direction=SignalDirection.LONG, strength=strength)


def test_signal_defaults_and_directions() -> None:
    sig = Signal.model_validate({"strategy_id": "s", "symbol": "AAPL", "direction": "flat"})
    assert sig.direction is SignalDirection.FLAT
    assert sig.strength == 1.0
    assert sig.tag is None
    assert [d.value for d in SignalDirection] == ["long", "short", "flat"]
    with pytest.raises(ValidationError, match="direction"):
        Signal.model_validate({"strategy_id": "s", "symbol": "AAPL", "direction": "up"})


# ------------------------------------------------------------------------ risk decisions


def test_risk_decision_approving_a_resized_order() -> None:
    asked = OrderRequest(strategy_id="s", symbol="AAPL", side=Side.BUY, quantity=D(200))
    sized = OrderRequest(strategy_id="s", symbol="AAPL", side=Side.BUY, quantity=D(133))
    # cap 10000 / price 75 = 133.33 -> 133 whole shares
    decision = RiskDecision(
        timestamp=T0,
        intent=asked,
        order=sized,
        approved=True,
        reason="resized to the position cap",
        figures={"cap": D(10000), "price": D(75)},
    )
    assert decision.intent == asked
    assert decision.order is not None
    assert decision.order.quantity == D(133)
    assert decision.figures["cap"] / decision.figures["price"] > D(133)


def test_risk_decision_rejecting_a_signal() -> None:
    sig = Signal(strategy_id="s", symbol="AAPL", direction=SignalDirection.SHORT)
    decision = RiskDecision(timestamp=T0, intent=sig, order=None, approved=False, reason="no")
    assert isinstance(decision.intent, Signal)
    assert decision.order is None
    assert decision.figures == {}


def test_risk_decision_parses_figures_as_decimal_and_needs_aware_time() -> None:
    sig = Signal(strategy_id="s", symbol="AAPL", direction=SignalDirection.LONG)
    decision = RiskDecision.model_validate(
        {"timestamp": T0, "intent": sig, "order": None, "approved": False, "figures": {"x": "0.1"}}
    )
    assert decision.figures == {"x": D("0.1")}
    with pytest.raises(ValidationError, match="timestamp"):
        RiskDecision.model_validate(
            {
                "timestamp": datetime(2024, 1, 2, 16),  # noqa: DTZ001
                "intent": sig,
                "order": None,
                "approved": False,
            }
        )
