"""Columns are formatted once per column, exactly as value-by-value ``_fmt`` would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from qtrader.engine.output import _column, _figures, _fmt, _intents
from qtrader.models import OrderRequest, OrderStatus, Side, Signal, SignalDirection

NOON = datetime(2024, 1, 2, 12, tzinfo=UTC)
SAME_INSTANT = NOON.astimezone(timezone(timedelta(hours=-5)))

COLUMNS: list[list[object]] = [
    [],
    [None, None],
    ["a", None, "b,c"],
    [
        Decimal("1.50"),
        Decimal("1.5"),
        Decimal("1E+3"),
        Decimal("0"),
        Decimal("-0"),
        Decimal("-0.00"),
    ],
    [None, Decimal("10.5"), None, Decimal("10.50")],
    [Decimal("NaN"), Decimal("Infinity"), Decimal("2")],
    [NOON, SAME_INSTANT, NOON, None],
    [Side.BUY, None, Side.SELL, Side.BUY],
    [OrderStatus.EXPIRED],
    [1, 2.5, "x", None, Decimal(3), Side.SELL, NOON],  # mixed
    [True, False],
    [timedelta(days=1)],
]


@pytest.mark.parametrize("values", COLUMNS)
def test_a_column_prints_as_its_values_one_by_one(values: list[object]) -> None:
    assert _column(values) == [_fmt(v) for v in values]


def test_equal_instants_in_two_zones_keep_their_own_offsets() -> None:
    assert _column([NOON, SAME_INSTANT]) == [
        "2024-01-02T12:00:00+00:00",
        "2024-01-02T07:00:00-05:00",
    ]


def test_figures_and_intents_print_as_before() -> None:
    figures = [
        {"b": Decimal("2.50"), "a": Decimal("-0"), "c": Decimal("2.5")},
        {},
        {"x": Decimal(0)},
    ]
    assert _figures(figures) == ["a=-0;b=2.5;c=2.5", "", "x=0"]
    buy = OrderRequest(strategy_id="s", symbol="A", side=Side.BUY, quantity=Decimal("100"))
    sell = OrderRequest(strategy_id="s", symbol="A", side=Side.SELL, quantity=Decimal("1E+2"))
    long = Signal(strategy_id="s", symbol="A", direction=SignalDirection.LONG)
    assert _intents([buy, sell, buy, long]) == [
        "buy 100 market",
        "sell 100 market",
        "buy 100 market",
        "signal long",
    ]
