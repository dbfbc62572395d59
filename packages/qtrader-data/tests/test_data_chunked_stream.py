"""``source: parquet`` with ``chunk_rows``: the stream reads each symbol in chunks and gives
exactly the slices, anomalies and errors of the whole-file stream."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from qtrader.data import (
    AnomalyAction,
    BarSeries,
    DataError,
    HistoricalDataService,
    ValidationPolicy,
    open_data_service,
)
from qtrader.data._chunks import ChunkValidator
from qtrader.data._rows import RawTable
from qtrader.data.gaps import suspected_splits
from qtrader.data.options import BarOptions
from qtrader.data.parquet import ParquetBarSource, ParquetDataConfig
from qtrader.data.source import BarSource, ChunkedData, ChunkedSource, SeriesChunk, SymbolData
from qtrader.models import BarSlice, CashDividend, PriceAdjustment, Split, StreamRequest

NY = ZoneInfo("America/New_York")
# Business days 2024-01-02 .. 2024-01-12 (no holiday in between).
DAYS = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"]
DAYS += ["2024-01-09", "2024-01-10", "2024-01-11", "2024-01-12"]
Row = tuple[str, float, float, float, float, float]


def bar(day: str, close: float, **values: float) -> Row:
    """A consistent bar: open = close, high = close + 1, low = close - 1 unless given."""
    row = {"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 100.0}
    row.update(values)
    return (day, row["open"], row["high"], row["low"], row["close"], row["volume"])


def write(path: Path, rows: Sequence[Row], dates: pa.Array | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    names = ("date", "open", "high", "low", "close", "volume")
    columns: dict[str, Any] = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    if dates is not None:
        columns["date"] = dates
    pq.write_table(pa.table(columns), path)
    return path


def service(folder: Path, chunk_rows: int | None = None, **options: Any) -> HistoricalDataService:
    if chunk_rows is not None:
        options["chunk_rows"] = chunk_rows
    return open_data_service("parquet", {"path": folder, **options}, base_dir=folder)


def view(s: BarSlice) -> tuple[Any, ...]:
    return (
        s.timestamp,
        s.opened_at,
        s.symbols,
        s.open.tolist(),
        s.high.tolist(),
        s.low.tolist(),
        s.close.tolist(),
        s.volume.tolist(),
        s.warmup,
        s.actions,
        s.bars_opened_at,
    )


def both(
    folder: Path, request: StreamRequest, chunk_rows: int, **options: Any
) -> list[tuple[Any, ...]]:
    """The chunked stream's slices, after checking they and the anomalies are the whole's."""
    whole_svc = service(folder, **options)
    whole = [view(s) for s in whole_svc.stream(request)]
    chunked_svc = service(folder, chunk_rows, **options)
    chunked = [view(s) for s in chunked_svc.stream(request)]
    assert chunked == whole
    assert chunked_svc.anomalies == whole_svc.anomalies
    return chunked


def error(folder: Path, request: StreamRequest, chunk_rows: int | None, **options: Any) -> str:
    with pytest.raises(DataError) as caught:
        service(folder, chunk_rows, **options).stream(request)
    return str(caught.value)


def on(day: int) -> datetime:
    """The daily bar of 2024-01-<day>: stamped at the 16:00 New York close."""
    return datetime(2024, 1, day, 16, tzinfo=NY)


def request(symbols: tuple[str, ...], start: int, end: int, warmup: int = 0) -> StreamRequest:
    return StreamRequest(
        symbols=symbols, start=date(2024, 1, start), end=date(2024, 1, end), warmup_bars=warmup
    )


def universe(folder: Path) -> None:
    # A trades every day (closes 10..18), B starts late and stops early (5th to 10th,
    # closes 20..23), C skips days (2nd, 4th, 8th, 11th, closes 30..33).
    write(folder / "A.parquet", [bar(d, 10 + i) for i, d in enumerate(DAYS)])
    b_days = ["2024-01-05", "2024-01-08", "2024-01-09", "2024-01-10"]
    write(folder / "B.parquet", [bar(d, 20 + i) for i, d in enumerate(b_days)])
    c_days = ["2024-01-02", "2024-01-04", "2024-01-08", "2024-01-11"]
    write(folder / "C.parquet", [bar(d, 30 + i) for i, d in enumerate(c_days)])


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 50])
def test_late_early_and_skipping_symbols_with_warmup(tmp_path: Path, chunk_rows: int) -> None:
    universe(tmp_path)
    slices = both(tmp_path, request(("B", "A", "C"), 4, 11, warmup=2), chunk_rows)
    # Warmup 2 bars before the 4th: A's 2nd and 3rd, C's 2nd only (it has one), B none.
    # Then every bar from the 4th to the 11th, symbols in the requested order.
    assert [(s[0], s[2], s[8]) for s in slices] == [
        (on(2), ("A", "C"), True),
        (on(3), ("A",), True),
        (on(4), ("A", "C"), False),
        (on(5), ("B", "A"), False),
        (on(8), ("B", "A", "C"), False),
        (on(9), ("B", "A"), False),
        (on(10), ("B", "A"), False),
        (on(11), ("A", "C"), False),
    ]
    # On the 8th: B's 2nd bar (21), A's 5th (14), C's 3rd (32); opened at 09:30.
    assert slices[4][6] == [21.0, 14.0, 32.0]
    assert slices[4][1] == datetime(2024, 1, 8, 9, 30, tzinfo=NY)


def test_warmup_across_chunk_boundaries(tmp_path: Path) -> None:
    universe(tmp_path)
    # Chunks of A: [2nd, 3rd], [4th, 5th], [8th, 9th] ... Start on the 9th (bar 5) with
    # 3 warmup bars: bars 2-4 (4th, 5th, 8th), over two chunks, then the 9th and 10th.
    slices = both(tmp_path, request(("A",), 9, 10, warmup=3), 2)
    assert [(s[0], s[6], s[8]) for s in slices] == [
        (on(4), [12.0], True),
        (on(5), [13.0], True),
        (on(8), [14.0], True),
        (on(9), [15.0], False),
        (on(10), [16.0], False),
    ]


def test_actions_on_a_chunk_boundary_and_on_a_day_without_bars(tmp_path: Path) -> None:
    universe(tmp_path)
    (tmp_path / "actions.csv").write_text(
        "date,symbol,type,value\n"
        "2024-01-02,A,dividend,0.1\n"  # before the first delivered bar (the 3rd): dropped
        "2024-01-04,A,split,2\n"  # the first bar of A's second chunk
        "2024-01-06,A,dividend,0.5\n"  # a Saturday: goes to the 8th, first of the 3rd chunk
        "2024-01-08,B,dividend,0.2\n"
        "2024-01-11,A,dividend,0.3\n"  # after the requested end (the 10th): dropped
    )
    slices = both(tmp_path, request(("B", "A"), 3, 10), 2, actions="actions.csv")
    actions = {s[0].day: s[9] for s in slices if s[9]}
    assert actions == {
        4: (Split(symbol="A", ex_date=date(2024, 1, 4), ratio=Decimal(2)),),
        # Symbols in the requested order: B before A.
        8: (
            CashDividend(symbol="B", ex_date=date(2024, 1, 8), amount=Decimal("0.2")),
            CashDividend(symbol="A", ex_date=date(2024, 1, 6), amount=Decimal("0.5")),
        ),
    }


def messy(folder: Path) -> Path:
    return write(
        folder / "A.parquet",
        [
            bar("2024-01-02", 10),  # row 1
            bar("2024-01-04", 11),  # row 2
            bar("2024-01-03", 12),  # row 3: before row 2 (across the boundary of 2-row chunks)
            bar("2024-01-05", 13, high=9),  # row 4: high 9 below low 12
            bar("2024-01-08", 14),  # row 5
            bar("2024-01-09", 15),  # row 6
            bar("2024-01-09", 16),  # row 7: the date of row 6, in the next 2-row chunk
            bar("2024-01-10", 17, open=18.1),  # row 8: open above high 18 by 0.5556%
        ],
    )


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 50])
def test_repair_drops_and_widens_the_rows_of_a_whole_read(tmp_path: Path, chunk_rows: int) -> None:
    path = messy(tmp_path)
    options = {"validation": "repair", "tolerance": 0.01}
    slices = both(tmp_path, request(("A",), 2, 12), chunk_rows, **options)
    # Kept: rows 1, 2, 5, 6 and 8 (widened: high 18.1).
    assert [(s[0], s[6]) for s in slices] == [
        (on(2), [10.0]),
        (on(4), [11.0]),
        (on(8), [14.0]),
        (on(9), [15.0]),
        (on(10), [17.0]),
    ]
    assert slices[-1][4] == [18.1]
    svc = service(tmp_path, chunk_rows, **options)
    list(svc.stream(request(("A",), 2, 12)))
    assert [(a.line, a.date, a.problem, a.action, a.path) for a in svc.anomalies] == [
        (3, "2024-01-03", "date out of order: not after 2024-01-04 on row 2", "dropped", path),
        (4, "2024-01-05", "high 9.0 is below low 12.0", AnomalyAction.DROPPED, path),
        (7, "2024-01-09", "duplicate date (already on row 6)", AnomalyAction.DROPPED, path),
        (
            8,
            "2024-01-10",
            "open 18.1 is above high 18.0 by 0.5556% (within tolerance): high raised to 18.1",
            AnomalyAction.WIDENED,
            path,
        ),
    ]


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 50])
def test_strict_raises_for_the_same_row(tmp_path: Path, chunk_rows: int) -> None:
    path = messy(tmp_path)
    expected = f"{path}, row 3: 2024-01-03: date out of order: not after 2024-01-04 on row 2"
    assert error(tmp_path, request(("A",), 2, 12), None) == expected
    assert error(tmp_path, request(("A",), 2, 12), chunk_rows) == expected


def test_a_gap_like_a_split_across_a_chunk_boundary(tmp_path: Path) -> None:
    path = write(
        tmp_path / "A.parquet",
        [bar("2024-01-02", 100, high=101, low=99), bar("2024-01-03", 50, high=51, low=49)],
    )
    svc = service(tmp_path, 1)
    list(svc.stream(request(("A",), 2, 3)))
    # Close 100 on the 2nd (chunk 1), open 50 on the 3rd (chunk 2): 100 / 50 = 2x.
    [gap] = svc.anomalies
    assert (gap.line, gap.date, gap.action, gap.path) == (2, "2024-01-03", "reported", path)
    assert gap.problem.startswith(
        "overnight gap of 2x (close 100 on 2024-01-02, open 50) with no split recorded: "
        "looks like an unrecorded 2-for-1 split"
    )
    both(tmp_path, request(("A",), 2, 3), 1)
    # A split recorded on the 3rd explains it; a split-adjusted feed is not checked.
    (tmp_path / "actions.csv").write_text("date,symbol,type,value\n2024-01-03,A,split,2\n")
    svc = service(tmp_path, 1, actions="actions.csv")
    list(svc.stream(request(("A",), 2, 3)))
    assert svc.anomalies == ()
    svc = service(tmp_path, 1, price_adjustment="split_adjusted")
    list(svc.stream(request(("A",), 2, 3)))
    assert svc.anomalies == ()


def test_a_chunk_without_a_parsable_date_is_worded_as_the_file_is(tmp_path: Path) -> None:
    intraday = {"validation": "repair", "bar_interval": "00:05:00"}
    rows = [bar("garbage", 10), bar("2024-01-02 10:00", 11), bar("2024-01-02 10:05", 12)]
    path = write(tmp_path / "A.parquet", rows)
    svc = service(tmp_path, 1, **intraday)
    slices = [view(s) for s in svc.stream(request(("A",), 2, 2))]
    # The first row alone looks like nothing; the file is intraday (row 2 decides).
    [dropped] = svc.anomalies
    assert (dropped.line, dropped.problem) == (
        1,
        "unparsable date 'garbage': expected YYYY-MM-DD HH:MM[:SS] like the first row",
    )
    # 10:00 and 10:05 New York, each opened 5 minutes before.
    assert [(s[0], s[1]) for s in slices] == [
        (datetime(2024, 1, 2, 10, tzinfo=NY), datetime(2024, 1, 2, 9, 55, tzinfo=NY)),
        (datetime(2024, 1, 2, 10, 5, tzinfo=NY), datetime(2024, 1, 2, 10, tzinfo=NY)),
    ]
    both(tmp_path, request(("A",), 2, 2), 1, **intraday)
    expected = f"{path}, row 1: garbage: {dropped.problem}"
    assert error(tmp_path, request(("A",), 2, 2), 1, bar_interval="00:05:00") == expected
    # A daily file whose second chunk holds only an intraday-looking row; an intraday
    # file whose middle chunk has no date.
    write(tmp_path / "A.parquet", [bar("2024-01-02", 10), bar("2024-01-03 10:00", 11)])
    svc = service(tmp_path, 1, validation="repair")
    list(svc.stream(request(("A",), 2, 3)))
    assert [a.problem for a in svc.anomalies] == [
        "unparsable date '2024-01-03 10:00': expected YYYY-MM-DD"
    ]
    both(tmp_path, request(("A",), 2, 3), 1, validation="repair")
    rows = [bar("2024-01-02 10:00", 10), bar("", 11), bar("2024-01-02 10:10", 12)]
    write(tmp_path / "A.parquet", rows)
    svc = service(tmp_path, 1, **intraday)
    list(svc.stream(request(("A",), 2, 2)))
    assert [(a.line, a.problem) for a in svc.anomalies] == [(2, "missing date")]
    both(tmp_path, request(("A",), 2, 2), 1, **intraday)


def test_a_file_without_any_parsable_date(tmp_path: Path) -> None:
    path = write(tmp_path / "A.parquet", [bar("x", 10), bar("y", 11)])
    # No row decides: read as daily, like a whole file; repair then has no row left.
    whole = error(tmp_path, request(("A",), 2, 3), None, validation="repair")
    assert whole == (
        f"{path}: every data row is invalid (2 rows); first: row 1: unparsable date 'x': "
        "expected YYYY-MM-DD"
    )
    assert error(tmp_path, request(("A",), 2, 3), 1, validation="repair") == whole
    assert error(tmp_path, request(("A",), 2, 3), 1) == error(tmp_path, request(("A",), 2, 3), None)


def test_timestamps_midnight_in_one_chunk_only_are_intraday(tmp_path: Path) -> None:
    stamps = pa.array(
        np.array(["2024-01-02T00:00", "2024-01-02T10:00", "2024-01-02T10:05"], "datetime64[ns]"),
        pa.timestamp("ns"),
    )
    write(tmp_path / "A.parquet", [bar("", 10 + i) for i in range(3)], dates=stamps)
    slices = both(tmp_path, request(("A",), 2, 2), 1, bar_interval="00:05:00")
    # The file is intraday (not every time is midnight), so is its all-midnight first chunk.
    assert [s[0] for s in slices] == [
        datetime(2024, 1, 2, h, m, tzinfo=NY) for h, m in ((0, 0), (10, 0), (10, 5))
    ]
    days = pa.array(np.array(DAYS[:3], "datetime64[ns]"), pa.timestamp("ns"))
    write(tmp_path / "A.parquet", [bar("", 10 + i) for i in range(3)], dates=days)
    slices = both(tmp_path, request(("A",), 2, 4), 1)
    assert [s[0] for s in slices] == [on(2), on(3), on(4)]


def test_file_level_errors_are_the_whole_reads(tmp_path: Path) -> None:
    intraday = [bar("2024-01-02 10:00", 10), bar("2024-01-02 10:05", 11)]
    path = write(tmp_path / "A.parquet", intraday)
    message = error(tmp_path, request(("A",), 2, 2), 1)
    assert message == f"{path}: " + (
        "intraday bars read in chunks (chunk_rows) need bar_interval in the config "
        "(e.g. '00:05:00'): inferring it takes the whole file"
    )
    midnights = [bar("2024-01-02 00:00", 10), bar("2024-01-03 00:00", 11)]
    write(tmp_path / "A.parquet", midnights)
    whole = error(tmp_path, request(("A",), 2, 3), None, bar_interval="00:05:00")
    assert whole.startswith(f"{path}, row 1: every time of day is 00:00")
    assert error(tmp_path, request(("A",), 2, 3), 1, bar_interval="00:05:00") == whole
    # high 8 below low 9; high 12 below low 13.
    write(tmp_path / "A.parquet", [bar("2024-01-02", 10, high=8), bar("2024-01-03", 11, low=13)])
    whole = error(tmp_path, request(("A",), 2, 3), None, validation="repair")
    assert whole == (
        f"{path}: every data row is invalid (2 rows); first: row 1: high 8.0 is below low 9.0"
    )
    assert error(tmp_path, request(("A",), 2, 3), 1, validation="repair") == whole


def test_a_folder_of_parts(tmp_path: Path) -> None:
    write(tmp_path / "A" / "part-0.parquet", [bar("2024-01-02", 10), bar("2024-01-03", 11)])
    part1 = write(tmp_path / "A" / "part-1.parquet", [bar("2024-01-03", 12), bar("2024-01-04", 13)])
    svc = service(tmp_path, 1, validation="repair")
    slices = [view(s) for s in svc.stream(request(("A",), 2, 4))]
    assert [s[6] for s in slices] == [[10.0], [11.0], [13.0]]
    [dup] = svc.anomalies
    assert (dup.path, dup.line, dup.problem) == (
        part1,
        1,
        "duplicate date (already on row 2 of part-0.parquet)",
    )
    both(tmp_path, request(("A",), 2, 4), 1, validation="repair")
    strict = error(tmp_path, request(("A",), 2, 4), 1)
    assert strict == f"{part1}, row 1: 2024-01-03: {dup.problem}"
    assert error(tmp_path, request(("A",), 2, 4), None) == strict
    # A part without a column is refused before any row is checked, as a whole read does.
    pq.write_table(pa.table({"date": ["2024-01-05"], "open": [1.0]}), part1)
    whole = error(tmp_path, request(("A",), 2, 4), None)
    assert whole.startswith(f"{part1}: missing column(s) 'high', 'low', 'close', 'volume'")
    assert error(tmp_path, request(("A",), 2, 4), 1) == whole


def test_chunked_symbols_are_not_kept(tmp_path: Path) -> None:
    universe(tmp_path)
    svc = service(tmp_path, 2)
    assert [s.close.tolist() for s in svc.stream(request(("C",), 2, 4))] == [[30.0], [31.0]]
    write(tmp_path / "C.parquet", [bar("2024-01-02", 40), bar("2024-01-04", 41)])
    # Read again at each stream (a whole read would be kept and still give 30, 31).
    assert [s.close.tolist() for s in svc.stream(request(("C",), 2, 4))] == [[40.0], [41.0]]


def test_a_symbol_loaded_whole_streams_with_chunked_ones(tmp_path: Path) -> None:
    universe(tmp_path)
    (tmp_path / "actions.csv").write_text(
        "date,symbol,type,value\n2024-01-01,A,split,2\n2024-01-06,A,split,2\n"
    )
    svc = service(tmp_path, 2, actions="actions.csv")
    assert len(svc.load("A").series) == 9
    chunked = [view(s) for s in svc.stream(request(("B", "A", "C"), 4, 11, warmup=2))]
    whole_svc = service(tmp_path, actions="actions.csv")
    whole = [view(s) for s in whole_svc.stream(request(("B", "A", "C"), 4, 11, 2))]
    assert chunked == whole
    # A's first bar on or after the 1st is the 2nd, delivered as warmup: it carries that
    # split; the split of the 6th (a Saturday) is in the slice of the 8th.
    assert [s[0].day for s in chunked if s[9]] == [2, 8]


def test_daily_and_intraday_cannot_be_mixed(tmp_path: Path) -> None:
    universe(tmp_path)
    write(tmp_path / "I.parquet", [bar("2024-01-02 10:00", 10), bar("2024-01-02 10:05", 11)])
    message = error(tmp_path, request(("A", "I"), 2, 3), 1, bar_interval="00:05:00")
    assert message == (
        f"cannot stream daily data (A) together with intraday data (I) from {tmp_path}"
    )


def test_two_intraday_symbols_share_a_slice(tmp_path: Path) -> None:
    write(tmp_path / "I.parquet", [bar("2024-01-02 10:00", 10), bar("2024-01-02 10:05", 11)])
    write(tmp_path / "J.parquet", [bar("2024-01-02 10:05", 20)])
    slices = both(tmp_path, request(("I", "J"), 2, 2), 1, bar_interval="00:05:00")
    assert [(s[2], s[6]) for s in slices] == [(("I",), [10.0]), (("I", "J"), [11.0, 20.0])]


def test_a_short_last_bar_opens_when_the_bar_ahead_closed_in_chunks_too(
    tmp_path: Path,
) -> None:
    # Hourly bars stamped 14:30, 15:30 and 16:00: the last one is half an hour. Taken as a
    # full hour it "opened" at 15:00, before the 15:30 bar closed (a fill at its open was
    # stamped before a decision at 15:30). Read in chunks of one row, the bar ahead of each
    # chunk's first is the last of the chunk before; the next session starts afresh.
    stamps = ["2024-01-02 14:30", "2024-01-02 15:30", "2024-01-02 16:00", "2024-01-03 10:30"]
    write(tmp_path / "I.parquet", [bar(t, 10.0 + i) for i, t in enumerate(stamps)])
    slices = both(tmp_path, request(("I",), 2, 3), 1, bar_interval="01:00:00")
    assert [(s[0], s[1]) for s in slices] == [
        (datetime(2024, 1, 2, 14, 30, tzinfo=NY), datetime(2024, 1, 2, 13, 30, tzinfo=NY)),
        (datetime(2024, 1, 2, 15, 30, tzinfo=NY), datetime(2024, 1, 2, 14, 30, tzinfo=NY)),
        (datetime(2024, 1, 2, 16, 0, tzinfo=NY), datetime(2024, 1, 2, 15, 30, tzinfo=NY)),
        (datetime(2024, 1, 3, 10, 30, tzinfo=NY), datetime(2024, 1, 3, 9, 30, tzinfo=NY)),
    ]


def test_data_changed_while_streaming(tmp_path: Path) -> None:
    universe(tmp_path)
    slices = service(tmp_path, 2).stream(request(("A",), 2, 12))
    write(tmp_path / "A.parquet", [bar("2024-01-02", 10)])  # after the check: 1 bar, not 9
    with pytest.raises(DataError, match=r"A: fewer bars than when the stream was checked"):
        list(slices)


def test_a_stream_left_early_and_an_empty_window(tmp_path: Path) -> None:
    universe(tmp_path)
    slices = service(tmp_path, 2).stream(request(("A", "B"), 2, 12))
    assert next(slices).timestamp == on(2)
    slices.close()  # type: ignore[attr-defined]
    assert list(service(tmp_path, 2).stream(request(("B",), 11, 12))) == []


def test_config_and_capability(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="chunk_rows"):
        ParquetDataConfig(path=tmp_path, chunk_rows=0)
    source = ParquetBarSource(ParquetDataConfig(path=tmp_path, chunk_rows=8))
    assert isinstance(source, ChunkedSource)
    assert source.chunked("A")
    assert not ParquetBarSource(ParquetDataConfig(path=tmp_path)).chunked("A")


def test_the_validator_of_no_rows(tmp_path: Path) -> None:
    validator = ChunkValidator("A", BarOptions(), Path("A.parquet"))
    empty = RawTable(
        Path("A.parquet"), np.empty(0, np.int64), pd.Series([], dtype="str"), np.empty((0, 5))
    )
    assert validator.feed(empty) == []
    with pytest.raises(DataError, match="no data rows"):
        validator.finish()
    pq.write_table(
        pa.table(
            {
                n: pa.array([], pa.string() if n == "date" else pa.float64())
                for n in ("date", "open", "high", "low", "close", "volume")
            }
        ),
        tmp_path / "A.parquet",
    )
    message = error(tmp_path, request(("A",), 2, 3), 1)
    assert message == error(tmp_path, request(("A",), 2, 3), None)
    assert "no data rows" in message


def test_gaps_see_the_bar_before_a_chunk() -> None:
    day = np.array(["2024-01-03"], dtype="datetime64[D]")
    one = BarSeries(
        symbol="A",
        path=Path("A.parquet"),
        timestamps=np.array([1], dtype=np.int64),
        opened_at=np.array([0], dtype=np.int64),
        sessions=day,
        ohlcv=np.array([[25.0, 26.0, 24.0, 25.0, 1.0]]),
        lines=np.array([7], dtype=np.int64),
    )
    assert suspected_splits(one, ()) == ()
    # Close 100 before, open 25: a 4x gap on bar 0 (row 7).
    [gap] = suspected_splits(one, (), previous=(np.datetime64("2024-01-02", "D"), 100.0))
    assert (gap.line, gap.date) == (7, "2024-01-03")
    assert "unrecorded 4-for-1 split" in gap.problem


class _Fake:
    """A chunked source that breaks the adapter contract on request."""

    def __init__(self, symbol_of_chunks: str, actions: tuple[Split | CashDividend, ...]) -> None:
        self._symbol = symbol_of_chunks
        self._actions = actions

    location = "fake"
    price_adjustment = PriceAdjustment.SPLIT_ADJUSTED
    zone = NY

    def symbols(self) -> list[str]:
        return ["A"]

    def check_symbols(self, symbols: Sequence[str]) -> None:
        return None

    def load(self, symbol: str, start: date | None = None, end: date | None = None) -> SymbolData:
        raise AssertionError("a chunked symbol is not loaded whole")

    def chunked(self, symbol: str) -> bool:
        return True

    def load_chunks(self, symbol: str) -> ChunkedData:
        def read(alone: bool) -> Iterator[SeriesChunk]:
            stamp = np.array([1_704_229_200 * 10**9], dtype=np.int64)  # 2024-01-02 16:00 NY
            yield SeriesChunk(
                BarSeries(
                    symbol=self._symbol,
                    path=None,
                    timestamps=stamp,
                    opened_at=stamp - 1,
                    sessions=np.array(["2024-01-02"], dtype="datetime64[D]"),
                    ohlcv=np.array([[10.0, 11.0, 9.0, 10.0, 1.0]]),
                )
            )

        return ChunkedData(symbol, self._actions, read)


def test_the_service_checks_a_chunked_adapter() -> None:
    good = _Fake("A", ())
    assert isinstance(good, BarSource)
    slices = list(HistoricalDataService(good).stream(request(("A",), 2, 2)))
    assert [s.timestamp for s in slices] == [on(2)]
    with pytest.raises(DataError, match="adapter returned chunks of 'B' when asked for 'A'"):
        HistoricalDataService(_Fake("B", ())).stream(request(("A",), 2, 2))
    split = Split(symbol="A", ex_date=date(2024, 1, 2), ratio=Decimal(2))
    with pytest.raises(DataError, match="a split_adjusted feed cannot carry split of A"):
        HistoricalDataService(_Fake("A", (split,))).stream(request(("A",), 2, 2))


# -- property: chunked == whole on random small series ---------------------------------

POOL = [d.strftime("%Y-%m-%d") for d in pd.bdate_range("2024-02-26", periods=16)]


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, list[Row]], StreamRequest, int]:
    names = draw(st.lists(st.sampled_from("ABCD"), min_size=1, max_size=3, unique=True))
    files: dict[str, list[Row]] = {}
    for name in names:
        days = sorted(draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=12, unique=True)))
        rows = []
        for day in days:
            close = float(draw(st.sampled_from([10, 20, 40, 41])))  # 2x gaps happen
            rows.append(bar(day, close))
            kind = draw(st.sampled_from(["ok", "ok", "ok", "repeat", "bad", "back"]))
            if kind == "repeat":
                rows.append(bar(day, close + 1))  # a duplicate date
            elif kind == "bad":
                rows.append(bar(day, close, high=close - 2))
            elif kind == "back":
                rows.append(bar(POOL[0], close))  # out of order unless it is the first
        files[name] = rows
    i = draw(st.integers(0, len(POOL) - 1))
    j = draw(st.integers(i, len(POOL) - 1))
    req = StreamRequest(
        symbols=tuple(draw(st.permutations(names))),
        start=date.fromisoformat(POOL[i]),
        end=date.fromisoformat(POOL[j]),
        warmup_bars=draw(st.integers(0, 5)),
    )
    return files, req, draw(st.integers(1, 6))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_chunked_equals_whole_on_random_series(case: tuple[Any, StreamRequest, int]) -> None:
    files, req, chunk_rows = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, rows in files.items():
            write(folder / f"{name}.parquet", rows)
        # Every split once in a while, to cover placement and explained gaps.
        first = req.symbols[0]
        (folder / "actions.csv").write_text(
            f"date,symbol,type,value\n{POOL[3]},{first},split,2\n{POOL[9]},{first},dividend,1\n"
        )
        both(folder, req, chunk_rows, validation=ValidationPolicy.REPAIR, actions="actions.csv")


def test_on_one_ex_date_a_dividend_comes_before_a_split_whatever_the_file_order(
    tmp_path: Path,
) -> None:
    # The dividend is owed to the holders at the previous close, per share as traded then:
    # applied after the split it would be paid on the split's shares (4x too much here).
    universe(tmp_path)
    (tmp_path / "actions.csv").write_text(
        "date,symbol,type,value\n"
        "2024-01-08,A,split,4\n"
        "2024-01-08,A,dividend,0.5\n"
        "2024-01-06,A,dividend,0.1\n"  # a Saturday: also in the slice of the 8th, first
    )
    slices = both(tmp_path, request(("A",), 3, 10), 2, actions="actions.csv")
    assert {s[0].day: s[9] for s in slices if s[9]} == {
        8: (
            CashDividend(symbol="A", ex_date=date(2024, 1, 6), amount=Decimal("0.1")),
            CashDividend(symbol="A", ex_date=date(2024, 1, 8), amount=Decimal("0.5")),
            Split(symbol="A", ex_date=date(2024, 1, 8), ratio=Decimal(4)),
        )
    }
    svc = service(tmp_path, actions="actions.csv")
    assert [a.kind for a in svc.actions("A")] == ["cash_dividend", "cash_dividend", "split"]
