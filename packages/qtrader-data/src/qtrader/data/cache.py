"""``ParquetBarCache``: what a fetching adapter got from its API, kept on disk.

One Parquet file per (source, price adjustment, symbol), at
``<folder>/<source>/<adjustment>/<SYMBOL>.parquet``, with the raw daily rows as
the API answered them (``date``, ``open`` ... ``volume``, and the ``request``
that fetched each row) and schema metadata: ``source``, ``symbol``,
``adjustment``, ``covered`` (the date ranges successfully requested, weekends
and holidays included, as JSON), ``rows`` and ``fetched_at``.

The covered ranges, not the rows, say what is known: a range without bars
(a holiday week, days before a listing) is not asked again, so a backtest whose
ranges are all covered runs offline. Rows are validated when read
(``CachedBars.raw_table`` feeds ``validate_rows``), so a cached bad row is
reported like a bad row of a file, naming the cache file and its row.

Every write replaces the file atomically (a temp file in the same folder, then
``os.replace``): an interrupted update leaves the previous cache readable.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, unquote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from qtrader.data._rows import RawTable
from qtrader.data.errors import DataError
from qtrader.data.series import DayArray
from qtrader.models import FloatArray, PriceAdjustment

__all__ = ["CachedBars", "DateRange", "ParquetBarCache", "merge_ranges", "missing_ranges"]

DateRange = tuple[date, date]
"""Inclusive ``(first, last)`` session dates."""

_SUFFIX = ".parquet"
_VALUES = ("open", "high", "low", "close", "volume")
_SCHEMA = pa.schema(
    [
        ("date", pa.date32()),
        *((name, pa.float64()) for name in _VALUES),
        ("request", pa.string()),
    ]
)
_ONE_DAY = timedelta(days=1)


def merge_ranges(ranges: Sequence[DateRange]) -> tuple[DateRange, ...]:
    """Sorted ranges with overlapping or adjacent ones joined (a covered Friday and a
    covered Saturday make one range)."""
    merged: list[DateRange] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + _ONE_DAY:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return tuple(merged)


def missing_ranges(covered: Sequence[DateRange], start: date, end: date) -> list[DateRange]:
    """The parts of ``[start, end]`` that no range of ``covered`` holds, in order."""
    gaps: list[DateRange] = []
    cursor = start
    for first, last in merge_ranges(covered):
        if last < cursor:
            continue
        if first > end:
            break
        if first > cursor:
            gaps.append((cursor, first - _ONE_DAY))
        cursor = last + _ONE_DAY
        if cursor > end:
            return gaps
    if cursor <= end:
        gaps.append((cursor, end))
    return gaps


@dataclass(frozen=True, slots=True, eq=False)
class CachedBars:
    """One symbol's cache file as read: raw rows (sorted by date) and what they cover."""

    path: Path
    symbol: str
    dates: DayArray
    """``datetime64[D]`` session date of each row."""
    values: FloatArray
    """``(n, 5)``: open, high, low, close, volume as the API gave them (NaN where missing)."""
    requests: tuple[str, ...]
    """The request that fetched each row, for messages."""
    covered: tuple[DateRange, ...]
    fetched_at: str

    def __len__(self) -> int:
        return len(self.dates)

    @property
    def first(self) -> date | None:
        return _as_date(self.dates[0]) if len(self) else None

    @property
    def last(self) -> date | None:
        return _as_date(self.dates[-1]) if len(self) else None

    def missing(self, start: date, end: date) -> list[DateRange]:
        return missing_ranges(self.covered, start, end)

    def raw_table(self, start: date | None = None, end: date | None = None) -> RawTable:
        """The rows whose date is in ``[start, end]`` (``None``: unbounded) for
        ``validate_rows``: dates as ``YYYY-MM-DD`` text, ``lines`` = 1-based rows of the file."""
        keep = np.ones(len(self), dtype=bool)
        if start is not None:
            keep &= self.dates >= np.datetime64(start, "D")
        if end is not None:
            keep &= self.dates <= np.datetime64(end, "D")
        rows = np.flatnonzero(keep)
        return RawTable(
            path=self.path,
            lines=(rows + 1).astype(np.int64),
            dates=pd.Series(np.datetime_as_string(self.dates[rows], unit="D"), dtype=object),
            values=np.ascontiguousarray(self.values[rows]),
        )

    def request_of(self, line: int) -> str:
        """The request that fetched row ``line`` (1-based)."""
        return self.requests[line - 1]


def _as_date(day: np.datetime64) -> date:
    value = day.astype("datetime64[D]").item()
    assert isinstance(value, date)
    return value


class ParquetBarCache:
    """Parquet files of fetched daily rows for one source and price adjustment.

    ``clock`` (seconds since the epoch) stamps ``fetched_at``; tests inject a fixed one.
    """

    def __init__(
        self,
        folder: Path,
        *,
        source: str,
        adjustment: PriceAdjustment,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self.adjustment = adjustment
        self.folder = folder / source / adjustment.value
        self._clock = clock

    def __repr__(self) -> str:
        return f"ParquetBarCache({str(self.folder)!r})"

    def path(self, symbol: str) -> Path:
        """The file of ``symbol``; characters a file name cannot hold are %-escaped."""
        if not symbol.strip():
            raise DataError("an empty symbol cannot name a cache file", path=self.folder)
        return self.folder / f"{quote(symbol, safe='')}{_SUFFIX}"

    def symbols(self) -> list[str]:
        """Symbols whose cache file holds at least one row, sorted."""
        if not self.folder.is_dir():
            return []
        found = []
        for p in self.folder.iterdir():
            if p.suffix != _SUFFIX or not p.is_file():
                continue
            try:
                rows = pq.read_metadata(p).num_rows
            except (OSError, pa.ArrowException) as exc:
                raise _corrupt(p, exc) from exc
            if rows:
                found.append(unquote(p.stem))
        return sorted(found)

    def read(self, symbol: str) -> CachedBars | None:
        """The cached rows of ``symbol``; ``None`` when nothing was ever cached."""
        path = self.path(symbol)
        if not path.exists():
            return None
        try:
            table = pq.read_table(path, page_checksum_verification=True)
        except (OSError, pa.ArrowException) as exc:
            raise _corrupt(path, exc) from exc
        meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
        expected = {"source": self.source, "adjustment": self.adjustment.value, "symbol": symbol}
        for key, value in expected.items():
            if meta.get(key) != value:
                raise DataError(
                    f"this cache file holds {key} {meta.get(key)!r}, expected {value!r}; "
                    "delete it to fetch again",
                    path=path,
                )
        if not table.schema.remove_metadata().equals(_SCHEMA):
            raise DataError(
                f"unexpected columns in the cache file: expected {_SCHEMA.names} with types "
                f"{[str(t) for t in _SCHEMA.types]}; delete it to fetch again",
                path=path,
            )
        try:
            covered = merge_ranges(
                [
                    (date.fromisoformat(a), date.fromisoformat(b))
                    for a, b in json.loads(meta["covered"])
                ]
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise DataError(
                f"unreadable 'covered' metadata in the cache file ({exc}); "
                "delete it to fetch again",
                path=path,
            ) from exc
        dates = table.column("date").to_numpy().astype("datetime64[D]")
        values = np.column_stack(
            [table.column(n).to_numpy(zero_copy_only=False) for n in _VALUES]
        ).astype(np.float64)
        if len(dates) > 1 and bool(np.any(np.diff(dates) < np.timedelta64(0, "D"))):
            raise DataError(
                "cache rows are not sorted by date; delete it to fetch again", path=path
            )
        return CachedBars(
            path=path,
            symbol=symbol,
            dates=dates,
            values=values.reshape(len(dates), len(_VALUES)),
            requests=tuple(str(r) for r in table.column("request").to_pylist()),
            covered=covered,
            fetched_at=meta.get("fetched_at", ""),
        )

    def missing(self, symbol: str, start: date, end: date) -> list[DateRange]:
        """The parts of ``[start, end]`` not yet fetched for ``symbol``."""
        cached = self.read(symbol)
        return missing_ranges(cached.covered if cached is not None else (), start, end)

    def store(
        self,
        symbol: str,
        covered: DateRange,
        dates: DayArray,
        values: FloatArray,
        request: str,
    ) -> CachedBars:
        """Add the rows one request answered for ``covered`` (replacing cached rows of
        those dates) and mark ``covered`` as fetched; rows outside ``covered`` are ignored."""
        first, last = covered
        if first > last:
            raise ValueError(f"empty range {first}..{last}")
        dates = np.asarray(dates, dtype="datetime64[D]")
        inside = (dates >= np.datetime64(first, "D")) & (dates <= np.datetime64(last, "D"))
        old = self.read(symbol)
        if old is not None:
            outside = (old.dates < np.datetime64(first, "D")) | (
                old.dates > np.datetime64(last, "D")
            )
            keep = np.flatnonzero(outside)
            all_dates = np.concatenate([old.dates[keep], dates[inside]])
            all_values = np.concatenate([old.values[keep], values[inside]])
            all_requests = [old.requests[i] for i in keep] + [request] * int(inside.sum())
            ranges = merge_ranges([*old.covered, covered])
        else:
            all_dates, all_values = dates[inside], values[inside]
            all_requests = [request] * int(inside.sum())
            ranges = (covered,)
        order = np.argsort(all_dates, kind="stable")  # duplicates stay, for validation to report
        fetched_at = datetime.fromtimestamp(self._clock(), tz=UTC).isoformat()
        table = pa.table(
            {
                "date": pa.array(all_dates[order], type=pa.date32()),
                **{n: pa.array(all_values[order, j]) for j, n in enumerate(_VALUES)},
                "request": pa.array([all_requests[i] for i in order], type=pa.string()),
            },
            schema=_SCHEMA,
        ).replace_schema_metadata(
            {
                "source": self.source,
                "symbol": symbol,
                "adjustment": self.adjustment.value,
                "covered": json.dumps([[a.isoformat(), b.isoformat()] for a, b in ranges]),
                "rows": str(len(all_dates)),
                "fetched_at": fetched_at,
            }
        )
        path = self.path(symbol)
        _write_atomically(table, path)
        return CachedBars(
            path=path,
            symbol=symbol,
            dates=all_dates[order],
            values=np.ascontiguousarray(all_values[order]),
            requests=tuple(all_requests[i] for i in order),
            covered=ranges,
            fetched_at=fetched_at,
        )


def _corrupt(path: Path, exc: Exception) -> DataError:
    return DataError(
        f"unreadable cache file ({type(exc).__name__}: {exc}); delete it to fetch again",
        path=path,
    )


def _write_atomically(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        # Page checksums: a bit flipped on disk in a price makes the file unreadable (named)
        # instead of another finite price that every later check would let through.
        pq.write_table(table, name, write_page_checksum=True)
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise
