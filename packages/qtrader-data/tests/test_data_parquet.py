"""``source: parquet``: one file or a folder of parts per symbol, checked like the CSV source
with rows numbered from 1 (the first data row is row 1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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
from qtrader.data.parquet import SOURCE, ParquetBarSource, ParquetDataConfig
from qtrader.models import BarSlice, PriceAdjustment, Split, StreamRequest

NY = ZoneInfo("America/New_York")
DAYS = ["2024-01-02", "2024-01-03", "2024-01-04"]
# Three consistent bars: low <= open, close <= high.
OPEN = [10.0, 10.5, 11.0]
HIGH = [11.0, 12.0, 12.5]
LOW = [9.0, 10.0, 10.5]
CLOSE = [10.5, 11.0, 12.0]
VOLUME = [100, 200, 300]


def write(path: Path, dates: pa.Array | Sequence[Any], **overrides: Sequence[Any]) -> Path:
    columns: dict[str, Any] = {
        "date": dates,
        "open": OPEN,
        "high": HIGH,
        "low": LOW,
        "close": CLOSE,
        "volume": VOLUME,
    }
    columns.update(overrides)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    return path


def service(folder: Path, **options: object) -> HistoricalDataService:
    return open_data_service("parquet", {"path": folder, **options})


def stream(
    svc: HistoricalDataService, symbols: tuple[str, ...], start: date, end: date
) -> list[BarSlice]:
    return list(svc.stream(StreamRequest(symbols=symbols, start=start, end=end)))


def load_error(folder: Path, **options: object) -> DataError:
    with pytest.raises(DataError) as caught:
        service(folder, **options).load("A")
    return caught.value


def test_round_trip_of_a_small_frame(tmp_path: Path) -> None:
    write(tmp_path / "A.parquet", DAYS)
    slices = stream(service(tmp_path), ("A",), date(2024, 1, 2), date(2024, 1, 4))
    # Daily bars: stamped at 16:00 New York (EST, UTC-5: 21:00 UTC), opened at 09:30.
    assert [s.timestamp for s in slices] == [datetime(2024, 1, d, 16, tzinfo=NY) for d in (2, 3, 4)]
    assert slices[0].timestamp.astimezone(UTC) == datetime(2024, 1, 2, 21, tzinfo=UTC)
    assert slices[0].opened_at == datetime(2024, 1, 2, 9, 30, tzinfo=NY)
    assert [float(s.open[0]) for s in slices] == OPEN
    assert [float(s.high[0]) for s in slices] == HIGH
    assert [float(s.low[0]) for s in slices] == LOW
    assert [float(s.close[0]) for s in slices] == CLOSE
    assert [float(s.volume[0]) for s in slices] == [100.0, 200.0, 300.0]
    series = service(tmp_path).source.load("A").series  # the adapter numbers the rows
    assert series.lines is not None
    assert series.lines.tolist() == [1, 2, 3]
    assert series.path == tmp_path / "A.parquet"
    kept = service(tmp_path).series("A")  # the service keeps the bars, not the numbers
    assert kept.lines is None
    assert kept.path == series.path
    assert kept.timestamps.tolist() == series.timestamps.tolist()


DAILY_FORMS = {
    "text": DAYS,
    "date32": pa.array([date(2024, 1, d) for d in (2, 3, 4)], pa.date32()),
    "date64": pa.array([date(2024, 1, d) for d in (2, 3, 4)], pa.date64()),
    "naive midnight": pa.array(np.array(DAYS, dtype="datetime64[us]")),
    # 00:00 New York is 05:00 UTC in January: midnight in the configured zone.
    "aware midnight": pa.array(
        [datetime(2024, 1, d, 5, tzinfo=UTC) for d in (2, 3, 4)],
        pa.timestamp("ns", tz="America/New_York"),
    ),
    "dictionary text": pa.array(DAYS).dictionary_encode(),
}


@pytest.mark.parametrize("form", DAILY_FORMS)
def test_date32_text_and_midnight_timestamps_are_the_same_daily_bars(
    tmp_path: Path, form: str
) -> None:
    write(tmp_path / "A.parquet", DAILY_FORMS[form])
    series = service(tmp_path).series("A")
    assert not series.intraday
    assert series.sessions.astype(str).tolist() == DAYS
    # 16:00 EST = 21:00 UTC: 2024-01-02T21:00Z is 1704229200 s after the epoch
    # (19724 days * 86400 + 21 * 3600), then one day (86400 s) apart.
    assert (series.timestamps // 10**9).tolist() == [1704229200, 1704315600, 1704402000]


def test_intraday_text_and_timestamps(tmp_path: Path) -> None:
    times = [datetime(2024, 1, 2, 10, m, tzinfo=NY) for m in (0, 5, 10)]
    naive = np.array(["2024-01-02T10:00", "2024-01-02T10:05", "2024-01-02T10:10"], "datetime64[ms]")
    write(tmp_path / "T.parquet", ["2024-01-02 10:00", "2024-01-02 10:05", "2024-01-02 10:10"])
    write(tmp_path / "N.parquet", pa.array(naive))
    # 15:00 UTC is 10:00 New York (EST): aware stamps are shown in the configured zone.
    utc = [t.astimezone(UTC) for t in times]
    write(tmp_path / "U.parquet", pa.array(utc, pa.timestamp("us", tz="UTC")))
    svc = service(tmp_path)
    for symbol in ("T", "N", "U"):
        series = svc.series(symbol)
        assert series.intraday
        slices = stream(svc, (symbol,), date(2024, 1, 2), date(2024, 1, 2))
        assert [s.timestamp for s in slices] == times
        # The bar interval is the median spacing, 5 minutes: the first bar opened at 09:55.
        assert slices[0].opened_at == datetime(2024, 1, 2, 9, 55, tzinfo=NY)


def test_aware_stamps_that_are_not_local_midnights_are_intraday(tmp_path: Path) -> None:
    # Daily dates stored as UTC midnights are 19:00 the evening before in New York:
    # intraday times, and with one bar per session no interval can be inferred.
    utc = [datetime(2024, 1, d, tzinfo=UTC) for d in (2, 3, 4)]
    write(tmp_path / "A.parquet", pa.array(utc, pa.timestamp("s", tz="UTC")))
    error = load_error(tmp_path)
    assert "cannot infer the bar interval" in str(error)


def test_a_fraction_of_a_second_is_refused_like_in_a_csv(tmp_path: Path) -> None:
    stamps = ["2024-01-02T10:00", "2024-01-02T10:05:00.5", "2024-01-02T10:10"]
    write(tmp_path / "A.parquet", pa.array(np.array(stamps, dtype="datetime64[us]")))
    assert str(load_error(tmp_path)) == (
        f"{tmp_path / 'A.parquet'}, row 2: 2024-01-02T10:05:00.500000000: unparsable date "
        "'2024-01-02T10:05:00.500000000': expected YYYY-MM-DD HH:MM[:SS] like the first row"
    )


def test_actions_file_puts_the_split_in_the_slice_of_its_ex_date(tmp_path: Path) -> None:
    write(tmp_path / "A.parquet", DAYS)
    actions = tmp_path / "actions.csv"
    actions.write_text("date,symbol,type,value\n2024-01-03,A,split,4\n")
    svc = HistoricalDataService(ParquetBarSource(ParquetDataConfig(path=tmp_path, actions=actions)))
    assert svc.price_adjustment is PriceAdjustment.UNADJUSTED
    slices = stream(svc, ("A",), date(2024, 1, 2), date(2024, 1, 4))
    split = Split(symbol="A", ex_date=date(2024, 1, 3), ratio=Decimal(4))
    assert [(s.timestamp.date(), s.actions) for s in slices] == [
        (date(2024, 1, 2), ()),
        (date(2024, 1, 3), (split,)),
        (date(2024, 1, 4), ()),
    ]


def test_strict_error_names_the_file_and_row(tmp_path: Path) -> None:
    write(tmp_path / "A.parquet", DAYS, high=[11.0, 9.0, 12.5])  # row 2: high 9 < low 10
    error = load_error(tmp_path)
    assert error.path == tmp_path / "A.parquet"
    assert error.line == 2
    assert str(error) == f"{tmp_path / 'A.parquet'}, row 2: 2024-01-03: high 9.0 is below low 10.0"


def test_repair_drops_and_reports_the_row_and_tolerance_widens(tmp_path: Path) -> None:
    # Row 1: close 11.05 is 0.45% above high 11.0, within tolerance 1%: widened.
    # Row 2: volume -5: dropped.
    write(tmp_path / "A.parquet", DAYS, close=[11.05, 11.0, 12.0], volume=[100, -5, 300])
    svc = service(tmp_path, validation="repair", tolerance=0.01)
    series = svc.series("A")
    assert series.sessions.astype(str).tolist() == ["2024-01-02", "2024-01-04"]
    assert series.ohlcv[0].tolist() == [10.0, 11.05, 9.0, 11.05, 100.0]  # high raised to close
    widened, dropped = svc.anomalies
    assert (widened.line, widened.action) == (1, AnomalyAction.WIDENED)
    assert (dropped.line, dropped.action) == (2, AnomalyAction.DROPPED)
    assert str(dropped) == (
        f"{tmp_path / 'A.parquet'}, row 2: A 2024-01-03: volume -5.0 is negative [dropped]"
    )


def test_nulls_and_text_cells_are_reported_per_row(tmp_path: Path) -> None:
    write(
        tmp_path / "A.parquet",
        ["2024-01-02", None, "2024-01-04", "2024-01-05"],
        open=[10.0, 10.0, None, 10.0],
        high=[11.0, 11.0, 11.0, 11.0],
        low=[9.0, 9.0, 9.0, 9.0],
        close=["10", "10", "10", "ten"],  # a text column: parsed cell by cell
        volume=[1, 1, 1, 1],
    )
    svc = service(tmp_path, validation="repair")
    assert svc.series("A").sessions.astype(str).tolist() == ["2024-01-02"]
    assert [(a.line, a.date, a.problem) for a in svc.anomalies] == [
        (2, "(no date)", "missing date"),
        (3, "2024-01-04", "missing value for open"),
        (4, "2024-01-05", "close 'ten' is not a number"),
    ]


def test_custom_column_names_and_only_those_columns(tmp_path: Path) -> None:
    table = pa.table(
        {
            "Day": DAYS,
            "O": OPEN,
            "H": HIGH,
            "L": LOW,
            "C": CLOSE,
            "V": pa.array(VOLUME, pa.int32()),
            "notes": pa.array([[1], [2], [3]]),  # a list column nobody reads
        }
    )
    pq.write_table(table, tmp_path / "A.parquet")
    columns = {"date": "Day", "open": "O", "high": "H", "low": "L", "close": "C", "volume": "V"}
    series = service(tmp_path, columns=columns).series("A")
    assert series.close.tolist() == CLOSE


def test_missing_column_names_file_column_and_expectation(tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"date": DAYS, "open": OPEN, "high": HIGH, "low": LOW}), tmp_path / "A.parquet"
    )
    assert str(load_error(tmp_path)) == (
        f"{tmp_path / 'A.parquet'}: missing column(s) 'close', 'volume': expected "
        "date,open,high,low,close,volume (found date,open,high,low)"
    )


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("date", [20240102, 20240103, 20240104], "date column 'date' has type int64: expected"),
        ("volume", [True, False, True], "column 'volume' has type bool: expected numbers"),
    ],
)
def test_columns_of_the_wrong_type_are_refused(
    tmp_path: Path, column: str, values: list[Any], message: str
) -> None:
    write(tmp_path / "A.parquet", DAYS, **{column: values})
    error = load_error(tmp_path)
    assert error.path == tmp_path / "A.parquet"
    assert message in error.message


def test_corrupt_and_empty_files(tmp_path: Path) -> None:
    (tmp_path / "A.parquet").write_text("date,open\n2024-01-02,1\n")
    error = load_error(tmp_path)
    assert error.path == tmp_path / "A.parquet"
    assert error.message.startswith("not a readable Parquet file: ")
    empty = pa.array([], pa.float64())
    write(
        tmp_path / "A.parquet",
        pa.array([], pa.string()),
        **dict.fromkeys(("open", "high", "low", "close", "volume"), empty),
    )
    assert load_error(tmp_path).message.startswith("no data rows: expected one row per bar")


def test_unknown_symbol_names_the_folder(tmp_path: Path) -> None:
    write(tmp_path / "A.parquet", DAYS)
    svc = service(tmp_path)
    with pytest.raises(UnknownSymbolError) as caught:
        svc.load("ZZZ")
    assert caught.value.symbols == ("ZZZ",)
    assert str(caught.value) == (
        f"{tmp_path}: unknown symbol(s) ZZZ: no ZZZ.parquet or ZZZ/*.parquet in the folder"
    )
    with pytest.raises(KeyError):
        svc.instruments(["A", "ZZZ"])


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="data folder not found"):
        service(tmp_path / "nowhere")


def test_symbols_are_files_and_part_folders_sorted(tmp_path: Path) -> None:
    write(tmp_path / "B.parquet", DAYS)
    write(tmp_path / "A" / "part-0.parquet", DAYS)
    write(tmp_path / ".hidden.parquet", DAYS)
    write(tmp_path / "_tmp" / "part-0.parquet", DAYS)
    (tmp_path / "EMPTY").mkdir()
    (tmp_path / "notes.txt").write_text("not data")
    assert service(tmp_path).symbols() == ["A", "B"]


def test_a_folder_of_parts_is_one_table_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "A"
    # Written out of name order on purpose: rows are read by file name.
    write(folder / "2024-02.parquet", ["2024-02-01"], **_one_bar(20.0))
    write(folder / "2024-01.parquet", DAYS)
    (folder / "_SUCCESS").write_text("")
    series = service(tmp_path).series("A")
    assert series.sessions.astype(str).tolist() == [*DAYS, "2024-02-01"]
    assert series.close.tolist() == [*CLOSE, 20.0]
    assert series.path == folder / "*.parquet"


def test_rows_of_a_part_are_named_by_that_part(tmp_path: Path) -> None:
    folder = tmp_path / "A"
    write(folder / "1.parquet", DAYS)
    # Second part, its row 2 (global row 5): the low 30 is above the high 21.
    write(
        folder / "2.parquet",
        ["2024-02-01", "2024-02-02"],
        open=[20.0, 20.0],
        high=[21.0, 21.0],
        low=[19.0, 30.0],
        close=[20.0, 20.0],
        volume=[1, 1],
    )
    error = load_error(tmp_path)
    assert (error.path, error.line) == (folder / "2.parquet", 2)
    assert error.message == "2024-02-02: high 21.0 is below low 30.0"
    svc = service(tmp_path, validation="repair")
    assert len(svc.series("A")) == 4
    (dropped,) = svc.anomalies
    assert (dropped.path, dropped.line) == (folder / "2.parquet", 2)


def test_a_date_repeated_across_parts_is_a_duplicate(tmp_path: Path) -> None:
    folder = tmp_path / "A"
    write(folder / "1.parquet", DAYS)
    write(folder / "2.parquet", ["2024-01-04"], **_one_bar(20.0))
    error = load_error(tmp_path)
    assert (error.path, error.line) == (folder / "2.parquet", 1)
    # The earlier row is named in its own part: row 3 of 1.parquet.
    assert error.message == "2024-01-04: duplicate date (already on row 3 of 1.parquet)"


def test_order_problems_name_the_earlier_row(tmp_path: Path) -> None:
    write(tmp_path / "A.parquet", ["2024-01-03", "2024-01-03", "2024-01-02"])
    error = load_error(tmp_path)
    assert str(error) == (
        f"{tmp_path / 'A.parquet'}, row 2: 2024-01-03: duplicate date (already on row 1)"
    )
    svc = service(tmp_path, validation="repair")
    assert len(svc.series("A")) == 1
    assert [a.problem for a in svc.anomalies] == [
        "duplicate date (already on row 1)",
        "date out of order: not after 2024-01-03 on row 1",
    ]


def test_a_column_without_any_value_is_missing_values(tmp_path: Path) -> None:
    write(tmp_path / "A.parquet", [None, None, None], volume=[None, None, None])
    assert str(load_error(tmp_path)) == (
        f"{tmp_path / 'A.parquet'}, row 1: (no date): missing date"
    )
    write(tmp_path / "A.parquet", DAYS, volume=[None, None, None])
    assert load_error(tmp_path).message == "2024-01-02: missing value for volume"


def test_a_file_and_a_folder_of_one_symbol_are_ambiguous(tmp_path: Path) -> None:
    write(tmp_path / "A.parquet", DAYS)
    write(tmp_path / "A" / "1.parquet", DAYS)
    assert "both A.parquet and the folder A/ exist" in str(load_error(tmp_path))


def test_a_folder_without_parts(tmp_path: Path) -> None:
    (tmp_path / "A").mkdir()
    source = ParquetBarSource(ParquetDataConfig(path=tmp_path))
    with pytest.raises(DataError, match=r"no \*\.parquet files in the folder of A"):
        source.load("A")
    with pytest.raises(DataError, match="file not found"):
        source.load("B")


def test_registered_by_name_with_relative_paths(tmp_path: Path) -> None:
    write(tmp_path / "data" / "A.parquet", DAYS)
    svc = open_data_service(
        "parquet", {"path": "data", "price_adjustment": "split_adjusted"}, base_dir=tmp_path
    )
    assert SOURCE.name == "parquet"
    assert svc.source.location == str(tmp_path / "data")
    assert svc.price_adjustment is PriceAdjustment.SPLIT_ADJUSTED
    assert str(svc.source.zone) == "America/New_York"
    assert svc.symbols() == ["A"]


def _one_bar(price: float) -> dict[str, list[float]]:
    return {
        "open": [price],
        "high": [price + 1],
        "low": [price - 1],
        "close": [price],
        "volume": [1.0],
    }


def test_large_volumes_and_decimals_become_floats(tmp_path: Path) -> None:
    # 2**53 + 1 has no exact float64: it becomes the nearest, 2**53, as a CSV parser gives.
    write(
        tmp_path / "A.parquet",
        DAYS,
        close=pa.array([Decimal("10.5"), Decimal("11.0"), Decimal("12.0")], pa.decimal128(5, 2)),
        volume=pa.array([2**53 + 1, 2, 3], pa.int64()),
    )
    series = service(tmp_path).series("A")
    assert series.close.tolist() == CLOSE
    assert series.ohlcv[0, 4] == float(2**53)
    assert np.isfinite(series.ohlcv).all()


@pytest.mark.parametrize("chunk_rows", [None, 2])
def test_aware_stamps_in_the_repeated_hour_of_the_autumn_change_are_kept(
    tmp_path: Path, chunk_rows: int | None
) -> None:
    # Hourly bars of a 24-hour market across 2024-11-03 in New York: 01:00 comes twice
    # (EDT, then EST). Stored in UTC, each instant is unambiguous; its wall time alone is
    # not, and was refused ("does not exist or is ambiguous").
    utc = [datetime(2024, 11, 3, h, tzinfo=UTC) for h in range(3, 9)]
    n = len(utc)
    write(
        tmp_path / "FALL.parquet",
        pa.array(utc, pa.timestamp("us", tz="UTC")),
        open=[10.0] * n, high=[11.0] * n, low=[9.0] * n, close=[10.5] * n, volume=[100] * n,
    )  # fmt: skip
    options: dict[str, object] = {"bar_interval": "01:00:00"}
    if chunk_rows is not None:
        options["chunk_rows"] = chunk_rows
    svc = service(tmp_path, **options)
    slices = stream(svc, ("FALL",), date(2024, 11, 2), date(2024, 11, 3))
    assert [s.timestamp.astimezone(UTC) for s in slices] == utc
    # 23:00 EDT on the 2nd, then 00:00 and 01:00 EDT, 01:00 EST, 02:00 and 03:00 EST.
    assert [s.timestamp.strftime("%d %H:%M %Z") for s in slices] == [
        "02 23:00 EDT", "03 00:00 EDT", "03 01:00 EDT", "03 01:00 EST", "03 02:00 EST",
        "03 03:00 EST",
    ]  # fmt: skip
    assert [s.opened_at.astimezone(UTC) for s in slices] == [t - timedelta(hours=1) for t in utc]
    assert svc.anomalies == ()
