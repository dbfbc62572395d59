"""The adapter port inside ``qtrader-data``: what every vendor adapter provides.

An adapter (``csv``, ``algoseek``, ``schwab`` ...) knows one format or API. It
produces, per symbol, the validated bar columns plus that symbol's corporate
actions and the anomalies found while loading (``SymbolData``). One generic
service, ``HistoricalDataService``, merges them into ``BarSlice``s and puts each
action into the slice of its ex-date, so no adapter re-implements streaming.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    except what it fetched (the service keeps what was loaded)."""

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
