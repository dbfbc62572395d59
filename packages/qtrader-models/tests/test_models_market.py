"""Market contracts: Instrument, Bar, corporate actions, BarSlice, StreamRequest."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from qtrader.models import (
    PRICE_FIELDS,
    Bar,
    BarSlice,
    CashDividend,
    CorporateAction,
    Instrument,
    PriceAdjustment,
    Split,
    StreamRequest,
    split_fraction,
)

D = Decimal
EST = timezone(timedelta(hours=-5))
T0 = datetime(2024, 1, 2, 16, 0, tzinfo=EST)
T1 = datetime(2024, 1, 3, 16, 0, tzinfo=EST)


def bar_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "symbol": "AAPL",
        "timestamp": T0,
        "open": 185.0,
        "high": 188.5,
        "low": 183.25,
        "close": 187.0,
        "volume": 1_000_000.0,
    }
    fields.update(overrides)
    return fields


# ----------------------------------------------------------------------------- Instrument


def test_instrument_defaults_are_a_us_equity() -> None:
    inst = Instrument(symbol="AAPL")
    assert inst.currency == "USD"
    assert inst.lot_size == D(1)
    assert inst.tick_size == D("0.01")
    assert inst.timezone == "America/New_York"


@pytest.mark.parametrize(
    "fields",
    [{"symbol": ""}, {"symbol": "A", "lot_size": 0}, {"symbol": "A", "tick_size": "-0.01"}],
)
def test_instrument_rejects_empty_symbol_and_non_positive_sizes(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Instrument.model_validate(fields)


# ----------------------------------------------------------------------------------- Bar


def test_a_valid_bar_keeps_its_values() -> None:
    bar = Bar.model_validate(bar_fields())
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (
        185.0,
        188.5,
        183.25,
        187.0,
        1_000_000.0,
    )
    assert bar.timestamp == T0


def test_a_bar_may_sit_exactly_on_its_extremes_and_trade_nothing() -> None:
    # open == high, close == low, volume 0: all boundaries are inclusive.
    bar = Bar.model_validate(bar_fields(open=188.5, close=183.25, volume=0.0))
    assert bar.volume == 0.0
    flat = Bar.model_validate(bar_fields(open=10.0, high=10.0, low=10.0, close=10.0))
    assert flat.high == flat.low == 10.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"high": 183.0}, "high 183.0 is below low 183.25"),
        ({"open": 189.0}, r"open 189.0 is outside \[low 183.25, high 188.5\]"),
        ({"open": 183.0}, r"open 183.0 is outside \[low 183.25, high 188.5\]"),
        ({"close": 188.75}, r"close 188.75 is outside \[low 183.25, high 188.5\]"),
        ({"close": 183.2}, r"close 183.2 is outside \[low 183.25, high 188.5\]"),
    ],
)
def test_bar_rejects_open_or_close_outside_the_range(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Bar.model_validate(bar_fields(**overrides))


@pytest.mark.parametrize("name", ["open", "high", "low", "close"])
@pytest.mark.parametrize("value", [0.0, -1.0])
def test_bar_prices_must_be_positive(name: str, value: float) -> None:
    with pytest.raises(ValidationError, match=name):
        Bar.model_validate(bar_fields(**{name: value}))


def test_bar_volume_must_not_be_negative() -> None:
    with pytest.raises(ValidationError, match="volume"):
        Bar.model_validate(bar_fields(volume=-1.0))


@pytest.mark.parametrize("name", PRICE_FIELDS)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_bar_rejects_nan_and_infinity(name: str, value: float) -> None:
    with pytest.raises(ValidationError, match=name):
        Bar.model_validate(bar_fields(**{name: value}))


def test_bar_rejects_a_naive_timestamp() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        Bar.model_validate(bar_fields(timestamp=datetime(2024, 1, 2, 16, 0)))  # noqa: DTZ001


def test_bar_parses_an_iso_timestamp_with_offset() -> None:
    bar = Bar.model_validate(bar_fields(timestamp="2024-01-02T16:00:00-05:00"))
    assert bar.timestamp == T0
    assert bar.timestamp == datetime(2024, 1, 2, 21, 0, tzinfo=UTC)


def test_bar_rejects_an_empty_symbol() -> None:
    with pytest.raises(ValidationError, match="symbol"):
        Bar.model_validate(bar_fields(symbol=""))


def test_bar_is_frozen_and_hashable() -> None:
    bar = Bar.model_validate(bar_fields())
    with pytest.raises(ValidationError, match="frozen"):
        bar.close = 1.0  # type: ignore[misc]
    assert bar == Bar.model_validate(bar_fields())
    assert len({bar, Bar.model_validate(bar_fields())}) == 1


def test_bar_rejects_an_unknown_field() -> None:
    # A misspelt field must fail loudly, never be absorbed.
    with pytest.raises(ValidationError, match="adj_close"):
        Bar.model_validate(bar_fields(adj_close=186.0))


# ------------------------------------------------------------------- corporate actions


ACTIONS: TypeAdapter[Split | CashDividend] = TypeAdapter(CorporateAction)


def test_split_ratio_is_new_shares_per_old_share() -> None:
    # 4-for-1 (AAPL, 2020-08-31): every old share becomes 4 -> ratio 4.
    forward = Split(symbol="AAPL", ex_date=date(2020, 8, 31), ratio=D(4))
    assert forward.kind == "split"
    assert forward.ratio == D(4)
    # 1-for-10 reverse split: 10 old shares become 1 -> ratio 0.1.
    reverse = Split(symbol="XYZ", ex_date=date(2024, 1, 2), ratio=D("0.1"))
    assert reverse.ratio == D("0.1")


@pytest.mark.parametrize("ratio", ["0", "-4"])
def test_split_ratio_must_be_positive(ratio: str) -> None:
    with pytest.raises(ValidationError, match="ratio"):
        Split.model_validate({"symbol": "AAPL", "ex_date": "2020-08-31", "ratio": ratio})


def test_cash_dividend_fields_and_validation() -> None:
    div = CashDividend(symbol="MSFT", ex_date=date(2024, 2, 14), amount=D("0.75"))
    assert div.kind == "cash_dividend"
    assert div.pay_date is None
    with pytest.raises(ValidationError, match="amount"):
        CashDividend.model_validate({"symbol": "MSFT", "ex_date": "2024-02-14", "amount": "0"})


def test_corporate_action_union_parses_by_kind() -> None:
    split = ACTIONS.validate_python(
        {"kind": "split", "symbol": "AAPL", "ex_date": "2020-08-31", "ratio": "4"}
    )
    assert split == Split(symbol="AAPL", ex_date=date(2020, 8, 31), ratio=D(4))

    div = ACTIONS.validate_python(
        {
            "kind": "cash_dividend",
            "symbol": "MSFT",
            "ex_date": "2024-02-14",
            "amount": "0.75",
            "pay_date": "2024-03-14",
        }
    )
    assert isinstance(div, CashDividend)
    assert div.amount == D("0.75")
    assert div.pay_date == date(2024, 3, 14)


def test_corporate_action_union_round_trips_through_json() -> None:
    original = Split(symbol="NVDA", ex_date=date(2024, 6, 10), ratio=D(10))
    assert ACTIONS.validate_json(ACTIONS.dump_json(original)) == original


@pytest.mark.parametrize(
    "data",
    [
        {"symbol": "AAPL", "ex_date": "2020-08-31", "ratio": "4"},  # no kind
        {"kind": "merger", "symbol": "AAPL", "ex_date": "2020-08-31"},  # unknown kind
        # the fields of a dividend under the kind of a split
        {"kind": "split", "symbol": "MSFT", "ex_date": "2024-02-14", "amount": "0.75"},
    ],
)
def test_corporate_action_union_rejects_bad_kinds(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ACTIONS.validate_python(data)


def test_price_adjustment_values() -> None:
    assert [a.value for a in PriceAdjustment] == [
        "unadjusted",
        "split_adjusted",
        "total_return",
    ]
    assert PriceAdjustment("total_return") is PriceAdjustment.TOTAL_RETURN


# ------------------------------------------------------------------------------ BarSlice


def arrays(*values: float) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.array(values, dtype=np.float64)


def two_symbol_slice(**overrides: Any) -> BarSlice:
    fields: dict[str, Any] = {
        "timestamp": T0,
        "opened_at": T0.replace(hour=9, minute=30),
        "symbols": ("AAPL", "MSFT"),
        "open": arrays(185.0, 370.0),
        "high": arrays(188.5, 375.0),
        "low": arrays(183.25, 368.0),
        "close": arrays(187.0, 372.5),
        "volume": arrays(1000.0, 2000.0),
    }
    fields.update(overrides)
    return BarSlice(**fields)


def test_bar_slice_index_contains_and_len() -> None:
    sl = two_symbol_slice()
    assert len(sl) == 2
    assert sl.index("AAPL") == 0
    assert sl.index("MSFT") == 1
    assert sl.index("GOOG") is None
    assert "MSFT" in sl
    assert "GOOG" not in sl
    assert 3 not in sl
    assert sl.warmup is False
    assert sl.actions == ()


def test_bar_slice_bar_rebuilds_a_validated_bar() -> None:
    sl = two_symbol_slice()
    assert sl.bar("MSFT") == Bar(
        symbol="MSFT",
        timestamp=T0,
        open=370.0,
        high=375.0,
        low=368.0,
        close=372.5,
        volume=2000.0,
    )


def test_bar_slice_bar_of_a_missing_symbol_names_it_and_the_time() -> None:
    sl = two_symbol_slice()
    with pytest.raises(KeyError, match=r"no bar for 'GOOG' at 2024-01-02T16:00:00-05:00"):
        sl.bar("GOOG")


def test_an_empty_bar_slice_is_allowed() -> None:
    empty = two_symbol_slice(
        symbols=(), open=arrays(), high=arrays(), low=arrays(), close=arrays(), volume=arrays()
    )
    assert len(empty) == 0
    assert "AAPL" not in empty


@pytest.mark.parametrize("name", PRICE_FIELDS)
def test_bar_slice_rejects_a_column_of_the_wrong_length(name: str) -> None:
    with pytest.raises(ValueError, match=rf"column '{name}' has shape \(3,\), expected \(2,\)"):
        two_symbol_slice(**{name: arrays(1.0, 2.0, 3.0)})


def test_bar_slice_rejects_a_two_dimensional_column() -> None:
    with pytest.raises(ValueError, match=r"column 'close' has shape \(2, 1\), expected \(2,\)"):
        two_symbol_slice(close=np.array([[187.0], [372.5]]))


@pytest.mark.parametrize("name", ["timestamp", "opened_at"])
def test_bar_slice_rejects_naive_timestamps(name: str) -> None:
    naive = datetime(2024, 1, 2, 16, 0)  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        two_symbol_slice(**{name: naive})


def test_bar_slice_is_frozen() -> None:
    sl = two_symbol_slice()
    with pytest.raises(AttributeError):
        sl.warmup = True  # type: ignore[misc]


def test_from_bars_round_trips_every_bar() -> None:
    aapl = Bar.model_validate(bar_fields())
    msft = Bar.model_validate(
        bar_fields(symbol="MSFT", open=370.0, high=375.0, low=368.0, close=372.5, volume=0.0)
    )
    split = Split(symbol="AAPL", ex_date=date(2024, 1, 2), ratio=D(4))
    opened = T0.replace(hour=9, minute=30)
    sl = BarSlice.from_bars([aapl, msft], opened_at=opened, warmup=True, actions=(split,))
    assert sl.symbols == ("AAPL", "MSFT")
    assert sl.timestamp == T0
    assert sl.opened_at == opened
    assert sl.warmup is True
    assert sl.actions == (split,)
    assert sl.close.dtype == np.float64
    assert sl.close.tolist() == [187.0, 372.5]
    assert sl.bar("AAPL") == aapl
    assert sl.bar("MSFT") == msft


def test_from_bars_defaults_opened_at_to_the_timestamp() -> None:
    sl = BarSlice.from_bars([Bar.model_validate(bar_fields())])
    assert sl.opened_at == sl.timestamp == T0
    assert sl.warmup is False


def test_from_bars_needs_at_least_one_bar() -> None:
    with pytest.raises(ValueError, match="at least one bar"):
        BarSlice.from_bars([])


def test_from_bars_rejects_mixed_timestamps() -> None:
    bars = [Bar.model_validate(bar_fields()), Bar.model_validate(bar_fields(timestamp=T1))]
    with pytest.raises(ValueError, match="must share a timestamp"):
        BarSlice.from_bars(bars)


def test_from_bars_rejects_duplicate_symbols() -> None:
    bars = [Bar.model_validate(bar_fields()), Bar.model_validate(bar_fields(close=186.0))]
    with pytest.raises(ValueError, match=r"duplicate symbols in one slice: \('AAPL', 'AAPL'\)"):
        BarSlice.from_bars(bars)


# ------------------------------------------------------------------------- StreamRequest


def test_stream_request_accepts_a_one_day_range_and_defaults_warmup_to_zero() -> None:
    req = StreamRequest(symbols=("AAPL",), start=date(2024, 1, 2), end=date(2024, 1, 2))
    assert req.warmup_bars == 0


def test_stream_request_rejects_end_before_start() -> None:
    with pytest.raises(ValidationError, match="end 2024-01-01 is before start 2024-01-02"):
        StreamRequest(symbols=("AAPL",), start=date(2024, 1, 2), end=date(2024, 1, 1))


def test_stream_request_rejects_repeated_symbols() -> None:
    with pytest.raises(ValidationError, match="symbols repeat"):
        StreamRequest(
            symbols=("AAPL", "MSFT", "AAPL"), start=date(2024, 1, 2), end=date(2024, 1, 3)
        )


def test_stream_request_needs_a_symbol() -> None:
    with pytest.raises(ValidationError, match="symbols"):
        StreamRequest(symbols=(), start=date(2024, 1, 2), end=date(2024, 1, 3))


def test_stream_request_warmup_must_not_be_negative() -> None:
    with pytest.raises(ValidationError, match="warmup_bars"):
        StreamRequest(
            symbols=("AAPL",), start=date(2024, 1, 2), end=date(2024, 1, 3), warmup_bars=-1
        )
    ok = StreamRequest(
        symbols=("AAPL",), start=date(2024, 1, 2), end=date(2024, 1, 3), warmup_bars=200
    )
    assert ok.warmup_bars == 200


def test_a_trusted_slice_is_the_slice_the_checked_constructor_makes() -> None:
    o, h, lo, c, v = (np.array([x, x + 1.0]) for x in (10.0, 12.0, 9.0, 11.0, 500.0))
    columns = (o, h, lo, c, v)
    split = Split(symbol="B", ex_date=date(2024, 1, 2), ratio=D(2))
    checked = BarSlice(
        timestamp=T0,
        opened_at=T0 - timedelta(hours=6, minutes=30),
        symbols=("A", "B"),
        open=columns[0],
        high=columns[1],
        low=columns[2],
        close=columns[3],
        volume=columns[4],
        warmup=True,
        actions=(split,),
    )
    index = {"A": 0, "B": 1}
    trusted = BarSlice.trusted(
        T0,
        T0 - timedelta(hours=6, minutes=30),
        ("A", "B"),
        index,
        columns,
        warmup=True,
        actions=(split,),
    )
    assert repr(trusted) == repr(checked)
    assert trusted.index("B") == 1
    assert trusted.index("C") is None
    assert "A" in trusted
    assert trusted.close is columns[3]  # no copy
    assert trusted.bar("B") == checked.bar("B")


@pytest.mark.parametrize(
    ("ratio", "fraction"),
    [
        ("4", (4, 1)),
        ("0.1", (1, 10)),
        ("1.5", (3, 2)),
        ("0.3333", (3333, 10000)),  # terminating: taken as written
        # 1-for-3 and 2-for-3 cannot be written exactly: 28 digits stand for them.
        (str(Decimal(1) / Decimal(3)), (1, 3)),
        (str(Decimal(2) / Decimal(3)), (2, 3)),
        (str(Decimal(1) / Decimal(7)), (1, 7)),
        (str(Decimal(1) / Decimal(1500)), (1, 1500)),
    ],
)
def test_split_fraction_is_the_exact_ratio_a_decimal_stands_for(
    ratio: str, fraction: tuple[int, int]
) -> None:
    assert split_fraction(Decimal(ratio)) == fraction


def test_a_ratio_near_no_small_fraction_stays_as_written() -> None:
    ratio = Decimal("0.1234567890123456789")
    assert split_fraction(ratio) == (1234567890123456789, 10**19)
