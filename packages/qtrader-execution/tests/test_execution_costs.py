"""Slippage and commissions, with the arithmetic worked by hand."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from qtrader.execution import (
    BarPrices,
    BpsSlippage,
    CommissionModel,
    ExecutionConfig,
    ExecutionError,
    NoCommission,
    NoSlippage,
    PercentCommission,
    PerShareCommission,
    SimulatedExecutionService,
    load_execution_config,
)
from qtrader.models import BarSlice, OrderRequest, OrderType, Side
from qtrader.models.testing import make_bar, ny_close
from qtrader.models.testing.builders import ny_open

D1, D2 = date(2024, 1, 2), date(2024, 1, 3)
D = Decimal


def request(
    side: Side = Side.BUY, quantity: str = "100", *, limit: str | None = None
) -> OrderRequest:
    return OrderRequest(
        strategy_id="s1",
        symbol="AAA",
        side=side,
        quantity=D(quantity),
        type=OrderType.MARKET if limit is None else OrderType.LIMIT,
        limit_price=None if limit is None else D(limit),
    )


def bar(o: float, h: float, lo: float, c: float) -> BarSlice:
    return BarSlice.from_bars(
        [make_bar("AAA", D2, c, open=o, high=h, low=lo)], opened_at=ny_open(D2)
    )


def run(config: Mapping[str, Any], order: OrderRequest, ohlc: tuple[float, ...]) -> tuple[D, D]:
    svc = SimulatedExecutionService(load_execution_config(config))
    svc.submit(order, at=ny_close(D1))
    (fill,) = svc.process(bar(*ohlc)).fills
    return fill.price, fill.commission


def test_bps_slippage_buy_pays_more() -> None:
    # Open 100, 10 bp: 100 x (1 + 10/10000) = 100 x 1.001 = 100.1 (outside the bar's high of
    # 100.05: slippage is a cost applied after the model price).
    price, _ = run({"slippage": {"model": "bps", "bps": 10}}, request(), (100, 100.05, 99, 100))
    assert price == D("100.1")


def test_bps_slippage_sell_receives_less() -> None:
    # Open 50, 10 bp: 50 x (1 - 0.001) = 50 x 0.999 = 49.95.
    price, _ = run(
        {"slippage": {"model": "bps", "bps": 10}}, request(Side.SELL), (50, 51, 49.99, 50)
    )
    assert price == D("49.95")


def test_bps_slippage_never_pushes_a_limit_past_its_limit() -> None:
    # Buy limit 100, opens at 99.95: model price 99.95; slipped 99.95 x 1.001 = 100.04995,
    # worse than the limit, so the trader gets the limit, 100.
    price, _ = run(
        {"slippage": {"model": "bps", "bps": 10}}, request(limit="100"), (99.95, 100, 99, 99.5)
    )
    assert price == D(100)
    # Sell limit 50, opens at 50.02: slipped 50.02 x 0.999 = 49.96998 < 50, so 50.
    price, _ = run(
        {"slippage": {"model": "bps", "bps": 10}},
        request(Side.SELL, limit="50"),
        (50.02, 50.5, 50, 50.1),
    )
    assert price == D(50)
    # Within the limit it slips normally: buy limit 101, open 99.95 -> 100.04995.
    price, _ = run(
        {"slippage": {"model": "bps", "bps": 10}}, request(limit="101"), (99.95, 100, 99, 99.5)
    )
    assert price == D("100.04995")


def test_per_share_commission_with_minimum() -> None:
    config = {"commission": {"model": "per_share", "rate": "0.005", "minimum": "1.00"}}
    # 100 shares x 0.005 = 0.50, below the 1.00 minimum: 1.00.
    _, commission = run(config, request(quantity="100"), (20, 20, 20, 20))
    assert commission == D("1.00")
    # 1000 shares x 0.005 = 5.000, above the minimum.
    _, commission = run(config, request(quantity="1000"), (20, 20, 20, 20))
    assert commission == D("5.000")


def test_per_share_commission_maximum() -> None:
    config = {
        "commission": {"model": "per_share", "rate": "0.005", "minimum": "1", "maximum": "20"}
    }
    # 10,000 shares x 0.005 = 50, capped at 20.
    _, commission = run(config, request(quantity="10000"), (20, 20, 20, 20))
    assert commission == D(20)


def test_percent_commission() -> None:
    # rate 0.001 (0.1%) of notional: 30 x 123.45 = 3703.50; x 0.001 = 3.7035.
    config = {"commission": {"model": "percent", "rate": "0.001"}}
    price, commission = run(config, request(quantity="30"), (123.45, 124, 123, 123.5))
    assert price == D("123.45")
    assert commission == D("3.7035")
    # With a 5.00 minimum the same fill pays 5.00.
    config_min: dict[str, Any] = {"commission": {"model": "percent", "rate": "0.001", "minimum": 5}}
    _, commission = run(config_min, request(quantity="30"), (123.45, 124, 123, 123.5))
    assert commission == D(5)


def test_percent_commission_is_on_the_slipped_price() -> None:
    # Open 200, 25 bp: 200 x 1.0025 = 200.5; 10 shares -> notional 2005; x 0.002 = 4.01.
    config = {
        "slippage": {"model": "bps", "bps": 25},
        "commission": {"model": "percent", "rate": "0.002"},
    }
    price, commission = run(config, request(quantity="10"), (200, 201, 199, 200))
    assert (price, commission) == (D("200.5"), D("4.01"))


def test_commission_minimum_and_cap_are_per_order_across_partial_fills() -> None:
    # The service charges each fill the increase of the order's total. Filling 1000 shares
    # at 0.005/share, minimum 1, in parts of 10, 190 and 800:
    #   after 10:   10 x 0.005 = 0.05  -> total max(0.05, 1) = 1.00, charged 1.00
    #   after 200: 200 x 0.005 = 1.00  -> total 1.00, charged 0
    #   after 1000: 1000 x 0.005 = 5.00 -> total 5.00, charged 4.00
    # 1.00 + 0 + 4.00 = 5.00, what one fill of 1000 pays, not three minimums.
    model = PerShareCommission(D("0.005"), minimum=D(1))
    day = ny_close(D2)
    costs = [model.fill_cost(D(q), D(20), day) for q in (10, 190, 800)]
    assert costs == [D("0.050"), D("0.950"), D("4.000")]
    totals = [
        model.order_total(sum(costs[: k + 1], D(0)), D(q), D(0))
        for k, q in enumerate((10, 200, 1000))
    ]
    charges = [b - a for a, b in zip([D(0), *totals], totals, strict=False)]
    assert charges == [D("1.00"), D(0), D("4.00")]
    assert sum(charges) == model.order_total(D("5.000"), D(1000), D(0))
    # A cap of 3 is reached on the way: charges 1.00, 0, 2.00.
    capped = PerShareCommission(D("0.005"), minimum=D(1), maximum=D(3))
    assert [capped.order_total(D(c), D(0), D(0)) for c in ("0.05", "1.00", "5.00")] == [
        D(1),
        D(1),
        D(3),
    ]
    percent = PercentCommission(D("0.001"), maximum=D(2))
    assert percent.fill_cost(D(10), D(500), day) == D(5)  # 10 x 500 x 0.001 = 5
    assert percent.order_total(D(5), D(10), D(5000)) == D(2)  # 5, capped at 2
    assert NoCommission().fill_cost(D(10), D(500), day) == D(0)
    assert NoCommission().order_total(D(0), D(10), D(5000)) == D(0)


def test_injected_models_replace_the_configured_ones() -> None:
    class Flat:
        def fill_cost(self, quantity: Decimal, price: Decimal, at: datetime) -> Decimal:
            return D(0)

        def order_total(self, cost: Decimal, quantity: Decimal, notional: Decimal) -> Decimal:
            return D("2.5")

    assert isinstance(Flat(), CommissionModel)
    svc = SimulatedExecutionService(
        ExecutionConfig.model_validate({"slippage": {"model": "bps", "bps": 50}}),
        slippage=NoSlippage(),
        commission=Flat(),
    )
    svc.submit(request(), at=ny_close(D1))
    (fill,) = svc.process(bar(10, 10, 10, 10)).fills
    assert (fill.price, fill.commission) == (D("10.0"), D("2.5"))


def test_a_commission_model_that_lowers_the_total_is_an_error() -> None:
    class Rebate:
        def fill_cost(self, quantity: Decimal, price: Decimal, at: datetime) -> Decimal:
            return D(0)

        def order_total(self, cost: Decimal, quantity: Decimal, notional: Decimal) -> Decimal:
            return D(-1)

    svc = SimulatedExecutionService(commission=Rebate())
    svc.submit(request(), at=ny_close(D1))
    with pytest.raises(ExecutionError, match=r"lowered order O-000001's total commission"):
        svc.process(bar(10, 10, 10, 10))


def test_bps_slippage_refuses_out_of_range_bps() -> None:
    with pytest.raises(ValueError, match=r"bps must be in \[0, 10000\)"):
        BpsSlippage(D(10000))
    flat_bar = BarPrices(D(12), D(13), D(12), D(13))
    assert BpsSlippage(D(0)).slipped(D("12.34"), Side.BUY, D(1), flat_bar) == D("12.34")


def test_the_config_describes_itself_in_one_line() -> None:
    from qtrader.execution import ExecutionConfig  # noqa: PLC0415

    config = ExecutionConfig.model_validate(
        {
            "fill": {"participation": "0.1"},
            "slippage": {"model": "bps", "bps": 5},
            "commission": {"model": "per_share", "rate": "0.005", "minimum": 1},
        }
    )
    assert config.describe() == (
        "fills: next_open (decided at a bar's close, active from the next bar; market orders "
        "at its open), participation=0.1, bracket_conflict=stop_loss; slippage: bps (bps=5); "
        "commission: per_share (minimum=1, rate=0.005)"
    )
