"""Sessions in each instrument's zone: which session a bar belongs to, whether it ends
that session (DAY expiry, market-on-close) and whether it opens one (market-on-open)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from qtrader.execution.config import SessionConfig
from qtrader.models import BarSlice, Instrument


@dataclass(frozen=True, slots=True)
class BarSession:
    """Where one bar stands in its session, in its instrument's zone."""

    date: date
    """The local date of the bar's close stamp: its session."""
    ends: bool
    """Stamped at or after the session close and opened before it: the last bar of its
    session (a post-market bar ends none)."""
    opens: bool
    """Opened at or after the session open and before its close (neither a pre-market nor
    a post-market bar)."""
    after_close: bool = False
    """Opened at or after the session close: a post-market bar, in no regular session."""


class SessionClock:
    """Local session facts of bars, per symbol, from the instruments' zones.

    Symbols without an ``Instrument`` use the config's zone (and a lot of one share).
    """

    def __init__(self, config: SessionConfig, instruments: Iterable[Instrument] = ()) -> None:
        self._default = ZoneInfo(config.timezone)
        self._open = config.open
        self._close = config.close
        self._zones: dict[str, ZoneInfo] = {}
        self.lots: dict[str, Decimal] = {}
        """Lot sizes of the symbols with an instrument."""
        for instrument in instruments:
            self._zones[instrument.symbol] = ZoneInfo(instrument.timezone)
            self.lots[instrument.symbol] = instrument.lot_size
        self.known: frozenset[str] = frozenset(self._zones)
        """The symbols of the instruments given (empty: any symbol is accepted)."""
        self._timestamp: datetime | None = None
        self._bars: BarSlice | None = None
        self._by_zone: dict[tuple[ZoneInfo, datetime], BarSession] = {}

    def zone(self, symbol: str) -> ZoneInfo:
        return self._zones.get(symbol, self._default)

    def start(self, timestamp: datetime, bars: BarSlice) -> None:
        """Bars of a new timestamp: ``of_bar`` answers for them from now on."""
        self._timestamp, self._bars = timestamp, bars
        self._by_zone = {}

    def of_bar(self, symbol: str) -> BarSession:
        """The session facts of ``symbol``'s bar at the timestamp given to ``start``, from
        when that bar opened (worked out once per zone and opening)."""
        zone = self._zones.get(symbol, self._default)
        assert self._bars is not None, "start() first"
        opened_at = self._bars.opened_at_of(symbol)
        facts = self._by_zone.get((zone, opened_at))
        if facts is None:
            assert self._timestamp is not None
            close = self._timestamp.astimezone(zone)
            opened = opened_at.astimezone(zone).time()
            after_close = opened >= self._close  # a post-market bar (16:00-16:30)
            facts = self._by_zone[(zone, opened_at)] = BarSession(
                date=close.date(),
                ends=close.time() >= self._close and not after_close,
                opens=opened >= self._open and not after_close,
                after_close=after_close,
            )
        return facts

    def first_open_after(self, symbol: str, decided_at: datetime) -> date:
        """The first session date whose open comes after a decision at ``decided_at``:
        the same date if decided before the open, else the next calendar date (bars of
        later dates qualify: weekends and holidays have none)."""
        local = decided_at.astimezone(self.zone(symbol))
        if local.time() < self._open:
            return local.date()
        return local.date() + timedelta(days=1)
