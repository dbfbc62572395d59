"""Order contracts: Side, OrderRequest price rules, Order, Fill cash flow, reports."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from qtrader.models import (
    ExecutionReport,
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
)

D = Decimal
EST = timezone(timedelta(hours=-5))
T0 = datetime(2024, 1, 2, 16, 0, tzinfo=EST)


def request(**overrides: Any) -> OrderRequest:
    fields: dict[str, Any] = {
        "strategy_id": "sma",
        "symbol": "AAPL",
        "side": "buy",
        "quantity": "100",
    }
    fields.update(overrides)
    return OrderRequest.model_validate(fields)


def fill(**overrides: Any) -> Fill:
    fields: dict[str, Any] = {
        "id": "F-1",
        "order_id": "O-1",
        "strategy_id": "sma",
        "symbol": "AAPL",
        "side": Side.BUY,
        "quantity": D(100),
        "price": D("75.00"),
        "commission": D("1.00"),
        "timestamp": T0,
    }
    fields.update(overrides)
    return Fill.model_validate(fields)


# ---------------------------------------------------------------------------------- enums


def test_side_sign() -> None:
    assert Side.BUY.sign == 1
    assert Side.SELL.sign == -1
    assert Side("sell") is Side.SELL


def test_enum_values_are_stable_strings() -> None:
    # These strings appear in configs and output files; renaming them breaks both.
    assert [t.value for t in OrderType] == [
        "market",
        "limit",
        "stop",
        "stop_limit",
        "trailing_stop",
        "market_on_open",
        "market_on_close",
    ]
    assert [t.value for t in TimeInForce] == ["day", "gtc", "gtd", "ioc", "fok"]
    assert [s.value for s in OrderStatus] == [
        "accepted",
        "partially_filled",
        "filled",
        "cancelled",
        "expired",
        "rejected",
        "replaced",
    ]


# --------------------------------------------------------------------------- OrderRequest


def test_order_request_defaults_to_a_gtc_market_order() -> None:
    req = request()
    assert req.type is OrderType.MARKET
    assert req.time_in_force is TimeInForce.GTC
    assert req.limit_price is None
    assert req.stop_price is None
    assert req.tag is None
    assert req.quantity == D(100)


@pytest.mark.parametrize(
    ("order_type", "limit", "stop"),
    [
        ("market", None, None),
        ("limit", "74.50", None),
        ("stop", None, "76.00"),
        ("stop_limit", "76.50", "76.00"),
    ],
)
def test_each_order_type_accepts_exactly_its_prices(
    order_type: str, limit: str | None, stop: str | None
) -> None:
    req = request(type=order_type, limit_price=limit, stop_price=stop)
    assert req.type == order_type
    assert req.limit_price == (None if limit is None else D(limit))
    assert req.stop_price == (None if stop is None else D(stop))


@pytest.mark.parametrize(
    ("order_type", "limit", "stop", "message"),
    [
        ("market", "74.50", None, "a market order takes no limit_price"),
        ("market", None, "76.00", "a market order takes no stop_price"),
        ("limit", None, None, "a limit order needs limit_price"),
        ("limit", "74.50", "76.00", "a limit order takes no stop_price"),
        ("stop", None, None, "a stop order needs stop_price"),
        ("stop", "74.50", "76.00", "a stop order takes no limit_price"),
        ("stop_limit", None, "76.00", "a stop_limit order needs limit_price"),
        ("stop_limit", "76.50", None, "a stop_limit order needs stop_price"),
    ],
)
def test_order_request_price_rules(
    order_type: str, limit: str | None, stop: str | None, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        request(type=order_type, limit_price=limit, stop_price=stop)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", "0"),
        ("quantity", "-5"),
        ("quantity", "NaN"),
        ("quantity", "Infinity"),
        ("strategy_id", ""),
        ("symbol", ""),
        ("side", "short"),
    ],
)
def test_order_request_rejects_bad_fields(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        request(**{field: value})


@pytest.mark.parametrize("price", ["0", "-1"])
def test_order_request_prices_must_be_positive(price: str) -> None:
    with pytest.raises(ValidationError, match="limit_price"):
        request(type="limit", limit_price=price)
    with pytest.raises(ValidationError, match="stop_price"):
        request(type="stop", stop_price=price)


def test_signed_quantity_follows_the_side() -> None:
    assert request(side="buy", quantity="100").signed_quantity == D(100)
    assert request(side="sell", quantity="2.5").signed_quantity == D("-2.5")


def test_a_float_quantity_becomes_its_exact_decimal() -> None:
    # pydantic converts 0.1 through its shortest repr, not the binary expansion.
    assert request(quantity=0.1).quantity == D("0.1")


def test_order_request_rejects_unknown_fields_and_is_frozen() -> None:
    with pytest.raises(ValidationError, match="qty"):
        request(qty="5")
    req = request()
    with pytest.raises(ValidationError, match="frozen"):
        req.quantity = D(1)  # type: ignore[misc]


# ---------------------------------------------------------------------------------- Order


def test_order_adds_id_and_decision_time_to_a_request() -> None:
    req = request(type="limit", limit_price="74.50", tag="entry")
    order = Order(id="O-1", created_at=T0, **req.model_dump())
    assert order.id == "O-1"
    assert order.created_at == T0
    assert order.limit_price == D("74.50")
    assert order.tag == "entry"
    assert isinstance(order, OrderRequest)
    assert order.signed_quantity == D(100)


def test_order_keeps_the_price_rules_and_needs_an_aware_time() -> None:
    base = request().model_dump()
    with pytest.raises(ValidationError, match="a limit order needs limit_price"):
        Order.model_validate({**base, "type": "limit", "id": "O-1", "created_at": T0})
    with pytest.raises(ValidationError, match="created_at"):
        Order.model_validate(
            {**base, "id": "O-1", "created_at": datetime(2024, 1, 2, 16)}  # noqa: DTZ001
        )
    with pytest.raises(ValidationError, match="id"):
        Order.model_validate({**base, "id": "", "created_at": T0})


# ----------------------------------------------------------------------------------- Fill


def test_cash_flow_of_a_buy() -> None:
    # buy 100 @ 75.00, commission 1.00: -(100 x 75.00) - 1.00 = -7500.00 - 1.00 = -7501.00
    f = fill()
    assert f.signed_quantity == D(100)
    assert f.cash_flow == D("-7501.00")


def test_cash_flow_of_a_sell() -> None:
    # sell 50 @ 76.50, commission 1.00: +(50 x 76.50) - 1.00 = 3825.00 - 1.00 = +3824.00
    f = fill(side=Side.SELL, quantity=D(50), price=D("76.50"))
    assert f.signed_quantity == D(-50)
    assert f.cash_flow == D("3824.00")


def test_cash_flow_is_exact_decimal() -> None:
    # 3 x 0.10 = 0.30 exactly (a float would give 0.30000000000000004); no commission.
    f = fill(quantity=D(3), price=D("0.10"), commission=D(0))
    assert f.cash_flow == D("-0.30")
    assert str(f.cash_flow) == "-0.30"


def test_fill_commission_defaults_to_zero() -> None:
    data = fill().model_dump()
    del data["commission"]
    assert Fill.model_validate(data).commission == D(0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", D(0)),
        ("price", D(0)),
        ("price", D(-1)),
        ("commission", D("-0.01")),
        ("id", ""),
        ("order_id", ""),
        ("timestamp", datetime(2024, 1, 2, 16)),  # noqa: DTZ001
    ],
)
def test_fill_rejects_bad_fields(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        fill(**{field: value})


# ------------------------------------------------------------------ updates and reports


def test_order_update_and_execution_report() -> None:
    update = OrderUpdate(order_id="O-1", status=OrderStatus.CANCELLED, timestamp=T0)
    assert update.reason == ""
    report = ExecutionReport(fills=(fill(),), updates=(update,))
    assert report.fills[0].cash_flow == D("-7501.00")
    assert report.updates == (update,)
    assert ExecutionReport() == ExecutionReport(fills=(), updates=())


def test_order_update_rejects_an_unknown_status() -> None:
    with pytest.raises(ValidationError, match="status"):
        OrderUpdate.model_validate({"order_id": "O-1", "status": "lost", "timestamp": T0})


def test_close_lots_name_each_lot_once_and_never_empty() -> None:
    base = {"strategy_id": "s", "symbol": "AAA", "side": Side.SELL, "quantity": Decimal(5)}
    assert OrderRequest(**base, close_lots=("F1", "F2")).close_lots == ("F1", "F2")
    assert OrderRequest(**base).close_lots == ()
    with pytest.raises(ValidationError, match="a lot is named twice"):
        OrderRequest(**base, close_lots=("F1", "F1"))
    with pytest.raises(ValidationError, match="must not be empty"):
        OrderRequest(**base, close_lots=("F1", ""))
