"""The half-spread and square-root slippage models, slippage recorded on fills, flat and
tiered commissions, and the fill-price guard. Arithmetic worked by hand in the comments."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from qtrader.execution import (
    BarPrices,
    ExecutionConfigError,
    HalfSpreadSlippage,
    SimulatedExecutionService,
    SquareRootSlippage,
    TieredCommission,
    load_execution_config,
)
from qtrader.models import BarSlice, Fill, OrderRequest, OrderStatus, Side
from qtrader.models.testing import make_bar, ny_close
from qtrader.models.testing.builders import ny_open

D1, D2, D3 = date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)
D = Decimal


def bar(o: float, h: float, lo: float, c: float, volume: float = 1000, day: date = D2) -> BarSlice:
    return BarSlice.from_bars(
        [make_bar("AAA", day, c, open=o, high=h, low=lo, volume=volume)], opened_at=ny_open(day)
    )


def request(side: Side = Side.BUY, quantity: str = "100", **fields: Any) -> OrderRequest:
    return OrderRequest(strategy_id="s1", symbol="AAA", side=side, quantity=D(quantity), **fields)


def one_fill(config: Mapping[str, Any], order: OrderRequest, bars: BarSlice) -> Fill:
    svc = SimulatedExecutionService(load_execution_config(config))
    svc.submit(order, at=ny_close(D1))
    (fill,) = svc.process(bars).fills
    return fill


# -- slippage -----------------------------------------------------------------------------


def test_half_spread_from_the_bars_range() -> None:
    # range 102 - 98 = 4; spread 0.5 x 4 = 2; half of it, 1, per share.
    config = {"slippage": {"model": "half_spread", "range_fraction": "0.5"}}
    fill = one_fill(config, request(), bar(100, 102, 98, 101))
    # A buy at the 100 open pays 101: 1 a share, 100 on 100 shares.
    assert (fill.price, fill.slippage_per_share, fill.slippage_cost) == (D(101), D(1), D(100))
    fill = one_fill(config, request(Side.SELL), bar(100, 102, 98, 101))
    assert (fill.price, fill.slippage_per_share, fill.slippage_cost) == (D(99), D(1), D(100))


def test_half_spread_has_a_floor() -> None:
    # A flat bar has no range: the minimum spread 0.02 applies, half of it 0.01.
    config = {"slippage": {"model": "half_spread", "range_fraction": "1", "minimum_spread": "0.02"}}
    fill = one_fill(config, request(), bar(50, 50, 50, 50))
    assert (fill.price, fill.slippage_per_share) == (D("50.01"), D("0.01"))


def test_a_sell_is_never_slipped_below_half_its_price() -> None:
    model = HalfSpreadSlippage(D(1))
    # range 10 - 1 = 9, half 4.5, more than half of a 2.00 price: capped at 1.00.
    assert model.slipped(D(2), Side.SELL, D(1), BarPrices(D(2), D(10), D(1), D(5))) == D(1)
    with pytest.raises(ValueError, match=r"range_fraction must be in \(0, 1\]"):
        HalfSpreadSlippage(D(0))
    with pytest.raises(ValueError, match="minimum_spread must be >= 0"):
        HalfSpreadSlippage(D("0.5"), D(-1))


def test_square_root_impact_with_a_configured_sigma() -> None:
    # sigma 0.02 a bar, coefficient 1: 100 shares of a 10,000-share bar is q/V = 0.01,
    # sqrt 0.1 -> impact 1 x 0.02 x 0.1 = 0.002 of the price. At the 50 open a buy pays
    # 50 x 1.002 = 50.1: 0.1 a share, 10 in all.
    config = {
        "fill": {"participation": "0.25"},
        "slippage": {"model": "square_root", "sigma": "0.02"},
    }
    fill = one_fill(config, request(), bar(50, 51, 49, 50.5, volume=10000))
    assert fill.price == D("50.100")
    assert (fill.slippage_per_share, fill.slippage_cost) == (D("0.100"), D("10.000"))


def test_square_root_impact_with_the_bars_own_volatility() -> None:
    # Parkinson: sigma = ln(high / low) / (2 sqrt(ln 2)). high 110, low 90:
    # ln(1.2222222) = 0.20067070, 2 sqrt(ln 2) = 2 x 0.83255461 = 1.66510922,
    # sigma = 0.20067070 / 1.66510922 = 0.12051503. 400 of 10,000 shares: sqrt(0.04) = 0.2;
    # coefficient 0.5: impact 0.5 x 0.12051503 x 0.2 = 0.012051503. A sell at the 100 open
    # receives 100 x (1 - 0.012051503) = 98.7948497 (98.794850 to six places).
    config = {
        "fill": {"participation": "0.5"},
        "slippage": {"model": "square_root", "coefficient": "0.5"},
    }
    fill = one_fill(config, request(Side.SELL, "400"), bar(100, 110, 90, 100, volume=10000))
    assert fill.price.quantize(D("0.000001")) == D("98.794850")
    assert fill.slippage_per_share.quantize(D("0.000001")) == D("1.205150")


def test_square_root_impact_is_capped() -> None:
    model = SquareRootSlippage(D(10), D("0.5"), max_fraction=D("0.2"))
    # 10 x 0.5 x sqrt(1/1) = 5 of the price: capped at 0.2 -> a buy at 10 pays 12.
    assert model.slipped(D(10), Side.BUY, D(1), BarPrices(D(10), D(10), D(10), D(10), D(1))) == D(
        12
    )
    # A bar without volume has no participation to price: the cap.
    assert model.impact(D(1), BarPrices(D(10), D(10), D(10), D(10), D(0))) == D("0.2")
    for bad in ({"coefficient": D(0)}, {"sigma": D(1)}, {"max_fraction": D(1)}):
        with pytest.raises(ValueError, match="must be"):
            SquareRootSlippage(**bad)


def test_square_root_impact_needs_a_participation_cap() -> None:
    with pytest.raises(ExecutionConfigError, match=r"square_root needs fill\.participation"):
        load_execution_config({"slippage": {"model": "square_root"}})


def test_slippage_recorded_on_a_fill_is_what_remains_after_the_limit_cap() -> None:
    # Buy limit 100, opens 99.95: model price 99.95; 10 bp -> 100.04995, capped at 100.
    # The trader paid 0.05 over the model's price: that is the slippage recorded.
    config = {"slippage": {"model": "bps", "bps": 10}}
    fill = one_fill(
        config, request(quantity="10", type="limit", limit_price=D(100)), bar(99.95, 100, 99, 99.5)
    )
    assert (fill.price, fill.slippage_per_share, fill.slippage_cost) == (
        D(100),
        D("0.05"),
        D("0.50"),
    )


# -- commissions ----------------------------------------------------------------------------


def test_flat_commission_is_charged_once_per_order() -> None:
    # 2.50 per order, with its first fill; the other parts pay nothing.
    svc = SimulatedExecutionService(
        load_execution_config(
            {"fill": {"participation": "0.1"}, "commission": {"model": "flat", "amount": "2.50"}}
        )
    )
    svc.submit(request(quantity="150"), at=ny_close(D1))
    first = svc.process(bar(10, 10, 10, 10)).fills
    second = svc.process(bar(10, 10, 10, 10, day=D3)).fills
    assert [(f.quantity, f.commission) for f in (*first, *second)] == [
        (D(100), D("2.50")),
        (D(50), D(0)),
    ]


def test_ibkr_fixed_matches_the_brokers_published_examples() -> None:
    # interactivebrokers.com, US stocks, Fixed: 0.005 a share, minimum 1.00, maximum 1%
    # of trade value. Their examples: 100 @ 25 -> 1.00 (0.50, raised to the minimum);
    # 1,000 @ 25 -> 5.00; 1,000 @ 0.25 -> 2.50 (5.00 capped at 1% of 250).
    config = {"commission": {"model": "tiered", "preset": "ibkr_pro_fixed"}}
    for quantity, price, expected in (
        ("100", 25, "1.00"),
        ("1000", 25, "5.000"),
        ("1000", 0.25, "2.5000"),
    ):
        fill = one_fill(config, request(quantity=quantity), bar(price, price, price, price))
        assert fill.commission == D(expected)


def test_ibkr_tiered_rates_fall_with_the_months_volume_and_restart_each_month() -> None:
    model = TieredCommission(
        [(300_000, D("0.0035")), (3_000_000, D("0.0020")), (None, D("0.0015"))], minimum=D("0.35")
    )
    january = ny_close(date(2024, 1, 15))
    # 299,900 shares earlier in January: 299,900 x 0.0035 = 1049.65.
    assert model.fill_cost(D(299_900), D(10), january) == D("1049.6500")
    # The next 200 straddle 300,000: 100 x 0.0035 + 100 x 0.0020 = 0.35 + 0.20 = 0.55.
    assert model.fill_cost(D(200), D(10), january) == D("0.5500")
    assert model.month_volume == D(300_100)
    # Further January shares are in the second tier: 10 x 0.0020 = 0.020, under the
    # 0.35 minimum per order.
    assert model.fill_cost(D(10), D(10), january) == D("0.0200")
    assert model.order_total(D("0.0200"), D(10), D(100)) == D("0.35")
    # February starts again at 0.0035: 10 x 0.0035 = 0.035.
    assert model.fill_cost(D(10), D(10), ny_close(date(2024, 2, 1))) == D("0.0350")
    assert model.month_volume == D(10)
    # A fill that crosses two boundaries: from 2,999,990 to 3,000,010 in the tier table:
    # 10 at 0.0020 and 10 at 0.0015 = 0.020 + 0.015 = 0.035.
    crossing = TieredCommission([(3_000_000, D("0.0020")), (None, D("0.0015"))])
    crossing.fill_cost(D(2_999_990), D(1), january)
    assert crossing.fill_cost(D(20), D(1), january) == D("0.0350")


def test_tiered_per_order_bounds() -> None:
    model = TieredCommission(
        [(None, D("0.01"))], minimum=D(1), maximum=D(5), maximum_fraction=D("0.01")
    )
    # 1000 x 0.01 = 10, above the 5 maximum; 1% of a 100,000 notional is 1000: 5.
    assert model.order_total(D(10), D(1000), D(100_000)) == D(5)
    # 1% of a 300 notional is 3: below the 5 maximum and above the minimum: 3.
    assert model.order_total(D(10), D(1000), D(300)) == D(3)
    with pytest.raises(ValueError, match="tiers must end with one that has no end"):
        TieredCommission([(100, D(1))])


def test_ibkr_tiered_preset_through_the_service() -> None:
    # First order of the month: 1,000 x 0.0035 = 3.5000 on a 25,000 notional (cap 250).
    config = {"commission": {"model": "tiered", "preset": "ibkr_pro_tiered"}}
    fill = one_fill(config, request(quantity="1000"), bar(25, 25, 25, 25))
    assert fill.commission == D("3.5000")


@pytest.mark.parametrize(
    ("commission", "message"),
    [
        (
            {"model": "tiered", "preset": "ibkr_pro_fixed", "minimum": 2},
            r"preset ibkr_pro_fixed sets tiers, minimum and maximum_fraction; give either "
            r"the preset or minimum",
        ),
        ({"model": "tiered", "preset": "cheap"}, r"commission\.tiered\.preset: Input should be"),
        (
            {"model": "tiered", "tiers": [{"up_to": 10, "rate": 1}]},
            "only the last tier, and it must, has no up_to",
        ),
        (
            {
                "model": "tiered",
                "tiers": [{"up_to": 10, "rate": 1}, {"up_to": 5, "rate": 1}, {"rate": 1}],
            },
            r"tier ends must increase, got \[10, 5\]",
        ),
        (
            {"model": "tiered", "tiers": [{"rate": 1}], "minimum": 5, "maximum": 1},
            "minimum 5 is above maximum 1",
        ),
        ({"model": "flat", "amount": -1}, r"commission\.flat\.amount"),
    ],
)
def test_bad_commission_configs(commission: dict[str, Any], message: str) -> None:
    with pytest.raises(ExecutionConfigError, match=message):
        load_execution_config({"commission": commission})


def test_an_explicit_tier_table() -> None:
    config = load_execution_config(
        {
            "commission": {
                "model": "tiered",
                "tiers": [{"up_to": 100, "rate": "0.01"}, {"rate": "0.005"}],
            }
        }
    )
    assert config.commission.model == "tiered"


# -- fill-price guard ----------------------------------------------------------------------


def test_a_fill_too_far_from_the_sizing_price_is_cancelled() -> None:
    # Sized at 100, guard 10%: a gap to a 115 open is 15% away -> cancelled, not filled.
    svc = SimulatedExecutionService(load_execution_config({"max_price_deviation": "0.1"}))
    placed = svc.submit(request(sizing_price=D(100)), at=ny_close(D1))
    report = svc.process(bar(115, 116, 114, 115))
    assert report.fills == ()
    (update,) = report.updates
    assert (update.order_id, update.status, update.timestamp) == (
        placed.id,
        OrderStatus.CANCELLED,
        ny_open(D2),
    )
    assert update.reason == (
        "price guard: a fill at 115.0 is 15.00% from the sizing price 100 (at most 10.00% allowed)"
    )
    assert svc.open_orders() == ()


def test_a_fill_within_the_guard_goes_through() -> None:
    # 105 is 5% from 100: within 10%.
    config = {"max_price_deviation": "0.1"}
    fill = one_fill(config, request(sizing_price=D(100)), bar(105, 106, 104, 105))
    assert fill.price == D(105)
    # Without a sizing price, or without the guard, nothing is checked.
    assert one_fill(config, request(), bar(200, 200, 200, 200)).price == D(200)
    assert one_fill({}, request(sizing_price=D(100)), bar(200, 200, 200, 200)).price == D(200)
