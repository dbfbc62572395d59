"""Which files of the folder hold which tickers and SecIds, read once per source.

Files are found by content, never by name: the vendor's own samples ship
``AMZN.csv`` holding MSFT. Only the ``Ticker`` and ``SecId`` columns are read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from qtrader.data.algoseek._reader import NotBarsFileError, read_keys
from qtrader.data.errors import DataError

SUFFIXES = (".csv", ".parquet")


@dataclass(frozen=True, slots=True)
class FolderIndex:
    folder: Path
    files: tuple[Path, ...]
    """Every data file, in path order."""
    by_ticker: dict[str, tuple[Path, ...]]
    by_sec_id: dict[str, tuple[Path, ...]]
    shared: frozenset[Path]
    """Files that hold more than one SecId or ticker (worth keeping once parsed)."""


def _data_files(folder: Path, skip: Path | None) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).parts
        # Hidden files and Spark/Hive markers (_SUCCESS, _common_metadata) are not data.
        if any(part.startswith((".", "_")) for part in relative):
            continue
        if path.suffix in SUFFIXES and path.is_file() and path.resolve() != skip:
            found.append(path)
    return found


def build_index(folder: Path, skip: Path | None = None) -> FolderIndex:
    """Index every ``*.csv`` and ``*.parquet`` under ``folder`` (``skip``: the master)."""
    if not folder.is_dir():
        raise DataError(
            "data folder not found (expected a folder of Algoseek daily OHLC files)", path=folder
        )
    tickers: dict[str, list[Path]] = defaultdict(list)
    sec_ids: dict[str, list[Path]] = defaultdict(list)
    files, shared = [], set()
    for path in _data_files(folder, skip.resolve() if skip is not None else None):
        try:
            held_tickers, held_ids = read_keys(path)
        except NotBarsFileError:
            continue  # a security master kept in the data folder
        files.append(path)
        for ticker in held_tickers:
            tickers[ticker].append(path)
        for sec_id in held_ids:
            sec_ids[sec_id].append(path)
        if len(held_tickers) > 1 or len(held_ids) > 1:
            shared.add(path)
    if not files:
        raise DataError(
            "no Algoseek files in the folder: expected *.csv or Hive-partitioned *.parquet "
            "files with columns TradeDate,Ticker,...,SecId",
            path=folder,
        )
    return FolderIndex(
        folder=folder,
        files=tuple(files),
        by_ticker={t: tuple(p) for t, p in tickers.items()},
        by_sec_id={s: tuple(p) for s, p in sec_ids.items()},
        shared=frozenset(shared),
    )
