"""ParquetBarCache: covered ranges, metadata, merging of fetches, atomic writes, bad files."""

from __future__ import annotations

import json
import struct
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from qtrader.data import DataError
from qtrader.data import cache as cache_module
from qtrader.data.cache import ParquetBarCache, merge_ranges, missing_ranges
from qtrader.models import PriceAdjustment

# 2023-11-14 22:13:20 UTC: 1_700_000_000 s since the epoch.
NOW = 1_700_000_000.0
D = date


def make_cache(folder: Path) -> ParquetBarCache:
    return ParquetBarCache(
        folder, source="vendor", adjustment=PriceAdjustment.SPLIT_ADJUSTED, clock=lambda: NOW
    )


def days(*text: str) -> np.ndarray:
    return np.array(text, dtype="datetime64[D]")


def rows(*closes: float) -> np.ndarray:
    """One row per close: open = close, high = close + 1, low = close - 1, volume 1000."""
    return np.array([[c, c + 1, c - 1, c, 1000.0] for c in closes]).reshape(len(closes), 5)


def test_ranges_merge_when_they_overlap_or_touch_and_gaps_are_the_complement() -> None:
    # 1-3 and 4-6 touch (no day between them); 10-12 stands alone; 11-15 overlaps it.
    assert merge_ranges(
        [
            (D(2019, 1, 10), D(2019, 1, 12)),
            (D(2019, 1, 1), D(2019, 1, 3)),
            (D(2019, 1, 4), D(2019, 1, 6)),
            (D(2019, 1, 11), D(2019, 1, 15)),
        ]
    ) == (
        (D(2019, 1, 1), D(2019, 1, 6)),
        (D(2019, 1, 10), D(2019, 1, 15)),
    )
    covered = [(D(2019, 1, 1), D(2019, 1, 6)), (D(2019, 1, 10), D(2019, 1, 15))]
    # Asked 2018-12-30..2019-01-20: missing before the first range, between them, after.
    assert missing_ranges(covered, D(2018, 12, 30), D(2019, 1, 20)) == [
        (D(2018, 12, 30), D(2018, 12, 31)),
        (D(2019, 1, 7), D(2019, 1, 9)),
        (D(2019, 1, 16), D(2019, 1, 20)),
    ]
    assert missing_ranges(covered, D(2019, 1, 2), D(2019, 1, 5)) == []
    assert missing_ranges(covered, D(2019, 1, 2), D(2019, 1, 12)) == [
        (D(2019, 1, 7), D(2019, 1, 9))
    ]
    assert missing_ranges([], D(2019, 1, 2), D(2019, 1, 3)) == [(D(2019, 1, 2), D(2019, 1, 3))]
    # A range entirely after the request, and one entirely before it.
    assert missing_ranges([(D(2019, 2, 1), D(2019, 2, 2))], D(2019, 1, 2), D(2019, 1, 3)) == [
        (D(2019, 1, 2), D(2019, 1, 3))
    ]
    assert missing_ranges([(D(2018, 2, 1), D(2018, 2, 2))], D(2019, 1, 2), D(2019, 1, 3)) == [
        (D(2019, 1, 2), D(2019, 1, 3))
    ]


def test_store_writes_rows_and_metadata_and_reads_back(tmp_path: Path) -> None:
    cache = make_cache(tmp_path)
    assert cache.read("AAA") is None
    assert cache.symbols() == []
    stored = cache.store(
        "AAA", (D(2019, 1, 2), D(2019, 1, 6)), days("2019-01-02", "2019-01-03"), rows(10, 11), "R1"
    )
    path = tmp_path / "vendor" / "split_adjusted" / "AAA.parquet"
    assert stored.path == path
    meta = pq.read_schema(path).metadata
    assert {k.decode(): v.decode() for k, v in meta.items()} == {
        "source": "vendor",
        "symbol": "AAA",
        "adjustment": "split_adjusted",
        "covered": '[["2019-01-02", "2019-01-06"]]',
        "rows": "2",
        "fetched_at": "2023-11-14T22:13:20+00:00",
    }
    cached = cache.read("AAA")
    assert cached is not None
    assert cached.dates.tolist() == [D(2019, 1, 2), D(2019, 1, 3)]
    assert cached.values.tolist() == [[10, 11, 9, 10, 1000], [11, 12, 10, 11, 1000]]
    assert cached.requests == ("R1", "R1")
    assert (cached.first, cached.last, len(cached)) == (D(2019, 1, 2), D(2019, 1, 3), 2)
    assert cached.fetched_at == "2023-11-14T22:13:20+00:00"
    assert cache.symbols() == ["AAA"]
    # Covered through Sunday the 6th: the weekend is known to have no bars.
    assert cache.missing("AAA", D(2019, 1, 2), D(2019, 1, 8)) == [(D(2019, 1, 7), D(2019, 1, 8))]
    assert cached.missing(D(2019, 1, 1), D(2019, 1, 4)) == [(D(2019, 1, 1), D(2019, 1, 1))]
    assert repr(cache) == f"ParquetBarCache({str(tmp_path / 'vendor' / 'split_adjusted')!r})"


def test_a_later_fetch_adds_its_range_replaces_rows_of_those_dates_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    cache = make_cache(tmp_path)
    cache.store(
        "AAA",
        (D(2019, 1, 7), D(2019, 1, 9)),
        days("2019-01-07", "2019-01-08", "2019-01-09"),
        rows(20, 21, 22),
        "R1",
    )
    # Covers 2019-01-02..2019-01-08: the cached 7th and 8th are replaced, the 9th stays,
    # and a row Schwab added outside the range (the 10th) is not stored.
    cache.store(
        "AAA",
        (D(2019, 1, 2), D(2019, 1, 8)),
        days("2019-01-02", "2019-01-07", "2019-01-08", "2019-01-10"),
        rows(10, 30, 31, 99),
        "R2",
    )
    cached = cache.read("AAA")
    assert cached is not None
    assert cached.dates.tolist() == [D(2019, 1, 2), D(2019, 1, 7), D(2019, 1, 8), D(2019, 1, 9)]
    assert cached.values[:, 3].tolist() == [10, 30, 31, 22]
    assert cached.requests == ("R2", "R2", "R2", "R1")
    assert cached.covered == ((D(2019, 1, 2), D(2019, 1, 9)),)
    with pytest.raises(ValueError, match="empty range"):
        cache.store("AAA", (D(2019, 1, 3), D(2019, 1, 2)), days(), rows(), "R3")


def test_raw_table_selects_dates_and_numbers_rows_from_one(tmp_path: Path) -> None:
    cache = make_cache(tmp_path)
    cached = cache.store(
        "AAA",
        (D(2019, 1, 2), D(2019, 1, 4)),
        days("2019-01-02", "2019-01-03", "2019-01-04"),
        rows(10, 11, 12),
        "R1",
    )
    raw = cached.raw_table(D(2019, 1, 3), D(2019, 1, 4))
    assert raw.path == cached.path
    assert raw.lines.tolist() == [2, 3]
    assert raw.dates.tolist() == ["2019-01-03", "2019-01-04"]
    assert raw.values[:, 3].tolist() == [11, 12]
    assert cached.raw_table().lines.tolist() == [1, 2, 3]
    assert cached.request_of(3) == "R1"


def test_a_covered_range_without_rows_is_kept_but_the_symbol_is_not_listed(tmp_path: Path) -> None:
    cache = make_cache(tmp_path)
    cached = cache.store("NONE", (D(2019, 1, 5), D(2019, 1, 6)), days(), rows(), "R1")
    assert (len(cached), cached.first, cached.last) == (0, None, None)
    assert cache.missing("NONE", D(2019, 1, 5), D(2019, 1, 6)) == []
    assert cache.symbols() == []


def test_symbols_that_a_file_name_cannot_hold_are_escaped(tmp_path: Path) -> None:
    cache = make_cache(tmp_path)
    cache.store("BRK/B", (D(2019, 1, 2), D(2019, 1, 2)), days("2019-01-02"), rows(10), "R1")
    assert cache.path("BRK/B").name == "BRK%2FB.parquet"
    (cache.folder / "notes.txt").write_text("not a cache file")
    assert cache.symbols() == ["BRK/B"]
    with pytest.raises(DataError, match="an empty symbol cannot name a cache file"):
        cache.path(" ")


def test_an_interrupted_write_leaves_the_previous_cache_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = make_cache(tmp_path)
    cache.store("AAA", (D(2019, 1, 2), D(2019, 1, 2)), days("2019-01-02"), rows(10), "R1")
    before = cache.path("AAA").read_bytes()

    def write_half_then_fail(table: Any, where: str, **options: Any) -> None:
        Path(where).write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(cache_module.pq, "write_table", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        cache.store("AAA", (D(2019, 1, 3), D(2019, 1, 3)), days("2019-01-03"), rows(11), "R2")
    monkeypatch.undo()
    assert cache.path("AAA").read_bytes() == before
    cached = cache.read("AAA")
    assert cached is not None
    assert cached.dates.tolist() == [D(2019, 1, 2)]
    assert sorted(p.name for p in cache.folder.iterdir()) == ["AAA.parquet"]  # no temp file left


def test_a_corrupt_cache_file_is_a_data_error_naming_it(tmp_path: Path) -> None:
    cache = make_cache(tmp_path)
    cache.folder.mkdir(parents=True)
    cache.path("AAA").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="unreadable cache file") as info:
        cache.read("AAA")
    assert info.value.path == cache.path("AAA")
    assert str(cache.path("AAA")) in str(info.value)
    with pytest.raises(DataError, match="unreadable cache file"):
        cache.symbols()


def _write(path: Path, table: pa.Table, **meta: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table.replace_schema_metadata(meta), path)


def _good_table() -> pa.Table:
    return pa.table(
        {
            "date": pa.array([D(2019, 1, 2)], type=pa.date32()),
            **{n: pa.array([1.0]) for n in ("open", "high", "low", "close", "volume")},
            "request": pa.array(["R"]),
        }
    )


def test_a_cache_file_of_another_symbol_source_or_shape_is_refused(tmp_path: Path) -> None:
    cache = make_cache(tmp_path)
    path = cache.path("AAA")
    meta = {
        "source": "vendor",
        "symbol": "AAA",
        "adjustment": "split_adjusted",
        "covered": '[["2019-01-02", "2019-01-02"]]',
    }
    _write(path, _good_table(), **{**meta, "symbol": "BBB"})
    with pytest.raises(DataError, match="holds symbol 'BBB', expected 'AAA'; delete it"):
        cache.read("AAA")
    _write(path, _good_table(), **{**meta, "source": "other"})
    with pytest.raises(DataError, match="holds source 'other', expected 'vendor'"):
        cache.read("AAA")
    _write(path, _good_table().drop_columns(["request"]), **meta)
    with pytest.raises(DataError, match="unexpected columns in the cache file"):
        cache.read("AAA")
    _write(path, _good_table(), **{**meta, "covered": "[[2019]]"})
    with pytest.raises(DataError, match="unreadable 'covered' metadata"):
        cache.read("AAA")
    del meta["covered"]
    _write(path, _good_table(), **meta)
    with pytest.raises(DataError, match="unreadable 'covered' metadata"):
        cache.read("AAA")


def test_unsorted_rows_are_refused(tmp_path: Path) -> None:
    cache = make_cache(tmp_path)
    table = pa.table(
        {
            "date": pa.array([D(2019, 1, 3), D(2019, 1, 2)], type=pa.date32()),
            **{n: pa.array([1.0, 1.0]) for n in ("open", "high", "low", "close", "volume")},
            "request": pa.array(["R", "R"]),
        }
    )
    covered = json.dumps([["2019-01-02", "2019-01-03"]])
    _write(
        cache.path("AAA"),
        table,
        source="vendor",
        symbol="AAA",
        adjustment="split_adjusted",
        covered=covered,
    )
    with pytest.raises(DataError, match="not sorted by date"):
        cache.read("AAA")


def test_a_flipped_bit_in_a_cached_price_is_an_error_not_a_silent_price(tmp_path: Path) -> None:
    # A close of 123.456789 stored as its 8 bytes: one bit flipped on disk turns it into
    # another finite price, which every check of prices would let through. The pages carry
    # checksums: the file is refused by name.
    cache = make_cache(tmp_path)
    cache.store("AAA", (D(2019, 1, 2), D(2019, 1, 2)), days("2019-01-02"), rows(123.456789), "R")
    path = cache.path("AAA")
    data = bytearray(path.read_bytes())
    at = data.find(struct.pack("<d", 123.456789))
    assert at > 0  # stored plain (no compression hides it)
    data[at] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="unreadable cache file") as info:
        cache.read("AAA")
    assert info.value.path == path
