"""Columns are formatted once per column, exactly as value-by-value ``_fmt`` would, and
tables are written byte for byte as ``csv.writer`` writes them."""

from __future__ import annotations

import csv
import gc
import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qtrader.analytics import files as output
from qtrader.analytics import result_tables
from qtrader.analytics.files import _column, _csv, _figures, _fmt, _intents, _Stamps
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


# ---- Decimals through ``str``: the same text as ``_fmt``, whatever the column holds ----

DECIMAL_COLUMNS: list[list[Decimal | None]] = [
    # plain numbers: ``str`` less the trailing zeros of the fraction
    [Decimal("1189.311500"), Decimal("100.00"), Decimal("-0.50"), Decimal("12")],
    [Decimal("0.000"), Decimal("-0.0"), Decimal("-0"), None, Decimal("0.000001")],
    # an exponent in the column (``str`` gives 1E-7, 0E-8, 1E+3): value by value
    [Decimal("1E-7"), Decimal("1.50")],
    [Decimal("0E-8"), Decimal("2.0")],
    [Decimal("1E+3"), Decimal("3")],
    # more digits than the context's precision (28): normalize() rounds them
    [Decimal("1.00000000000000000000000000001"), Decimal("5.10")],
]


@pytest.mark.parametrize("values", DECIMAL_COLUMNS)
def test_a_decimal_column_prints_as_its_values_one_by_one(values: list[Decimal | None]) -> None:
    assert _column(values) == [_fmt(v) for v in values]


def test_decimals_print_as_worked_by_hand() -> None:
    column = [Decimal("1189.311500"), Decimal("100.00"), Decimal("-0.50"), Decimal("-0.0")]
    assert _column(column) == ["1189.3115", "100", "-0.5", "-0"]
    assert _column([Decimal("1E+3"), Decimal("2.50")]) == ["1000", "2.5"]


def test_a_narrow_context_rounds_as_normalize_does() -> None:
    # normalize() rounds to the context's 5 digits: 123456.7 -> 1.2346E+5 -> "123460"
    with localcontext(prec=5):
        assert _column([Decimal("123456.7"), Decimal("1.5")]) == ["123460", "1.5"]
    # an exponent range too small for the plain numbers: clamped as normalize() does
    with localcontext(prec=5, Emax=5, clamp=1):
        values = [Decimal("12345"), Decimal("1.0")]
        assert _column(values) == [_fmt(v) for v in values]


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.decimals(allow_nan=True, allow_infinity=True).filter(lambda d: not d.is_snan()),
            st.decimals(places=6, min_value=-(10**9), max_value=10**9),
        ),
        max_size=8,
    )
)
def test_any_decimal_column_prints_as_its_values_one_by_one(
    values: list[Decimal | None],
) -> None:
    assert _column(values) == [_fmt(v) for v in values]


# ---- CSV text: what ``csv.writer`` writes, quoting included ----


def reference_csv(header: Sequence[str], columns: Sequence[Sequence[object]]) -> str:
    """The CSV text as result files were written before: ``csv.writer`` over ``_fmt``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(zip(*([_fmt(v) for v in column] for column in columns), strict=True))
    return buffer.getvalue()


def test_fields_that_need_quotes_are_quoted_as_worked_by_hand() -> None:
    # RFC 4180: a field holding a comma, a quote or a line break goes in quotes, and a
    # quote inside is doubled; other fields are written as they are.
    text = _csv(
        ("a", "b,c"),
        [["x,y", 'say "hi"', "plain"], ["line\nbreak", "", Decimal("2.50")]],
        _Stamps(),
    )
    assert text == 'a,"b,c"\n"x,y","line\nbreak"\n"say ""hi""",\nplain,2.5\n'


def test_a_table_of_one_column_quotes_its_empty_fields() -> None:
    # csv.writer writes a row that is one empty field as "" (an empty line would be no row)
    assert _csv(("a",), [["", "x", None]], _Stamps()) == 'a\n""\nx\n""\n'
    assert _csv(("a",), [["", "x", None]], _Stamps()) == reference_csv(("a",), [["", "x", None]])


def test_a_table_without_rows_is_its_header() -> None:
    assert _csv(("a", "b"), [[], []], _Stamps()) == "a,b\n"


TEXT = st.text(alphabet=st.sampled_from([*'ab ,"\n\t;=', "é"]), max_size=6)
CELL = st.one_of(st.none(), TEXT, st.decimals(places=3, min_value=-1000, max_value=1000))
# Bare carriage returns too: this Python's csv.writer may leave them unquoted (before
# 3.11.9 / 3.12.3), so these tables are checked by reading them back instead.
ANY_TEXT = st.text(alphabet=st.sampled_from([*'ab ,"\r\n\t;=', "é"]), max_size=6)


@given(
    st.integers(min_value=1, max_value=4).flatmap(
        lambda width: st.tuples(
            st.lists(TEXT, min_size=width, max_size=width),
            st.integers(min_value=0, max_value=5).flatmap(
                lambda rows: st.lists(
                    st.lists(CELL, min_size=rows, max_size=rows),
                    min_size=width,
                    max_size=width,
                )
            ),
        )
    )
)
def test_any_table_is_written_as_csv_writer_writes_it(
    table: tuple[list[str], list[list[object]]],
) -> None:
    header, columns = table
    assert _csv(header, columns, _Stamps()) == reference_csv(header, columns)


@given(st.lists(st.lists(ANY_TEXT, min_size=3, max_size=3), min_size=1, max_size=4))
def test_any_text_reads_back_as_written_carriage_returns_included(
    rows: list[list[str]],
) -> None:
    columns = [list(column) for column in zip(*rows, strict=True)]
    text = _csv(("a", "b", "c"), columns, _Stamps())
    assert list(csv.reader(io.StringIO(text, newline=""))) == [["a", "b", "c"], *rows]


def test_a_bare_carriage_return_is_quoted() -> None:
    # Written unquoted (as csv.writer of Python 3.11.7 writes it), "a\rb" read back as two rows.
    assert _csv(("tag",), [["a\rb"]], _Stamps()) == 'tag\n"a\rb"\n'


# ---- datetimes: each object formatted once across the tables of a result ----


class CountingZone(tzinfo):
    """UTC-5 that counts how often an offset is asked (once per ``isoformat``)."""

    def __init__(self) -> None:
        self.asked = 0

    def utcoffset(self, dt: datetime | None) -> timedelta:
        self.asked += 1
        return timedelta(hours=-5)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)


def test_each_datetime_object_is_formatted_once_across_columns() -> None:
    zone = CountingZone()
    open_, close = datetime(2024, 1, 2, 9, 30, tzinfo=zone), datetime(2024, 1, 2, 16, tzinfo=zone)
    stamps = _Stamps()
    assert _column([open_, None, open_], stamps) == [
        "2024-01-02T09:30:00-05:00",
        "",
        "2024-01-02T09:30:00-05:00",
    ]
    assert _column([close, open_], stamps) == [
        "2024-01-02T16:00:00-05:00",
        "2024-01-02T09:30:00-05:00",
    ]
    assert zone.asked == 2  # open_ once, close once


# ---- figures: one table per set of keys ----


def test_figures_of_two_kinds_of_decision_keep_their_rows() -> None:
    approved = {"price": Decimal("10.50"), "cost": Decimal("1050.00")}
    rejected = {"price": Decimal("11")}
    odd = {"a{b}": Decimal(1)}  # braces in a name are text
    assert _figures([approved, rejected, approved, odd, {}]) == [
        "cost=1050;price=10.5",
        "price=11",
        "cost=1050;price=10.5",
        "a{b}=1",
        "",
    ]


# ---- the collector ----


def test_result_tables_pause_the_collector_and_restore_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []

    def tables(result: object, trades: object) -> dict[str, str]:
        seen.append(gc.isenabled())
        return {}

    monkeypatch.setattr(output, "_tables", tables)
    assert gc.isenabled()
    result_tables(None, ())  # type: ignore[arg-type]
    assert gc.isenabled()
    gc.disable()
    try:
        result_tables(None, ())  # type: ignore[arg-type]
        assert not gc.isenabled()  # left as it was
    finally:
        gc.enable()
    assert seen == [False, False]
