"""CsvDataService: timestamps, merge order, warmup, symbols, caching, intraday files."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from qtrader.data import (
    VOLUME,
    BarSeries,
    CsvColumns,
    CsvDataConfig,
    CsvDataService,
    DataError,
    UnknownSymbolError,
)
from qtrader.models import DataService, PriceAdjustment, StreamRequest

NY = ZoneInfo("America/New_York")
HEADER = "date,open,high,low,close,volume\n"


def write(folder: Path, symbol: str, rows: list[str], header: str = HEADER) -> Path:
    path = folder / f"{symbol}.csv"
    path.write_text(header + "".join(r + "\n" for r in rows))
    return path


def bar(day: str, close: float, volume: int = 100) -> str:
    """A valid daily row: open = close, high = close + 1, low = close - 1."""
    return f"{day},{close},{close + 1},{close - 1},{close},{volume}"


def service(folder: Path, **options: object) -> CsvDataService:
    return CsvDataService(CsvDataConfig.model_validate({"path": folder, **options}))


def request(symbols: tuple[str, ...], start: date, end: date, warmup: int = 0) -> StreamRequest:
    return StreamRequest(symbols=symbols, start=start, end=end, warmup_bars=warmup)


def test_satisfies_the_data_service_port(tmp_path: Path) -> None:
    svc = service(tmp_path)
    assert isinstance(svc, DataService)
    assert svc.price_adjustment is PriceAdjustment.UNADJUSTED
    assert service(tmp_path, price_adjustment="split_adjusted").price_adjustment is (
        PriceAdjustment.SPLIT_ADJUSTED
    )


def test_daily_bars_are_stamped_at_the_new_york_close_across_dst(tmp_path: Path) -> None:
    # US DST began Sunday 2024-03-10. Friday 03-08 is EST (UTC-5), Monday 03-11 EDT (UTC-4).
    write(tmp_path, "AAA", [bar("2024-03-08", 10.0), bar("2024-03-11", 11.0)])
    slices = list(service(tmp_path).stream(request(("AAA",), date(2024, 3, 8), date(2024, 3, 11))))
    assert [s.timestamp for s in slices] == [
        datetime(2024, 3, 8, 21, 0, tzinfo=UTC),  # 16:00 + 5 h
        datetime(2024, 3, 11, 20, 0, tzinfo=UTC),  # 16:00 + 4 h
    ]
    assert [s.opened_at for s in slices] == [
        datetime(2024, 3, 8, 14, 30, tzinfo=UTC),  # 09:30 + 5 h
        datetime(2024, 3, 11, 13, 30, tzinfo=UTC),  # 09:30 + 4 h
    ]
    # Shown in New York time; three calendar days less the lost hour = 71 hours elapsed.
    # (Python subtracts two datetimes of the same zone by wall clock, hence the UTC.)
    assert slices[0].timestamp.tzinfo is NY
    elapsed = slices[1].timestamp.astimezone(UTC) - slices[0].timestamp.astimezone(UTC)
    assert elapsed == timedelta(hours=71)
    assert slices[1].timestamp.isoformat() == "2024-03-11T16:00:00-04:00"
    assert slices[0].actions == ()
    assert slices[0].close.tolist() == [10.0]
    b = slices[1].bar("AAA")
    assert (b.open, b.high, b.low, b.close, b.volume) == (11.0, 12.0, 10.0, 11.0, 100.0)


def test_session_times_and_timezone_come_from_config(tmp_path: Path) -> None:
    write(tmp_path, "BHP", [bar("2024-01-15", 40.0)])
    svc = service(
        tmp_path, timezone="Australia/Sydney", session_open="10:00", session_close="16:10"
    )
    (only,) = svc.stream(request(("BHP",), date(2024, 1, 15), date(2024, 1, 15)))
    # Sydney is UTC+11 in January (AEDT): 16:10 -> 05:10 UTC, 10:00 -> 23:00 UTC the day before.
    assert only.timestamp == datetime(2024, 1, 15, 5, 10, tzinfo=UTC)
    assert only.opened_at == datetime(2024, 1, 14, 23, 0, tzinfo=UTC)
    assert svc.instruments(["BHP"])[0].timezone == "Australia/Sydney"


def test_merge_with_late_start_early_stop_and_gaps(tmp_path: Path) -> None:
    # Days 2-8 Jan 2024 (6th/7th a weekend). A trades every day but skips the 4th (halt);
    # B starts late on the 3rd; C stops early after the 3rd.
    write(
        tmp_path,
        "A",
        [
            bar(d, 10 + i)
            for i, d in enumerate(["2024-01-02", "2024-01-03", "2024-01-05", "2024-01-08"])
        ],
    )
    write(
        tmp_path,
        "B",
        [
            bar(d, 20 + i)
            for i, d in enumerate(["2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"])
        ],
    )
    write(tmp_path, "C", [bar("2024-01-02", 30), bar("2024-01-03", 31)])
    slices = list(
        service(tmp_path).stream(request(("C", "A", "B"), date(2024, 1, 1), date(2024, 1, 31)))
    )
    got = [(s.timestamp.date().isoformat(), s.symbols, s.close.tolist()) for s in slices]
    assert got == [
        ("2024-01-02", ("C", "A"), [30.0, 10.0]),
        ("2024-01-03", ("C", "A", "B"), [31.0, 11.0, 20.0]),
        ("2024-01-04", ("B",), [21.0]),
        ("2024-01-05", ("A", "B"), [12.0, 22.0]),
        ("2024-01-08", ("A", "B"), [13.0, 23.0]),
    ]
    assert not any(s.warmup for s in slices)
    # Each column of a slice is its own contiguous float64 array.
    assert slices[1].high.tolist() == [32.0, 12.0, 21.0]
    assert slices[1].low.tolist() == [30.0, 10.0, 19.0]
    assert slices[1].volume.flags.c_contiguous


def test_start_and_end_are_inclusive_session_dates(tmp_path: Path) -> None:
    write(tmp_path, "A", [bar(f"2024-01-0{d}", d) for d in (2, 3, 4, 5)])
    slices = list(service(tmp_path).stream(request(("A",), date(2024, 1, 3), date(2024, 1, 4))))
    assert [s.close.tolist() for s in slices] == [[3.0], [4.0]]
    assert list(service(tmp_path).stream(request(("A",), date(2025, 1, 1), date(2025, 1, 2)))) == []


def test_warmup_counts_bars_not_days_across_a_holiday(tmp_path: Path) -> None:
    # 2024-07-04 (Thursday) is a holiday: no bar. A start of Monday 07-08 with 2 warmup
    # bars must deliver 07-03 and 07-05 (two bars back), not two calendar days.
    days = ["2024-07-01", "2024-07-02", "2024-07-03", "2024-07-05", "2024-07-08", "2024-07-09"]
    write(tmp_path, "A", [bar(d, 10 + i) for i, d in enumerate(days)])  # 10, 11, ... 15
    # B has only one bar before start: it warms up with what it has.
    write(tmp_path, "B", [bar("2024-07-05", 50), bar("2024-07-08", 51)])
    slices = list(
        service(tmp_path).stream(request(("A", "B"), date(2024, 7, 8), date(2024, 7, 9), 2))
    )
    got = [(s.timestamp.date().isoformat(), s.symbols, s.close.tolist(), s.warmup) for s in slices]
    assert got == [
        ("2024-07-03", ("A",), [12.0], True),
        ("2024-07-05", ("A", "B"), [13.0, 50.0], True),
        ("2024-07-08", ("A", "B"), [14.0, 51.0], False),
        ("2024-07-09", ("A",), [15.0], False),
    ]


def test_symbols_lists_csv_files_sorted(tmp_path: Path) -> None:
    for name in ("MSFT", "AAPL", "BRK.B"):
        write(tmp_path, name, [bar("2024-01-02", 1.5)])
    (tmp_path / "notes.txt").write_text("not data")
    (tmp_path / ".hidden.csv").write_text(HEADER)
    (tmp_path / "folder.csv").mkdir()
    svc = service(tmp_path)
    assert svc.symbols() == ["AAPL", "BRK.B", "MSFT"]
    assert [i.symbol for i in svc.instruments(["MSFT", "AAPL"])] == ["MSFT", "AAPL"]


def test_unknown_symbols_raise_a_key_error_naming_them_and_the_folder(tmp_path: Path) -> None:
    write(tmp_path, "AAPL", [bar("2024-01-02", 1.5)])
    svc = service(tmp_path)
    with pytest.raises(KeyError) as caught:
        svc.instruments(["AAPL", "ZZZ"])
    err = caught.value
    assert isinstance(err, UnknownSymbolError)
    assert isinstance(err, DataError)
    assert err.symbols == ("ZZZ",)
    assert err.path == tmp_path
    assert str(err) == f"{tmp_path}: unknown symbol(s) ZZZ: no ZZZ.csv in the folder"
    with pytest.raises(UnknownSymbolError, match=r"unknown symbol\(s\) X, Y: no X.csv, Y.csv"):
        svc.stream(request(("X", "AAPL", "Y"), date(2024, 1, 1), date(2024, 1, 2)))
    # A path is not a symbol: only files listed in the folder can be opened.
    with pytest.raises(UnknownSymbolError):
        svc.load("../AAPL")


def test_missing_folder_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="data folder not found") as caught:
        service(tmp_path / "nope")
    assert caught.value.path == tmp_path / "nope"


def test_loaded_arrays_are_cached_and_read_only(tmp_path: Path) -> None:
    path = write(tmp_path, "A", [bar("2024-01-02", 5.0)])
    svc = service(tmp_path)
    req = request(("A",), date(2024, 1, 1), date(2024, 1, 31))
    first = [s.close.tolist() for s in svc.stream(req)]
    path.write_text(HEADER + bar("2024-01-02", 7.0) + "\n")  # not reread
    assert [s.close.tolist() for s in svc.stream(req)] == first == [[5.0]]
    series = svc.series("A")
    assert series is svc.series("A")
    assert isinstance(series, BarSeries)
    assert (series.first_session, series.last_session, len(series)) == (
        date(2024, 1, 2),
        date(2024, 1, 2),
        1,
    )
    assert series.close.tolist() == [5.0]
    with pytest.raises(ValueError, match="read-only"):
        series.ohlcv[0, 0] = 1.0


def test_stream_fails_at_the_call_not_midway(tmp_path: Path) -> None:
    write(tmp_path, "A", [bar("2024-01-02", 5.0)])
    write(tmp_path, "B", ["2024-01-02,1,1,1,1,-5"])
    with pytest.raises(DataError, match=r"volume -5\.0 is negative"):
        service(tmp_path).stream(request(("A", "B"), date(2024, 1, 1), date(2024, 1, 31)))


def test_configured_column_names_and_extra_columns(tmp_path: Path) -> None:
    write(
        tmp_path,
        "SPY",
        ["2024-01-02,Mon,470.0,472.5,468.25,471.75,469.1,1000"],
        header="Date,Note,Open,High,Low,Close,Adj Close,Volume\n",
    )
    columns = CsvColumns(
        date="Date", open="Open", high="High", low="Low", close="Close", volume="Volume"
    )
    svc = CsvDataService(CsvDataConfig(path=tmp_path, columns=columns))
    (only,) = svc.stream(request(("SPY",), date(2024, 1, 2), date(2024, 1, 2)))
    b = only.bar("SPY")
    assert (b.open, b.high, b.low, b.close, b.volume) == (470.0, 472.5, 468.25, 471.75, 1000.0)


def test_header_with_bom_and_spaces_blank_lines_keep_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "A.csv"
    # BOM from Excel, a space after a header comma, a blank line (line 3), bad row on line 5.
    path.write_text(
        "\ufeffdate, open,high,low,close,volume\n2024-01-02,1,2,1,1,5\n\n"
        "2024-01-03,1,2,1,1,5\n2024-01-04,1,2,1,3,5\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError) as caught:
        service(tmp_path).load("A")
    assert caught.value.line == 5
    assert caught.value.message == "2024-01-04: close 3.0 is outside [low 1.0, high 2.0]"


def test_intraday_times_are_bar_closes_and_opened_at_is_one_interval_earlier(
    tmp_path: Path,
) -> None:
    # Five-minute bars; 09:35 EST = 14:35 UTC; the median spacing is 5 minutes, so the first
    # bar opened at 09:30 and the slice's opened_at is 14:30 UTC.
    write(
        tmp_path,
        "A",
        [
            "2024-03-08 09:35:00,10,11,9,10,1",
            "2024-03-08T09:40,10,11,9,10.5,1",
            "2024-03-08 09:50,10,11,9,10.25,1",  # one bar missing: spacing 5 and 10, median 7.5
            "2024-03-08 09:55,10,11,9,10.75,1",
        ],
    )
    svc = service(tmp_path)
    slices = list(svc.stream(request(("A",), date(2024, 3, 8), date(2024, 3, 8))))
    assert [s.timestamp for s in slices] == [
        datetime(2024, 3, 8, 14, 35, tzinfo=UTC),
        datetime(2024, 3, 8, 14, 40, tzinfo=UTC),
        datetime(2024, 3, 8, 14, 50, tzinfo=UTC),
        datetime(2024, 3, 8, 14, 55, tzinfo=UTC),
    ]
    # Spacings 5, 10, 5 minutes -> median 5 minutes.
    assert [s.opened_at for s in slices] == [t.timestamp - timedelta(minutes=5) for t in slices]
    assert svc.series("A").intraday


def test_a_short_last_bar_of_a_session_opens_when_the_bar_ahead_closed(tmp_path: Path) -> None:
    # Hourly bars 10:30 .. 15:30 and a half-hour bar stamped 16:00: the median spacing is an
    # hour, but the last bar opened at 15:30 (when the one ahead closed), not at 15:00.
    rows = [f"2024-03-08 {h}:30,10,11,9,10,1" for h in range(10, 16)]
    write(tmp_path, "A", [*rows, "2024-03-08 16:00,10,11,9,10,1"])
    slices = list(service(tmp_path).stream(request(("A",), date(2024, 3, 8), date(2024, 3, 8))))
    assert [s.opened_at - s.timestamp for s in slices] == [timedelta(hours=-1)] * 6 + [
        timedelta(minutes=-30)
    ]


def test_intraday_bar_interval_from_config_and_session_selection(tmp_path: Path) -> None:
    # One bar per session: nothing to infer from, so the configured interval is used.
    write(tmp_path, "A", ["2024-07-01 16:00,1,1,1,1,1", "2024-07-02 16:00,2,2,2,2,1"])
    svc = service(tmp_path, bar_interval="06:30:00")
    slices = list(svc.stream(request(("A",), date(2024, 7, 2), date(2024, 7, 2))))
    assert [(s.timestamp, s.opened_at) for s in slices] == [
        (datetime(2024, 7, 2, 20, 0, tzinfo=UTC), datetime(2024, 7, 2, 13, 30, tzinfo=UTC))
    ]
    with pytest.raises(DataError, match="cannot infer the bar interval"):
        service(tmp_path).load("A")


def test_daily_and_intraday_files_do_not_mix_in_one_stream(tmp_path: Path) -> None:
    write(tmp_path, "D", [bar("2024-07-01", 5)])
    write(tmp_path, "I", ["2024-07-01 10:00,1,1,1,1,1", "2024-07-01 10:01,1,1,1,1,1"])
    with pytest.raises(DataError, match=r"daily data \(D\) together with intraday data \(I\)"):
        service(tmp_path).stream(request(("D", "I"), date(2024, 7, 1), date(2024, 7, 1)))


def test_data_error_survives_pickling(tmp_path: Path) -> None:
    # Sweeps run in worker processes: their errors must cross process boundaries intact.
    err = DataError("2024-01-02: bad", path=tmp_path / "A.csv", line=3)
    back = pickle.loads(pickle.dumps(err))
    assert (back.path, back.line, back.message, str(back)) == (
        err.path,
        3,
        "2024-01-02: bad",
        f"{tmp_path / 'A.csv'}, line 3: 2024-01-02: bad",
    )
    unknown = pickle.loads(pickle.dumps(UnknownSymbolError("x", path=tmp_path, symbols=("Q",))))
    assert unknown.symbols == ("Q",)


def test_bar_series_rejects_inconsistent_columns() -> None:
    ts = np.array([2, 1], dtype=np.int64)
    days = np.array(["2024-01-02", "2024-01-03"], dtype="datetime64[D]")
    with pytest.raises(ValueError, match="not strictly increasing"):
        BarSeries("A", None, ts, ts.copy(), days, np.ones((2, 5)))
    with pytest.raises(ValueError, match="unequal length"):
        BarSeries("A", None, ts, ts.copy(), days, np.ones((3, 5)))
    empty = BarSeries("A", None, ts[:0], ts[:0], days[:0], np.ones((0, 5)))
    assert (empty.first_session, empty.last_session) == (None, None)


def test_error_without_a_file_is_just_its_message() -> None:
    assert str(DataError("end before start")) == "end before start"


def test_config_and_columns_are_exposed(tmp_path: Path) -> None:
    write(tmp_path, "A", [bar("2024-01-02", 5.0)], header="date,open,high,low,close,volume")
    # No newline at the end of the file: the last row still counts.
    (tmp_path / "A.csv").write_text(HEADER + bar("2024-01-02", 5.0))
    svc = service(tmp_path)
    assert svc.config.path == tmp_path
    assert svc.series("A").column(VOLUME).tolist() == [100.0]


def test_symbols_loaded_in_threads_equal_symbols_loaded_one_by_one(tmp_path: Path) -> None:
    days = [f"2024-01-{d:02d}" for d in (2, 3, 4, 5, 8, 9)]
    for i in range(8):
        write(tmp_path, f"S{i}", [bar(day, 10.0 + i + k) for k, day in enumerate(days)])
    symbols = tuple(f"S{i}" for i in range(8))
    together = list(service(tmp_path).stream(request(symbols, date(2024, 1, 1), date(2024, 1, 9))))
    one_by_one = service(tmp_path)
    for symbol in symbols:
        one_by_one.load(symbol)  # kept: stream() then loads nothing
    alone = list(one_by_one.stream(request(symbols, date(2024, 1, 1), date(2024, 1, 9))))
    assert pickle.dumps(together) == pickle.dumps(alone)
    # Day k of symbol i closes at 10 + i + k.
    assert together[5].close.tolist() == [15.0 + i for i in range(8)]


def test_the_error_of_a_threaded_load_is_the_first_failing_symbol_in_request_order(
    tmp_path: Path,
) -> None:
    for name in ("A", "B", "C", "D"):
        write(tmp_path, name, [bar("2024-01-02", 10.0)])
    write(tmp_path, "C", ["2024-01-02,10,9,11,10,100"])  # high below low
    write(tmp_path, "B", ["2024-01-02,10,11,9,-10,100"])  # negative close
    with pytest.raises(DataError) as caught:
        list(
            service(tmp_path).stream(
                request(("A", "B", "C", "D"), date(2024, 1, 1), date(2024, 1, 3))
            )
        )
    assert "B.csv" in str(caught.value)


def test_loads_use_a_thread_per_usable_core_from_two_to_four(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os  # noqa: PLC0415

    from qtrader.data import service as data_service  # noqa: PLC0415

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert data_service._usable_cores() == 3  # the cores this process may run on
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)  # e.g. macOS, Windows
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert data_service._usable_cores() == 6
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # unknown
    assert data_service._usable_cores() == 1
    # One per core, at least 2 (a load overlaps another's Python part), at most 4.
    assert [data_service.load_threads(n) for n in (1, 2, 3, 4, 8)] == [2, 2, 3, 4, 4]
    assert data_service.load_threads(data_service._usable_cores()) == data_service.LOAD_THREADS


def test_bars_of_different_lengths_at_one_time_keep_each_ones_opening(tmp_path: Path) -> None:
    # A: 30-minute bars (10:00, 10:30, 11:00); H: hourly (10:00, 11:00). At 10:00 and 11:00
    # the slice opened with H (09:00, 10:00 New York = 14:00, 15:00 UTC), but A's bars opened
    # half an hour later: each symbol's own opening is kept for the venue's fill times.
    write(tmp_path, "A", [f"2024-03-08 {t},10,11,9,10,1" for t in ("10:00", "10:30", "11:00")])
    write(tmp_path, "H", [f"2024-03-08 {t},20,21,19,20,1" for t in ("09:00", "10:00", "11:00")])
    svc = service(tmp_path)
    slices = list(svc.stream(request(("A", "H"), date(2024, 3, 8), date(2024, 3, 8))))
    ten, half, eleven = slices[-3:]
    assert ten.symbols == ("A", "H")
    assert ten.opened_at == datetime(2024, 3, 8, 14, 0, tzinfo=UTC)
    assert ten.opened_at_of("A") == datetime(2024, 3, 8, 14, 30, tzinfo=UTC)
    assert ten.opened_at_of("H") == datetime(2024, 3, 8, 14, 0, tzinfo=UTC)
    assert (half.symbols, half.bars_opened_at) == (("A",), None)  # one length: nothing more
    assert eleven.opened_at_of("A") == datetime(2024, 3, 8, 15, 30, tzinfo=UTC)
