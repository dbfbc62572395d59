"""The Algoseek adapter end to end on small hand-made files written in tmp_path.

The main fixture, XYZ, pays a 1.02 dividend (ex 2024-01-04) and splits 2-for-1
(ex 2024-01-08); every expected price, volume and amount is worked out by hand
in the comment beside it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from qtrader.data import (
    AnomalyAction,
    DataError,
    HistoricalDataService,
    UnknownSymbolError,
    open_data_service,
)
from qtrader.data.algoseek import AlgoseekBarSource, AlgoseekConfig
from qtrader.data.algoseek._index import build_index
from qtrader.data.algoseek._reader import read_file
from qtrader.models import CashDividend, PriceAdjustment, Split, StreamRequest

HEADER = (
    "TradeDate,Ticker,Open,High,Low,Close,MarketHoursVolume,CumulativePriceFactor,"
    "CumulativeVolumeFactor,AdjustmentFactor,AdjustmentReason,SecId\n"
)


def row(
    day: str,
    ohlcv: str,
    *,
    ticker: str = "XYZ",
    cpf: str = "1.0",
    cvf: str = "1.0",
    factor: str = "",
    reason: str = "",
    sec_id: str = "1001",
) -> str:
    return f"{day} 00:00:00,{ticker},{ohlcv},{cpf},{cvf},{factor},{reason},{sec_id}\n"


# Dividend: factor 0.99 = 1 - 1.02 / 102 (previous close), so CPF becomes 1 / 0.99.
# Split: factor 0.5 (2-for-1), so CPF becomes (1 / 0.99) / 0.5 and CVF 2.
CPF_DIV = repr(1 / 0.99)
CPF_SPLIT = repr(1 / 0.99 / 0.5)
XYZ = [
    row("2024-01-02", "100,102,99,101,1000"),  # line 2
    row("2024-01-03", "101,103,100,102,1100"),  # line 3
    row("2024-01-04", "101,102,100,100.5,1200", cpf=CPF_DIV, factor="0.99", reason="CashDiv"),
    row("2024-01-05", "100,101,99,100,1300", cpf=CPF_DIV),  # line 5
    row(
        "2024-01-08",
        "50,51,49.5,50.5,2800",
        cpf=CPF_SPLIT,
        cvf="2.0",
        factor="0.5",
        reason="Subdiv",
    ),  # line 6
    row("2024-01-09", "51,52,50,51.5,2600", cpf=CPF_SPLIT, cvf="2.0"),  # line 7
]


def write(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "".join(rows))
    return path


def source(folder: Path, **options: object) -> AlgoseekBarSource:
    return AlgoseekBarSource(AlgoseekConfig.model_validate({"path": folder, **options}))


def request(start: date, end: date) -> StreamRequest:
    return StreamRequest(symbols=("XYZ",), start=start, end=end)


def ohlcv(src: AlgoseekBarSource, symbol: str) -> list[list[float]]:
    values: list[list[float]] = src.load(symbol).series.ohlcv.tolist()
    return values


# --- the three views -----------------------------------------------------------------


def test_unadjusted_view_is_as_traded_with_the_split_and_the_dividend(tmp_path: Path) -> None:
    write(tmp_path / "prices.csv", XYZ)
    src = source(tmp_path)
    assert src.price_adjustment is PriceAdjustment.UNADJUSTED
    data = src.load("XYZ")
    assert ohlcv(src, "XYZ")[0] == [100.0, 102.0, 99.0, 101.0, 1000.0]
    assert ohlcv(src, "XYZ")[4] == [50.0, 51.0, 49.5, 50.5, 2800.0]
    assert data.actions == (
        # (1 - 0.99) x 102 (close of 2024-01-03) = 1.02
        CashDividend(symbol="XYZ", ex_date=date(2024, 1, 4), amount=Decimal("1.0200")),
        Split(symbol="XYZ", ex_date=date(2024, 1, 8), ratio=Decimal(2)),
    )
    assert data.anomalies == ()
    # Daily bars are stamped at the 16:00 New York close of their session (21:00 UTC).
    assert data.series.sessions[0] == np.datetime64("2024-01-02")
    assert data.series.timestamps[0] == np.datetime64("2024-01-02T21:00", "ns").astype(np.int64)
    assert data.series.path == tmp_path / "prices.csv"
    assert data.series.lines is not None
    assert data.series.lines.tolist() == [2, 3, 4, 5, 6, 7]


def test_split_adjusted_view_divides_prices_before_the_split_and_keeps_dividends(
    tmp_path: Path,
) -> None:
    write(tmp_path / "prices.csv", XYZ)
    src = source(tmp_path, adjustment="split_adjusted")
    assert src.price_adjustment is PriceAdjustment.SPLIT_ADJUSTED
    rows = ohlcv(src, "XYZ")
    # Rows before the 2-for-1 split: prices / 2, volume x 2.
    assert rows[0] == [50.0, 51.0, 49.5, 50.5, 2000.0]
    assert rows[3] == [50.0, 50.5, 49.5, 50.0, 2600.0]
    # The ex-date row and after are already post-split.
    assert rows[4] == [50.0, 51.0, 49.5, 50.5, 2800.0]
    assert rows[5] == [51.0, 52.0, 50.0, 51.5, 2600.0]
    # 1.02 per old share = 1.02 / 2 = 0.51 per adjusted share; no Split action.
    assert src.load("XYZ").actions == (
        CashDividend(symbol="XYZ", ex_date=date(2024, 1, 4), amount=Decimal("0.51")),
    )


def test_total_return_view_scales_by_cumulative_factors_against_the_last_row(
    tmp_path: Path,
) -> None:
    write(tmp_path / "prices.csv", XYZ)
    src = source(tmp_path, adjustment="total_return")
    rows = np.array(ohlcv(src, "XYZ"))
    # CPF_t / CPF_last: rows 1-2: 1 / (1/0.99/0.5) = 0.495; rows 3-4: 0.5; rows 5-6: 1.
    # Volumes x CVF_last / CVF_t: x 2 before the split, x 1 after.
    expected = [
        [49.5, 50.49, 49.005, 49.995, 2000.0],  # 100, 102, 99, 101 x 0.495
        [49.995, 50.985, 49.5, 50.49, 2200.0],
        [50.5, 51.0, 50.0, 50.25, 2400.0],  # 101, 102, 100, 100.5 x 0.5
        [50.0, 50.5, 49.5, 50.0, 2600.0],
        [50.0, 51.0, 49.5, 50.5, 2800.0],
        [51.0, 52.0, 50.0, 51.5, 2600.0],
    ]
    assert rows == pytest.approx(np.array(expected), rel=1e-12)
    assert src.load("XYZ").actions == ()
    assert src.price_adjustment is PriceAdjustment.TOTAL_RETURN


def test_a_day_price_does_not_change_with_the_requested_end(tmp_path: Path) -> None:
    write(tmp_path / "prices.csv", XYZ)
    for adjustment in ("split_adjusted", "total_return"):
        svc = HistoricalDataService(source(tmp_path, adjustment=adjustment))
        # A stream ending before the split still sees the split-adjusted close of 01-02.
        first = next(iter(svc.stream(request(date(2024, 1, 2), date(2024, 1, 3)))))
        whole = source(tmp_path, adjustment=adjustment).load("XYZ", date(2024, 1, 2), None)
        assert first.close[0] == whole.series.ohlcv[0, 3]
        assert first.close[0] == pytest.approx(50.5 if adjustment == "split_adjusted" else 49.995)


def test_stream_puts_the_dividend_and_the_split_in_the_slices_of_their_ex_dates(
    tmp_path: Path,
) -> None:
    write(tmp_path / "prices.csv", XYZ)
    svc = HistoricalDataService(source(tmp_path))
    slices = list(svc.stream(request(date(2024, 1, 2), date(2024, 1, 9))))
    by_day = {s.timestamp.date(): s.actions for s in slices}
    assert by_day[date(2024, 1, 4)] == (
        CashDividend(symbol="XYZ", ex_date=date(2024, 1, 4), amount=Decimal("1.02")),
    )
    assert by_day[date(2024, 1, 8)] == (
        Split(symbol="XYZ", ex_date=date(2024, 1, 8), ratio=Decimal(2)),
    )
    assert sum(len(a) for a in by_day.values()) == 2
    # The recorded split explains the 100 -> 50 gap: no unrecorded-split report.
    assert svc.anomalies == ()


# --- the vendor's worked examples ----------------------------------------------------


def test_vendor_examples_dividend_splits_and_a_reverse_split(tmp_path: Path) -> None:
    aapl = [
        row("2020-08-06", "441.62,457.65,439.19,455.61,1", ticker="AAPL", sec_id="33449"),
        row(
            "2020-08-07",
            "452.82,454.7,441.17,444.45,1",
            ticker="AAPL",
            factor="0.998200215",
            reason="CashDiv",
            sec_id="33449",
        ),
        row("2020-08-28", "504.05,505.77,498.31,499.23,1", ticker="AAPL", sec_id="33449"),
        row(
            "2020-08-31",
            "127.58,131.0,126.0,129.04,1",
            ticker="AAPL",
            factor="0.25",
            reason="Subdiv",
            sec_id="33449",
        ),
    ]
    amzn = [
        row("2022-06-03", "2619.04,2650,2556,2616.05,1", ticker="AMZN", sec_id="33127"),
        row(
            "2022-06-06",
            "125.25,128.99,123.81,124.79,1",
            ticker="AMZN",
            factor="0.05",
            reason="BonusSame",
            sec_id="33127",
        ),
    ]
    rev = [
        row("2024-03-01", "1,1.1,0.9,1,1", ticker="REV"),
        row("2024-03-04", "10,11,9,10,1", ticker="REV", factor="10", reason="Cons"),
    ]
    old = [
        row("2014-06-06", "649.9,651.26,644.47,645.57,1", ticker="OLD"),
        row(
            "2014-06-09",
            "92.7,93.88,91.75,93.7,1",
            ticker="OLD",
            factor="0.14285714285714285",
            reason="BonusSame",
        ),
    ]
    write(tmp_path / "a.csv", aapl + amzn)
    write(tmp_path / "b.csv", rev + old)
    src = source(tmp_path)
    assert src.load("AAPL").actions == (
        # (1 - 0.998200215) x 455.61 = 0.81999... -> 0.8200
        CashDividend(symbol="AAPL", ex_date=date(2020, 8, 7), amount=Decimal("0.82")),
        Split(symbol="AAPL", ex_date=date(2020, 8, 31), ratio=Decimal(4)),
    )
    assert src.load("AMZN").actions == (
        Split(symbol="AMZN", ex_date=date(2022, 6, 6), ratio=Decimal(20)),
    )
    assert src.load("REV").actions == (
        Split(symbol="REV", ex_date=date(2024, 3, 4), ratio=Decimal("0.1")),
    )
    assert src.load("OLD").actions == (
        Split(symbol="OLD", ex_date=date(2014, 6, 9), ratio=Decimal(7)),
    )
    # Split-adjusted AAPL: 0.82 before the 4-for-1 split is 0.205 per adjusted share,
    # and the close of 2020-08-06 is 455.61 / 4 = 113.9025.
    adjusted = source(tmp_path, adjustment="split_adjusted").load("AAPL")
    assert adjusted.actions == (
        CashDividend(symbol="AAPL", ex_date=date(2020, 8, 7), amount=Decimal("0.205")),
    )
    assert adjusted.series.ohlcv[0, 3] == pytest.approx(113.9025, rel=1e-12)


def test_a_dividend_on_the_first_row_is_reported_not_dropped(tmp_path: Path) -> None:
    write(tmp_path / "p.csv", XYZ[2:])  # starts at the 2024-01-04 ex-date row
    data = source(tmp_path).load("XYZ")
    assert [a.kind for a in data.actions] == ["split"]
    (anomaly,) = data.anomalies
    assert anomaly.action is AnomalyAction.REPORTED
    assert (anomaly.date, anomaly.path, anomaly.line) == ("2024-01-04", tmp_path / "p.csv", 2)
    assert "no previous close" in anomaly.problem


# --- actions of rows dropped under repair -----------------------------------------------


def bad_high(line: str, high: str) -> str:
    """``line`` (a row of XYZ) with its High replaced: below its Low, the row is dropped."""
    fields = line.split(",")
    fields[3] = high
    return ",".join(fields)


def test_a_split_on_a_row_dropped_under_repair_still_applies_from_the_next_bar(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "p.csv", [*XYZ[:4], bad_high(XYZ[4], "49"), XYZ[5]])
    data = source(tmp_path, validation="repair").load("XYZ")
    assert data.series.sessions.astype(str).tolist()[-2:] == ["2024-01-05", "2024-01-09"]
    assert data.actions == (
        CashDividend(symbol="XYZ", ex_date=date(2024, 1, 4), amount=Decimal("1.02")),
        Split(symbol="XYZ", ex_date=date(2024, 1, 8), ratio=Decimal(2)),
    )
    dropped, applied = sorted(data.anomalies, key=lambda a: a.action.value)
    assert (dropped.action, dropped.line) == (AnomalyAction.DROPPED, 6)
    assert (applied.action, applied.path, applied.line) == (AnomalyAction.REPORTED, path, 6)
    assert applied.problem == (
        "the Subdiv (AdjustmentFactor 0.5) of this dropped row is applied at the next bar, "
        "2024-01-09"
    )
    # The stream carries it in the slice of 01-09, the first bar on or after the ex-date.
    svc = HistoricalDataService(source(tmp_path, validation="repair"))
    slices = list(svc.stream(request(date(2024, 1, 2), date(2024, 1, 9))))
    assert slices[-1].timestamp.date() == date(2024, 1, 9)
    assert slices[-1].actions == (Split(symbol="XYZ", ex_date=date(2024, 1, 8), ratio=Decimal(2)),)
    # Split-adjusted: the bars before the ex-date are halved, the 01-09 bar is as traded.
    rows = ohlcv(source(tmp_path, validation="repair", adjustment="split_adjusted"), "XYZ")
    assert rows[0] == [50.0, 51.0, 49.5, 50.5, 2000.0]
    assert rows[-1] == [51.0, 52.0, 50.0, 51.5, 2600.0]


def test_an_action_on_a_dropped_last_row_has_no_bar_to_apply_at_and_says_so(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "p.csv", [*XYZ[:4], bad_high(XYZ[4], "49")])
    data = source(tmp_path, validation="repair").load("XYZ")
    assert [a.kind for a in data.actions] == ["cash_dividend"]
    (reported,) = [a for a in data.anomalies if a.action is AnomalyAction.REPORTED]
    assert (reported.path, reported.line) == (path, 6)
    assert reported.problem == (
        "the Subdiv (AdjustmentFactor 0.5) of this dropped row has no later bar: not applied"
    )


def test_a_dropped_split_and_the_next_bars_split_both_adjust_the_earlier_bars(
    tmp_path: Path,
) -> None:
    # 2-for-1 on 01-08 (its row dropped) and 2-for-1 on 01-09: both apply at 01-09, so the
    # split-adjusted bars before it are divided by 4 (01-05 close 100 -> 25).
    second = row("2024-01-09", "26,27,25,26,5200", cvf="4.0", factor="0.5", reason="Subdiv")
    write(tmp_path / "p.csv", [*XYZ[:4], bad_high(XYZ[4], "49"), second])
    src = source(tmp_path, validation="repair", adjustment="split_adjusted")
    rows = ohlcv(src, "XYZ")
    assert rows[3] == [25.0, 25.25, 24.75, 25.0, 5200.0]
    assert rows[4] == [26.0, 27.0, 25.0, 26.0, 5200.0]


def test_a_dividend_on_a_row_dropped_under_repair_is_still_paid(tmp_path: Path) -> None:
    # The ex-date row has no volume: dropped; its dividend is (1 - 0.99) x 102 = 1.02.
    no_volume = XYZ[2].replace(",1200,", ",,")
    write(tmp_path / "p.csv", [*XYZ[:2], no_volume, *XYZ[3:]])
    data = source(tmp_path, validation="repair").load("XYZ")
    assert "2024-01-04" not in data.series.sessions.astype(str).tolist()
    assert data.actions[0] == CashDividend(
        symbol="XYZ", ex_date=date(2024, 1, 4), amount=Decimal("1.02")
    )
    # Split-adjusted: 1.02 per share before the 2-for-1 split is 0.51 per adjusted share.
    adjusted = source(tmp_path, validation="repair", adjustment="split_adjusted").load("XYZ")
    assert adjusted.actions == (
        CashDividend(symbol="XYZ", ex_date=date(2024, 1, 4), amount=Decimal("0.51")),
    )


def test_a_dividend_is_computed_from_the_previous_row_as_written_even_if_dropped(
    tmp_path: Path,
) -> None:
    # 2024-01-03 has a High below its Low (dropped), but its close of 102 is what the
    # vendor's factor was computed from: (1 - 0.99) x 102 = 1.02, not x 101 (01-02).
    write(tmp_path / "p.csv", [XYZ[0], bad_high(XYZ[1], "99"), *XYZ[2:]])
    data = source(tmp_path, validation="repair").load("XYZ")
    assert data.actions[0] == CashDividend(
        symbol="XYZ", ex_date=date(2024, 1, 4), amount=Decimal("1.02")
    )


def test_a_dividend_whose_previous_close_is_unreadable_is_reported_not_guessed(
    tmp_path: Path,
) -> None:
    no_close = XYZ[1].replace(",102,1100,", ",,1100,")
    path = write(tmp_path / "p.csv", [XYZ[0], no_close, *XYZ[2:]])
    data = source(tmp_path, validation="repair").load("XYZ")
    assert [a.kind for a in data.actions] == ["split"]
    (reported,) = [a for a in data.anomalies if a.action is AnomalyAction.REPORTED]
    assert (reported.path, reported.line, reported.date) == (path, 4, "2024-01-04")
    assert reported.problem == (
        "CashDiv (AdjustmentFactor 0.99): the previous row (2024-01-03) has no close to "
        "compute the dividend from, so it is not paid"
    )


@pytest.mark.parametrize(
    ("factor", "ratio"),
    [("1500", Decimal(1) / Decimal(1500)), ("2000", Decimal("0.0005")), ("4", Decimal("0.25"))],
)
def test_reverse_splits_of_any_size_keep_their_exact_ratio(
    tmp_path: Path, factor: str, ratio: Decimal
) -> None:
    write(
        tmp_path / "p.csv",
        [
            row("2024-03-01", "1,1.1,0.9,1,4000", ticker="REV"),
            row("2024-03-04", "1500,1600,1400,1500,3", ticker="REV", factor=factor, reason="Cons"),
        ],
    )
    assert source(tmp_path).load("REV").actions == (
        Split(symbol="REV", ex_date=date(2024, 3, 4), ratio=ratio),
    )


def test_a_ticker_spelled_like_a_missing_value_is_a_ticker(tmp_path: Path) -> None:
    # "NA" is a Nasdaq ticker (and "NULL", "NAN" could be): pandas reads them as missing.
    write(tmp_path / "p.csv", [row("2024-01-02", "10,11,9,10,1", ticker="NA", sec_id="NA")])
    src = source(tmp_path)
    assert src.symbols() == ["NA"]
    assert src.load("NA").series.close.tolist() == [10.0]


def test_a_volume_factor_that_contradicts_the_reason_is_reported(tmp_path: Path) -> None:
    # The volume factor moves only on a split, by its ratio. Here: a dividend row where it
    # doubles (line 4), the split row where it stays (line 6) and a plain row where it
    # moves (line 7). Each action is applied as its reason and factor say.
    rows = [
        *XYZ[:2],
        row(
            "2024-01-04",
            "101,102,100,100.5,1200",
            cpf=CPF_DIV,
            cvf="2.0",
            factor="0.99",
            reason="CashDiv",
        ),
        row("2024-01-05", "100,101,99,100,1300", cpf=CPF_DIV, cvf="2.0"),
        row(
            "2024-01-08",
            "50,51,49.5,50.5,2800",
            cpf=CPF_SPLIT,
            cvf="2.0",
            factor="0.5",
            reason="Subdiv",
        ),
        row("2024-01-09", "51,52,50,51.5,2600", cpf=CPF_SPLIT, cvf="6.0"),
    ]
    path = write(tmp_path / "p.csv", rows)
    data = source(tmp_path).load("XYZ")
    assert [a.kind for a in data.actions] == ["cash_dividend", "split"]
    assert [(a.line, a.problem) for a in data.anomalies] == [
        (
            4,
            "CashDiv, but the CumulativeVolumeFactor moves by 2 (1 -> 2) as on a split: "
            "applied as the reason says",
        ),
        (
            6,
            "Subdiv of ratio 2, but the CumulativeVolumeFactor moves by 1 (2 -> 2): applied "
            "as the AdjustmentFactor says",
        ),
        (
            7,
            "the CumulativeVolumeFactor moves by 3 (2 -> 6) without an AdjustmentReason: a "
            "split may be missing",
        ),
    ]
    assert {(a.path, a.action) for a in data.anomalies} == {(path, AnomalyAction.REPORTED)}


# --- finding files by content ----------------------------------------------------------


def test_files_are_indexed_by_their_ticker_not_their_name(tmp_path: Path) -> None:
    write(tmp_path / "MSFT.csv", [row("2024-01-02", "10,11,9,10,5", ticker="AMZN")])
    src = source(tmp_path)
    assert src.symbols() == ["AMZN"]
    assert src.load("AMZN").series.ohlcv.tolist() == [[10.0, 11.0, 9.0, 10.0, 5.0]]
    with pytest.raises(UnknownSymbolError) as info:
        src.load("MSFT")
    assert info.value.path == tmp_path
    assert info.value.symbols == ("MSFT",)
    assert "unknown symbol(s) MSFT: no file in the folder has that Ticker" in str(info.value)
    assert str(info.value).startswith(str(tmp_path))


def test_security_master_maps_a_ticker_change_by_date(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write(
        data / "one.csv",
        [
            row("2024-01-02", "10,11,9,10,1", ticker="OLD"),
            row("2024-01-03", "11,12,10,11,1", ticker="OLD"),
            row("2024-01-04", "12,13,11,12,1", ticker="NEW"),
            row("2024-01-05", "13,14,12,13,1", ticker="NEW"),
            row("2024-01-02", "50,51,49,50,1", ticker="OTHER", sec_id="2002"),
        ],
    )
    # In the data folder on purpose: the index skips a security master.
    master = data / "master.csv"
    master.write_text(
        "SecId,Tickers,TickersStartToEndDate,Name\n"
        "1001,OLD;NEW,20240102:20240103;20240104:29991231,Renamed Inc\n"
        "\n"
        "2002,OTHER,20070103:29991231,Other Corp\n"
        "3003,GONE,20070103:20101231,No files\n"
    )
    src = source(data, security_master=master)
    assert src.symbols() == ["NEW", "OLD", "OTHER"]  # never "OLD;NEW"; GONE has no file
    old = src.load("OLD").series
    new = src.load("NEW").series
    assert old.sessions.astype(str).tolist() == ["2024-01-02", "2024-01-03"]
    assert new.sessions.astype(str).tolist() == ["2024-01-04", "2024-01-05"]
    assert new.close.tolist() == [12.0, 13.0]
    with pytest.raises(UnknownSymbolError, match="not in the security master"):
        src.check_symbols(["GONE", "OLD;NEW"])


def test_security_master_path_is_relative_to_the_config_folder(tmp_path: Path) -> None:
    write(tmp_path / "data" / "x.csv", XYZ)
    (tmp_path / "master.csv").write_text(
        "SecId,Tickers,TickersStartToEndDate\n1001,XYZ,20240105:29991231\n"
    )
    svc = open_data_service(
        "algoseek",
        {"path": "data", "security_master": "master.csv", "adjustment": "split_adjusted"},
        base_dir=tmp_path,
    )
    assert svc.symbols() == ["XYZ"]
    series = svc.series("XYZ")
    assert series.sessions.astype(str).tolist() == ["2024-01-05", "2024-01-08", "2024-01-09"]
    # The split (01-08) is after 01-05 in the selected rows: 100 / 2 = 50.
    assert series.close.tolist() == [50.0, 50.5, 51.5]


def test_a_master_ticker_with_no_rows_on_its_dates_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "data" / "x.csv", XYZ)
    master = tmp_path / "m.csv"
    master.write_text("SecId,Tickers,TickersStartToEndDate\n1001,XYZ,20200101:20201231\n")
    with pytest.raises(DataError, match=r"XYZ: no rows .* \(SecId 1001 2020-01-01..2020-12-31\)"):
        source(tmp_path / "data", security_master=master).load("XYZ")


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("SecId,Tickers\n", 1, "missing column(s) TickersStartToEndDate"),
        (
            "SecId,Tickers,TickersStartToEndDate\n1,A;B,20200101:29991231\n",
            2,
            "2 ticker(s) 'A;B' but 1 range(s)",
        ),
        ("SecId,Tickers,TickersStartToEndDate\n1,A,20200101\n", 2, "is not YYYYMMDD:YYYYMMDD"),
        ("SecId,Tickers,TickersStartToEndDate\n1,A,2020-01-01:x\n", 2, "is not a YYYYMMDD date"),
        ("SecId,Tickers,TickersStartToEndDate\n1,A,20200102:20200101\n", 2, "ends before"),
        ("SecId,Tickers,TickersStartToEndDate\n,A,20200101:20200101\n", 2, "missing SecId"),
    ],
)
def test_bad_security_master_rows_name_the_line(
    tmp_path: Path, content: str, line: int, message: str
) -> None:
    write(tmp_path / "data" / "x.csv", XYZ)
    master = tmp_path / "m.csv"
    master.write_text(content)
    with pytest.raises(DataError) as info:
        source(tmp_path / "data", security_master=master).symbols()
    assert (info.value.path, info.value.line) == (master, line)
    assert message in info.value.message


def test_a_missing_or_non_text_master_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "data" / "x.csv", XYZ)
    with pytest.raises(DataError, match="security master not found"):
        source(tmp_path / "data", security_master=tmp_path / "nope.csv").symbols()
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DataError, match="not UTF-8"):
        source(tmp_path / "data", security_master=tmp_path / "bin.csv").symbols()


# --- Hive-partitioned Parquet --------------------------------------------------------


def _parquet_columns(rows: list[str]) -> dict[str, list[object]]:
    cells = [r.rstrip("\n").split(",") for r in rows]
    names = HEADER.strip().split(",")
    columns: dict[str, list[object]] = {}
    for j, name in enumerate(names):
        values = [c[j] for c in cells]
        if name in {"TradeDate", "Ticker", "AdjustmentReason", "SecId"}:
            columns[name] = values
        else:
            columns[name] = [float(v) if v else None for v in values]
    return columns


def test_hive_parquet_without_a_sec_id_column_takes_it_from_the_folder(tmp_path: Path) -> None:
    columns = _parquet_columns(XYZ)
    del columns["SecId"]
    part = tmp_path / "SecId=1001" / "part-0.parquet"
    part.parent.mkdir()
    pq.write_table(pa.table(columns), part)
    (tmp_path / "SecId=1001" / "_SUCCESS").write_text("")
    master = tmp_path / "master.csv"
    master.write_text("SecId,Tickers,TickersStartToEndDate\n1001,XYZ,20240101:29991231\n")
    for options in ({}, {"security_master": master}):
        data = source(tmp_path, **options).load("XYZ")
        assert data.series.path == part
        assert data.series.close.tolist() == [101.0, 102.0, 100.5, 100.0, 50.5, 51.5]
        assert [a.kind for a in data.actions] == ["cash_dividend", "split"]


def test_parquet_dates_may_be_timestamps_and_errors_name_the_row(tmp_path: Path) -> None:
    columns = _parquet_columns(XYZ[:3])
    columns["TradeDate"] = [np.datetime64(f"2024-01-0{d}T00:00", "ns") for d in (2, 3, 4)]
    columns["High"] = [102.0, 99.0, 102.0]  # row 2: high 99 below low 100
    columns["SecId"] = [1001, 1001, 1001]  # numbers are read as text ids
    part = tmp_path / "x.parquet"
    pq.write_table(pa.table(columns), part)
    with pytest.raises(DataError) as info:
        source(tmp_path).load("XYZ")
    assert str(info.value) == f"{part}, row 2: 2024-01-03: high 99.0 is below low 100.0"
    repaired = source(tmp_path, validation="repair").load("XYZ")
    assert repaired.series.sessions.astype(str).tolist() == ["2024-01-02", "2024-01-04"]
    # The dividend uses the previous row's close as written (102 on 01-03, though the row
    # is dropped for its high): (1 - 0.99) x 102 = 1.02, the vendor's dividend.
    assert repaired.actions == (
        CashDividend(symbol="XYZ", ex_date=date(2024, 1, 4), amount=Decimal("1.02")),
    )


def test_parquet_text_numbers_and_date_columns(tmp_path: Path) -> None:
    columns = _parquet_columns(XYZ[:2])
    columns["TradeDate"] = [date(2024, 1, 2), date(2024, 1, 3)]
    columns["Close"] = ["101", "oops"]
    pq.write_table(pa.table(columns), tmp_path / "x.parquet")
    with pytest.raises(DataError, match=r"row 2: 2024-01-03: Close 'oops' is not a number"):
        source(tmp_path).load("XYZ")


def test_parquet_with_unusable_columns_is_refused(tmp_path: Path) -> None:
    columns = _parquet_columns(XYZ[:1])
    columns["TradeDate"] = [1]
    pq.write_table(pa.table(columns), tmp_path / "x.parquet")
    with pytest.raises(DataError, match="column 'TradeDate' has type int64"):
        source(tmp_path).load("XYZ")
    columns = _parquet_columns(XYZ[:1])
    columns["Open"] = [True]
    pq.write_table(pa.table(columns), tmp_path / "x.parquet")
    with pytest.raises(DataError, match="column 'Open' has type bool"):
        source(tmp_path).load("XYZ")
    columns = _parquet_columns(XYZ[:1])
    del columns["Close"]
    pq.write_table(pa.table(columns), tmp_path / "x.parquet")
    with pytest.raises(DataError, match="missing column"):
        source(tmp_path).symbols()
    (tmp_path / "x.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        source(tmp_path).symbols()


# --- several files, one security -----------------------------------------------------


def test_identical_duplicates_across_files_are_merged_silently(tmp_path: Path) -> None:
    write(tmp_path / "secid_1001.csv", XYZ)
    write(tmp_path / "XYZ.csv", XYZ[3:])  # the tail again, as the vendor ships AAPL.csv
    data = source(tmp_path).load("XYZ")
    assert len(data.series) == 6
    assert data.anomalies == ()
    # Every row comes from the larger file, so bars keep a file and a line.
    assert data.series.path == tmp_path / "secid_1001.csv"


def test_rows_from_several_files_merge_by_date(tmp_path: Path) -> None:
    write(tmp_path / "late.csv", XYZ[3:])
    write(tmp_path / "early.csv", XYZ[:3])
    data = source(tmp_path).load("XYZ")
    assert data.series.sessions.astype(str).tolist()[:4] == [
        "2024-01-02",
        "2024-01-03",
        "2024-01-04",
        "2024-01-05",
    ]
    assert data.series.path == tmp_path  # several files: the folder, no single line
    assert data.series.lines is None
    assert len(data.actions) == 2


def test_conflicting_duplicates_name_both_files_and_lines(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", XYZ)
    changed = XYZ[3].replace("100,101,99,100,1300", "100,101,99,100.25,1300")
    write(tmp_path / "b.csv", [XYZ[2], changed])
    with pytest.raises(DataError) as info:
        source(tmp_path).load("XYZ")
    assert str(info.value) == (
        f"{tmp_path / 'b.csv'}, line 3: 2024-01-05: XYZ conflicts with "
        f"{tmp_path / 'a.csv'}, line 5 (close 100 vs 100.25); expected identical rows "
        "for one date"
    )
    repaired = source(tmp_path, validation="repair").load("XYZ")
    assert repaired.series.close.tolist()[3] == 100.0
    (dropped,) = repaired.anomalies
    assert (dropped.action, dropped.path, dropped.line) == (
        AnomalyAction.DROPPED,
        tmp_path / "b.csv",
        3,
    )


def test_duplicates_differing_in_reason_or_sec_id_conflict(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", XYZ[:3])
    write(tmp_path / "b.csv", [XYZ[2].replace(",CashDiv,1001", ",Subdiv,1002")])
    with pytest.raises(DataError, match=r"AdjustmentReason 'CashDiv' vs 'Subdiv'; SecId 1001"):
        source(tmp_path).load("XYZ")


def test_a_conflict_with_a_parquet_file_names_its_row(tmp_path: Path) -> None:
    pq.write_table(pa.table(_parquet_columns(XYZ)), tmp_path / "a.parquet")
    write(tmp_path / "b.csv", [XYZ[0].replace("1000", "999")])
    with pytest.raises(DataError, match=r"a\.parquet, row 1 \(volume 1000 vs 999\)"):
        source(tmp_path).load("XYZ")


# --- bad input -----------------------------------------------------------------------


def test_an_unknown_reason_stops_the_load_naming_reason_file_and_line(tmp_path: Path) -> None:
    rows = [*XYZ[:2], row("2024-01-04", "101,102,100,100.5,1", factor="0.9", reason="Spinoff")]
    write(tmp_path / "p.csv", rows)
    with pytest.raises(DataError) as info:
        source(tmp_path, validation="repair").load("XYZ")
    assert (info.value.path, info.value.line) == (tmp_path / "p.csv", 4)
    assert "unknown AdjustmentReason 'Spinoff'" in str(info.value)
    assert "BonusSame, CashDiv, Cons, Subdiv" in str(info.value)


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (row("2024-01-04", "101,102,100,100.5,1,7"), "malformed row: expected 12 fields, saw 13"),
        (row("2024-01-04", "101,102,100,abc,1"), "Close 'abc' is not a number"),
        (row("2024-01-04", "101,102,100,,1"), "missing value for close"),
        (row("2024-01-04", "101,102,100,101,1", reason="CashDiv"), "missing AdjustmentFactor"),
        (
            row("2024-01-04", "101,102,100,101,1", factor="-1", reason="Subdiv"),
            "AdjustmentFactor -1 of Subdiv is not a positive number",
        ),
        (
            row("2024-01-04", "101,102,100,101,1", factor="1.2", reason="CashDiv"),
            "CashDiv AdjustmentFactor 1.2 is not below 1",
        ),
        (
            "2024-01-04 09:30:00,XYZ,101,102,100,101,1,1.0,1.0,,,1001\n",
            "TradeDate '2024-01-04 09:30:00' has a time of day",
        ),
        ("20240104,XYZ,101,102,100,101,1,1.0,1.0,,,1001\n", "unparsable date '20240104'"),
    ],
)
def test_bad_rows_name_the_file_and_line(tmp_path: Path, bad_row: str, message: str) -> None:
    path = write(tmp_path / "p.csv", [*XYZ[:2], "\n", bad_row, XYZ[3]])
    with pytest.raises(DataError) as info:
        source(tmp_path).load("XYZ")
    # Header 1, two rows, a blank line 4 (counted, skipped), the bad row on line 5.
    assert (info.value.path, info.value.line) == (path, 5)
    assert message in info.value.message
    repaired = source(tmp_path, validation="repair").load("XYZ")
    assert len(repaired.series) == 3
    (dropped,) = [a for a in repaired.anomalies if a.action is AnomalyAction.DROPPED]
    assert (dropped.path, dropped.line) == (path, 5)


def test_midnight_times_in_other_spellings_are_session_dates(tmp_path: Path) -> None:
    write(
        tmp_path / "p.csv",
        [
            "2024-01-02,XYZ,10,11,9,10,1,1.0,1.0,,,1001\n",
            "2024-01-03T00:00,XYZ,10,11,9,10,1,1.0,1.0,,,1001\n",
        ],
    )
    series = source(tmp_path).load("XYZ").series
    assert series.sessions.astype(str).tolist() == ["2024-01-02", "2024-01-03"]
    assert not series.intraday


def test_total_return_needs_the_cumulative_factors(tmp_path: Path) -> None:
    write(tmp_path / "p.csv", [*XYZ[:2], row("2024-01-04", "101,102,100,101,1", cpf="")])
    source(tmp_path).load("XYZ")  # the unadjusted view does not use them
    with pytest.raises(DataError, match=r"line 4: .*CumulativePriceFactor nan is not a positive"):
        source(tmp_path, adjustment="total_return").load("XYZ")


def test_a_factor_without_a_reason_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "p.csv", [*XYZ[:1], row("2024-01-03", "101,103,100,102,1", factor="0.9")])
    (anomaly,) = source(tmp_path).load("XYZ").anomalies
    assert anomaly.action is AnomalyAction.REPORTED
    assert anomaly.line == 3
    assert "AdjustmentFactor 0.9 without an AdjustmentReason: ignored" in anomaly.problem


def test_defaults_load_dirty_vendor_rows_and_strict_zero_tolerance_refuses_them(
    tmp_path: Path,
) -> None:
    # AAPL 2007-12-21 as shipped: close 193.91 above high 193.57 by 0.18%.
    dirty = row("2007-12-21", "190.02,193.57,189.89,193.91,1", ticker="AAPL")
    spike = row("2008-09-30", "108.3,115.0,31.0,113.66,1", ticker="AAPL")  # a bad tick
    write(tmp_path / "p.csv", [dirty, spike])
    data = source(tmp_path).load("AAPL")
    assert data.series.ohlcv[0].tolist()[:4] == [190.02, 193.91, 189.89, 193.91]  # widened
    assert [(a.line, a.action) for a in data.anomalies] == [
        (2, AnomalyAction.WIDENED),
        (3, AnomalyAction.REPORTED),
    ]
    assert data.series.ohlcv[1, 2] == 31.0  # a bad tick is reported, never changed
    with pytest.raises(DataError, match=r"line 2: 2007-12-21: close 193\.91 is outside"):
        source(tmp_path, tolerance=0).load("AAPL")


def test_bad_ticks_in_a_merged_series_name_their_own_file(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", [row("2008-09-29", "100,101,99,100,1")])
    write(tmp_path / "b.csv", [row("2008-09-30", "108.3,115.0,31.0,113.66,1")])
    (tick,) = source(tmp_path).load("XYZ").anomalies
    assert (tick.path, tick.line, tick.date) == (tmp_path / "b.csv", 2, "2008-09-30")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "missing column(s)"),
        (b"TradeDate,Ticker\n2024-01-02,XYZ\n", "missing column(s) 'Open'"),
    ],
)
def test_files_that_are_not_algoseek_bars_are_refused(
    tmp_path: Path, content: bytes, message: str
) -> None:
    (tmp_path / "x.csv").write_bytes(content)
    with pytest.raises(DataError) as info:
        source(tmp_path).symbols()
    assert info.value.path == tmp_path / "x.csv"
    assert message in info.value.message


def test_unreadable_files_are_refused_when_loaded(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", XYZ[:2])
    src = source(tmp_path)
    assert src.symbols() == ["XYZ"]
    path.write_bytes(HEADER.encode() + b"2024-01-02 00:00:00,XYZ,\xff\n")
    with pytest.raises(DataError, match=r"line 2: not UTF-8"):
        src.load("XYZ")
    path.write_text(HEADER)
    with pytest.raises(DataError, match="no data rows"):
        src.load("XYZ")
    path.write_text("")
    with pytest.raises(DataError, match="file is empty"):
        src.load("XYZ")
    path.unlink()
    with pytest.raises(DataError, match="file not found"):
        src.load("XYZ")


def test_unreadable_csv_files_are_refused_by_the_index(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(HEADER.encode() + b"2024-01-02,\xff\xfe,1\n")
    with pytest.raises(DataError, match=r"x\.csv: not UTF-8 text"):
        source(tmp_path).symbols()
    path.write_text(HEADER + '2024-01-02 00:00:00,"XYZ\n')  # a quote never closed
    with pytest.raises(DataError, match=r"x\.csv: malformed file"):
        source(tmp_path).symbols()


def test_quoted_fields_keep_their_line_numbers(tmp_path: Path) -> None:
    # A quoted field spanning two lines: the next row starts on line 4, not 3.
    rows = [XYZ[0].replace(",1001", ',"10\n01"'), XYZ[1].replace("103", "99")]
    path = write(tmp_path / "x.csv", rows)
    src = source(tmp_path)
    with pytest.raises(DataError) as info:
        src.load("XYZ")
    assert (info.value.path, info.value.line) == (path, 4)
    path.write_text(HEADER + XYZ[0] + '2024-01-03 00:00:00,"XYZ\n')
    src = source(tmp_path)
    with pytest.raises(DataError, match="malformed file"):
        src.load("XYZ")


def test_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="data folder not found"):
        source(tmp_path / "nope")
    (tmp_path / ".hidden.csv").write_text(HEADER)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataError, match="no Algoseek files in the folder"):
        source(tmp_path).symbols()


def test_registry_builds_the_algoseek_service(tmp_path: Path) -> None:
    write(tmp_path / "data" / "anything.csv", XYZ)
    svc = open_data_service("algoseek", {"path": "data"}, base_dir=tmp_path)
    assert svc.symbols() == ["XYZ"]
    assert svc.source.location == str(tmp_path / "data")
    assert str(svc.source.zone) == "America/New_York"
    assert [i.symbol for i in svc.instruments(["XYZ"])] == ["XYZ"]


def test_a_file_holding_many_symbols_is_parsed_once(tmp_path: Path) -> None:
    write(
        tmp_path / "day.csv",
        [row("2024-01-02", "10,11,9,10,1", ticker=t, sec_id=str(k)) for k, t in enumerate("ABC")],
    )
    src = source(tmp_path)
    assert src.symbols() == ["A", "B", "C"]
    first = src.load("A")
    (tmp_path / "day.csv").unlink()  # kept from the first read
    assert src.load("C").series.close.tolist() == first.series.close.tolist() == [10.0]


def test_reading_files_directly_reports_what_the_index_would_not_see(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(HEADER + XYZ[0] + '2024-01-03 00:00:00,"XYZ\n')
    with pytest.raises(DataError, match=r"x\.csv: malformed file"):
        read_file(path)
    path.write_text(HEADER.replace("SecId", "SecId,Open") + XYZ[0])
    with pytest.raises(DataError, match=r"line 1: duplicate column names"):
        read_file(path)
    path.write_text(HEADER + XYZ[0].rstrip("\n"))  # no newline at the end: still line 2
    assert read_file(path).lines.tolist() == [2]
    with pytest.raises(DataError, match="file not found"):
        read_file(tmp_path / "gone.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"junk")
    with pytest.raises(DataError, match=r"junk\.parquet: not a readable Parquet file"):
        read_file(tmp_path / "junk.parquet")
    pq.write_table(pa.table(_parquet_columns(XYZ[:1])).slice(0, 0), tmp_path / "empty.parquet")
    with pytest.raises(DataError, match=r"empty\.parquet: no data rows"):
        read_file(tmp_path / "empty.parquet")
    with pytest.raises(DataError, match="data folder not found"):
        build_index(tmp_path / "nope")


def test_a_dividend_that_rounds_to_nothing_is_reported(tmp_path: Path) -> None:
    # (1 - 0.99999999) x 10 = 0.0000001 -> 0.0000 at 4 decimals: nothing to pay.
    rows = [
        row("2024-01-02", "10,11,9,10,1"),
        row("2024-01-03", "10,11,9,10,1", factor="0.99999999", reason="CashDiv"),
    ]
    write(tmp_path / "p.csv", rows)
    data = source(tmp_path).load("XYZ")
    assert data.actions == ()
    (anomaly,) = data.anomalies
    assert (anomaly.line, anomaly.action) == (3, AnomalyAction.REPORTED)
    assert "rounds to 0.0000 per share" in anomaly.problem


def test_other_symbols_rows_do_not_affect_a_symbol(tmp_path: Path) -> None:
    write(
        tmp_path / "p.csv",
        [
            row("2024-01-02", "10,11,9,10,1", ticker="AAA", sec_id="1"),
            row("2024-01-02", "10,11,9,oops,1", ticker="BBB", sec_id="2"),  # bad, not AAA's
            row("2024-01-03", "10,9,11,10,1", ticker="AAA", factor="0.9", sec_id="1"),
        ],
    )
    repaired = source(tmp_path, validation="repair").load("AAA")
    assert repaired.series.sessions.astype(str).tolist() == ["2024-01-02"]
    # The stray factor sits on a dropped row: only the drop is reported.
    assert [(a.line, a.action) for a in repaired.anomalies] == [(4, AnomalyAction.DROPPED)]


def test_a_master_row_of_empty_cells_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "data" / "x.csv", XYZ)
    master = tmp_path / "m.csv"
    master.write_text("SecId,Tickers,TickersStartToEndDate\n,,\n1001,XYZ,20240101:29991231\n")
    assert source(tmp_path / "data", security_master=master).symbols() == ["XYZ"]
