"""``source: yahoo``: yfinance CSVs are split-adjusted prices plus dividends as actions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from qtrader.data import (
    AnomalyAction,
    DataError,
    HistoricalDataService,
    UnknownSymbolError,
    open_data_service,
)
from qtrader.data.yahoo import SOURCE, YahooBarSource, YahooDataConfig
from qtrader.models import CashDividend, PriceAdjustment, StreamRequest

NY = ZoneInfo("America/New_York")
HEADER = "Date,Open,High,Low,Close,Adj Close,Volume,Dividends,Stock Splits\n"
# Old yfinance wrote plain dates; newer versions write the session's midnight with the
# exchange's UTC offset. Both mean the same sessions.
OLD = ["2020-01-02", "2020-01-03", "2020-01-06"]
NEW = [
    "2020-01-02 00:00:00-05:00",
    "2020-01-03 00:00:00-05:00",
    "2020-01-06 00:00:00-05:00",
]


def rows(dates: list[str], dividends: tuple[str, str, str] = ("0.0", "0.0", "0.0")) -> str:
    prices = [
        "74.06,75.15,73.80,75.09,72.88,135480400",
        "74.29,75.14,74.13,74.36,72.17,146322800",
        "73.45,74.99,73.19,74.95,72.74,118387200",
    ]
    return "".join(
        f"{d},{p},{div},0.0\n" for d, p, div in zip(dates, prices, dividends, strict=True)
    )


def service(folder: Path, **options: object) -> HistoricalDataService:
    return open_data_service("yahoo", {"path": folder, **options})


def load_error(folder: Path, text: str) -> DataError:
    (folder / "A.csv").write_text(text)
    with pytest.raises(DataError) as caught:
        service(folder).load("A")
    return caught.value


@pytest.mark.parametrize("dates", [OLD, NEW], ids=["plain dates", "midnight with offset"])
def test_prices_are_split_adjusted_and_dividends_are_actions(
    tmp_path: Path, dates: list[str]
) -> None:
    (tmp_path / "AAPL.csv").write_text(HEADER + rows(dates, ("0.0", "0.1925", "0.0")))
    svc = service(tmp_path)
    assert svc.price_adjustment is PriceAdjustment.SPLIT_ADJUSTED
    slices = list(
        svc.stream(StreamRequest(symbols=("AAPL",), start=date(2020, 1, 2), end=date(2020, 1, 6)))
    )
    # Daily bars at 16:00 New York on the date part of each row.
    assert [s.timestamp for s in slices] == [datetime(2020, 1, d, 16, tzinfo=NY) for d in (2, 3, 6)]
    # Open/High/Low/Close as written (Adj Close 72.88... is not used).
    assert [float(s.close[0]) for s in slices] == [75.09, 74.36, 74.95]
    assert slices[0].bar("AAPL").open == 74.06
    assert float(slices[0].volume[0]) == 135480400.0
    dividend = CashDividend(symbol="AAPL", ex_date=date(2020, 1, 3), amount=Decimal("0.1925"))
    assert [s.actions for s in slices] == [(), (dividend,), ()]
    assert svc.anomalies == ()


def test_dividend_amounts_go_through_str_of_the_float(tmp_path: Path) -> None:
    # float("0.23000000000000001") is the double nearest 0.23, whose str is "0.23".
    (tmp_path / "A.csv").write_text(
        HEADER + rows(OLD, ("0.23000000000000001", "", "1.50"))  # empty: no dividend
    )
    assert service(tmp_path).actions("A") == (
        CashDividend(symbol="A", ex_date=date(2020, 1, 2), amount=Decimal("0.23")),
        CashDividend(symbol="A", ex_date=date(2020, 1, 6), amount=Decimal("1.5")),
    )


@pytest.mark.parametrize(
    ("dividend", "line"),
    [("abc", 3), ("-0.5", 3), ("nan", 3), ("inf", 3)],
)
def test_a_bad_dividend_names_file_and_line(tmp_path: Path, dividend: str, line: int) -> None:
    error = load_error(tmp_path, HEADER + rows(OLD, ("0.0", dividend, "0.0")))
    assert (error.path, error.line) == (tmp_path / "A.csv", line)
    assert error.message == (
        f"dividend {dividend!r} is not a number >= 0 (yfinance writes 0 when there is none)"
    )


def test_a_bad_split_cell_names_file_and_line(tmp_path: Path) -> None:
    text = HEADER + rows(OLD).replace("118387200,0.0,0.0", "118387200,0.0,x")
    error = load_error(tmp_path, text)
    assert str(error) == (
        f"{tmp_path / 'A.csv'}, line 4: stock split ratio 'x' is not a number >= 0 "
        "(yfinance writes 0 when there is none)"
    )


def test_stock_splits_are_not_actions_and_adjusted_prices_pass_the_cross_check(
    tmp_path: Path,
) -> None:
    # A 4-for-1 split on 2020-08-31 in split-adjusted prices: close 124.81 the day before,
    # open 127.58 on the ex-date (a 2% move, not a fall to a quarter).
    (tmp_path / "A.csv").write_text(
        HEADER + "2020-08-28,126.01,126.44,124.58,124.81,122.82,187630000,0.0,0.0\n"
        "2020-08-31,127.58,131.00,126.00,129.04,126.98,225702700,0.0,4.0\n"
    )
    svc = service(tmp_path)
    assert svc.actions("A") == ()
    assert svc.anomalies == ()


def test_a_split_that_shows_in_the_prices_is_reported(tmp_path: Path) -> None:
    # Unadjusted prices: close 499.23, then open 127.58 on the 4-for-1 ex-date.
    # 499.23 / 127.58 = 3.913, within 3% of 4: the prices carry the split unadjusted.
    (tmp_path / "A.csv").write_text(
        HEADER + "2020-08-28,504.05,505.77,498.31,499.23,122.82,46907500,0.0,0.0\n"
        "2020-08-31,127.58,131.00,126.00,129.04,126.98,225702700,0.0,4.0\n"
        "2020-09-01,132.76,134.80,130.53,134.18,132.04,151948100,0.0,1.05\n"
    )
    svc = service(tmp_path)
    assert len(svc.series("A")) == 3
    (reported,) = svc.anomalies
    assert (reported.line, reported.date, reported.action) == (
        3,
        "2020-08-31",
        AnomalyAction.REPORTED,
    )
    assert reported.problem.startswith(
        "Stock Splits is 4 and the price gaps by 3.913x overnight (close 499.23 -> open 127.58)"
    )


def test_a_split_on_the_first_row_cannot_be_checked(tmp_path: Path) -> None:
    (tmp_path / "A.csv").write_text(
        HEADER + "2020-08-31,127.58,131.00,126.00,129.04,126.98,225702700,0.0,4.0\n"
    )
    assert service(tmp_path).anomalies == ()


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits\n",
            "no 'Adj Close' column: this looks like yfinance's auto_adjust=True output",
        ),
        (
            "Date,Open,High,Low,Close,Adj Close,Volume\n",
            "no 'Dividends' column: the dividends of these split-adjusted prices would be lost",
        ),
    ],
)
def test_files_without_adj_close_or_dividends_are_refused(
    tmp_path: Path, header: str, message: str
) -> None:
    width = header.count(",") + 1
    row = ",".join(["2020-01-02", "74.06", "75.15", "73.80", "75.09", "72.88", "1", "0", "0"])
    error = load_error(tmp_path, header + ",".join(row.split(",")[:width]) + "\n")
    assert (error.path, error.line) == (tmp_path / "A.csv", 1)
    assert error.message.startswith(message)


def test_missing_bar_columns_are_the_csv_readers_message(tmp_path: Path) -> None:
    error = load_error(tmp_path, "Date,Open,High,Low,Adj Close,Dividends\n2020-01-02,1,1,1,1,0\n")
    assert error.message.startswith("missing column(s) 'Close', 'Volume': expected ")


def test_a_time_of_day_is_refused(tmp_path: Path) -> None:
    error = load_error(tmp_path, HEADER + rows(["2020-01-02 09:30:00-05:00", *OLD[1:]]))
    assert (error.path, error.line) == (tmp_path / "A.csv", 2)
    assert error.message.startswith("2020-01-02 09:30:00-05:00: a time of day in a daily history")


def test_strict_bad_price_names_the_line(tmp_path: Path) -> None:
    text = HEADER + rows(OLD).replace("74.29,75.14,74.13", "74.29,73.00,74.13")
    error = load_error(tmp_path, text)
    assert str(error) == f"{tmp_path / 'A.csv'}, line 3: 2020-01-03: high 73.0 is below low 74.13"


def test_repair_keeps_the_dividend_of_a_dropped_row_once(tmp_path: Path) -> None:
    # Line 3 has high < low: dropped under repair, but its dividend is still paid.
    # Line 5 repeats 2020-01-06 with another dividend: the first row of a date wins.
    body = rows(OLD, ("0.0", "0.5", "0.25")).replace("74.29,75.14,74.13", "74.29,73.00,74.13")
    body += "2020-01-06,73.45,74.99,73.19,74.95,72.74,1,0.99,0.0\n"
    (tmp_path / "A.csv").write_text(HEADER + "\n" + body)  # a blank line 2: still counted
    svc = service(tmp_path, validation="repair")
    assert svc.series("A").sessions.astype(str).tolist() == ["2020-01-02", "2020-01-06"]
    assert svc.actions("A") == (
        CashDividend(symbol="A", ex_date=date(2020, 1, 3), amount=Decimal("0.5")),
        CashDividend(symbol="A", ex_date=date(2020, 1, 6), amount=Decimal("0.25")),
    )
    assert [(a.line, a.action) for a in svc.anomalies] == [
        (4, AnomalyAction.DROPPED),
        (6, AnomalyAction.DROPPED),
    ]


def test_a_dividend_on_an_unparsable_date_is_not_paid(tmp_path: Path) -> None:
    # Repair drops the row (reported); its dividend has no date to be paid on.
    (tmp_path / "A.csv").write_text(
        HEADER + rows(["2020-01-02", "2020-13-01", "2020-01-06"], ("0", "0.3", "0"))
    )
    svc = service(tmp_path, validation="repair")
    assert svc.actions("A") == ()
    assert [a.line for a in svc.anomalies] == [3]


def test_symbols_unknown_symbol_and_missing_folder(tmp_path: Path) -> None:
    (tmp_path / "B.csv").write_text(HEADER + rows(OLD))
    (tmp_path / "A.csv").write_text(HEADER + rows(OLD))
    (tmp_path / ".hidden.csv").write_text("")
    svc = service(tmp_path)
    assert svc.symbols() == ["A", "B"]
    with pytest.raises(UnknownSymbolError) as caught:
        svc.load("ZZZ")
    assert str(caught.value) == f"{tmp_path}: unknown symbol(s) ZZZ: no ZZZ.csv in the folder"
    with pytest.raises(DataError, match="data folder not found"):
        service(tmp_path / "nowhere")


def test_config_by_name_refuses_a_price_adjustment_key(tmp_path: Path) -> None:
    assert SOURCE.name == "yahoo"
    source = YahooBarSource(YahooDataConfig(path=tmp_path, timezone="Europe/London"))
    assert source.location == str(tmp_path)
    assert str(source.zone) == "Europe/London"
    with pytest.raises(ValidationError, match="price_adjustment"):
        open_data_service("yahoo", {"path": tmp_path, "price_adjustment": "unadjusted"})
