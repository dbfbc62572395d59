"""The adapter port inside ``qtrader-data``: what every vendor adapter provides.

An adapter (``csv``, ``algoseek``, ``schwab`` ...) knows one format or API. It
produces, per symbol, the validated bar columns plus that symbol's corporate
actions and the anomalies found while loading (``SymbolData``). One generic
service, ``HistoricalDataService``, merges them into ``BarSlice``s and puts each
action into the slice of its ex-date, so no adapter re-implements streaming.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from qtrader.data.errors import Anomaly
from qtrader.data.series import BarSeries
from qtrader.models import CashDividend, PriceAdjustment, Split

Action = Split | CashDividend


@dataclass(frozen=True, slots=True, eq=False)
class SymbolData:
    """One symbol as an adapter delivers it: bars, actions and anomalies.

    ``actions`` are sorted by ex-date and belong to ``series.symbol``. On a
    ``split_adjusted`` feed only cash dividends may appear (per adjusted share);
    on a ``total_return`` feed none. ``window`` is the range of session dates
    the adapter was asked for (``None``: everything the source has).
    """

    series: BarSeries
    actions: tuple[Action, ...] = ()
    anomalies: tuple[Anomaly, ...] = ()
    window: tuple[date, date] | None = None


@runtime_checkable
class BarSource(Protocol):
    """One adapter. It validates at ``load`` (the boundary) and caches nothing itself
    except what it fetched (the service keeps what was loaded).

    A source whose ``load`` may run for several symbols at once in threads (it reads
    files and shares no mutable state) says so with a class attribute
    ``concurrent_loads = True``; the service then loads a request's symbols in a few
    threads (see ``LOAD_THREADS``). Without it, symbols load one after another (a rate
    limited API, a lazily built index).
    """

    @property
    def location(self) -> str:
        """Where the data lives (a folder, a URL), for messages."""
        ...

    @property
    def price_adjustment(self) -> PriceAdjustment: ...

    @property
    def zone(self) -> ZoneInfo:
        """The zone slices are shown in (the exchange's)."""
        ...

    def symbols(self) -> list[str]:
        """The symbols available without fetching, sorted."""
        ...

    def check_symbols(self, symbols: Sequence[str]) -> None:
        """Raise ``UnknownSymbolError`` naming every symbol the source does not have."""
        ...

    def load(self, symbol: str, start: date | None = None, end: date | None = None) -> SymbolData:
        """The validated data of ``symbol``: at least the sessions in ``[start, end]`` when
        given (a file adapter returns the whole file), with every action of that range."""
        ...


Progress = Callable[[str, int, int], None]
"""``progress(symbol, done, total)``: called after each symbol of an update."""


@dataclass(frozen=True, slots=True)
class UpdateReport:
    """What an update did for one symbol."""

    symbol: str
    fetched_rows: int
    cached_rows: int
    first: date | None
    last: date | None


@runtime_checkable
class FetchingSource(BarSource, Protocol):
    """An adapter that fetches from a remote API into a local cache."""

    def update(self, symbol: str, start: date, end: date) -> UpdateReport:
        """Fetch what the cache lacks of ``[start, end]``; with the cache complete,
        nothing is fetched."""
        ...


@dataclass(frozen=True, slots=True, eq=False)
class SeriesChunk:
    """Consecutive validated bars of one symbol (maybe none) and the anomalies of their rows."""

    series: BarSeries
    anomalies: tuple[Anomaly, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class ChunkedData:
    """One symbol as a chunked adapter delivers it: its actions, and its bars read anew
    in chunks at each call of ``read``.

    ``read(alone)`` validates as it reads, with the same results as ``load`` (bars, anomalies,
    the same ``DataError`` for the same row); a file-level problem (every row invalid ...)
    raises by the end of the pass. The chunks' bar indexes continue from chunk to chunk.
    ``alone``: no other symbol is read meanwhile (the pre-pass), so the reader may hold
    its file open between chunks; while streaming (``False``) it should hold nothing
    that grows with the file.
    """

    symbol: str
    actions: tuple[Action, ...]
    read: Callable[[bool], Iterator[SeriesChunk]]


@runtime_checkable
class ChunkedSource(BarSource, Protocol):
    """An adapter that can also deliver a symbol in chunks, so that a stream holds one
    chunk per symbol rather than every bar (``load`` still reads the whole symbol)."""

    def chunked(self, symbol: str) -> bool:
        """Whether a stream should read ``symbol`` with ``load_chunks``."""
        ...

    def load_chunks(self, symbol: str) -> ChunkedData:
        """``symbol``'s actions and a reader of its chunks; files are checked to exist."""
        ...
