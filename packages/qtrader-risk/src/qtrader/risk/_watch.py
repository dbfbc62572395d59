"""What risk remembers between calls: recent closes and volumes, and the equity path.

Both are fed by ``PreTradeRiskService.observe`` (every bar slice, when the engine
calls it) and the equity watch also by ``decide`` (the equity it is handed).
Sessions are the dates of the bars' timestamps as stamped (the exchange's
local date for the data adapters of QTrader), as in the engine's metrics.
"""

from __future__ import annotations

from collections import deque
from datetime import date, datetime
from decimal import Decimal

from qtrader.models import BarSlice, Split
from qtrader.risk._arith import ZERO
from qtrader.risk.sections import DrawdownBreakerPolicy


class _Session:
    """A symbol's latest session: its date and the volume traded in it so far."""

    __slots__ = ("day", "volume")

    def __init__(self, day: date, volume: float) -> None:
        self.day = day
        self.volume = volume


class MarketWatch:
    """Rolling windows of each symbol's closes (for volatility) and session volumes (for
    the average daily volume), kept from the bar slices risk is shown.

    A split rescales what is kept (closes / ratio, volumes x ratio), so that a window
    never sees the split as a price move.
    """

    __slots__ = ("_adv_window", "_close_window", "_closes", "_done", "_session", "_today")

    def __init__(self, close_window: int | None, adv_window: int | None) -> None:
        self._close_window = close_window
        self._adv_window = adv_window
        self._closes: dict[str, deque[float]] = {}
        self._done: dict[str, deque[float]] = {}
        """Volumes of completed sessions, oldest first."""
        self._session: dict[str, _Session] = {}
        self._today: date | None = None

    def observe(self, bars: BarSlice) -> None:
        for action in bars.actions:
            if isinstance(action, Split):
                self._split(action.symbol, float(action.ratio))
        if self._close_window is not None:
            size = self._close_window + 1
            windows = self._closes
            for symbol, close in zip(bars.symbols, bars.close.tolist(), strict=True):
                window = windows.get(symbol)
                if window is None:
                    window = windows[symbol] = deque(maxlen=size)
                window.append(close)
        if self._adv_window is not None:
            day = bars.timestamp.date()
            for symbol, volume in zip(bars.symbols, bars.volume.tolist(), strict=True):
                session = self._session.get(symbol)
                if session is None:
                    self._session[symbol] = _Session(day, volume)
                elif session.day == day:
                    session.volume += volume
                else:
                    self._completed(symbol).append(session.volume)
                    session.day, session.volume = day, volume

    def _completed(self, symbol: str) -> deque[float]:
        done = self._done.get(symbol)
        if done is None:
            done = self._done[symbol] = deque(maxlen=self._adv_window)
        return done

    def _split(self, symbol: str, ratio: float) -> None:
        window = self._closes.get(symbol)
        if window is not None:
            rescaled = [close / ratio for close in window]
            window.clear()
            window.extend(rescaled)
        done = self._done.get(symbol)
        if done is not None:
            rescaled = [volume * ratio for volume in done]
            done.clear()
            done.extend(rescaled)
        session = self._session.get(symbol)
        if session is not None:
            session.volume *= ratio

    def begin(self, at: datetime) -> None:
        """A decision at ``at``: sessions before its date count as completed."""
        self._today = at.date()

    def closes(self, symbol: str) -> list[float]:
        """The last closes observed for ``symbol`` (at most the window + 1), oldest first."""
        return list(self._closes.get(symbol, ()))

    def average_daily_volume(self, symbol: str) -> tuple[Decimal | None, int]:
        """The mean volume of ``symbol``'s last ``adv_window`` completed sessions, and how
        many completed sessions there are (at most the window); ``None`` until there are
        ``adv_window`` of them (a partial average would be a guess)."""
        window = self._adv_window
        assert window is not None
        volumes = list(self._done.get(symbol, ()))
        session = self._session.get(symbol)
        if session is not None and self._today is not None and session.day < self._today:
            volumes.append(session.volume)
        volumes = volumes[-window:]
        if len(volumes) < window:
            return None, len(volumes)
        return Decimal(repr(sum(volumes) / window)), window


class EquityWatch:
    """The equity path as risk sees it: the peak and drawdown (for the breaker), and the
    loss since the previous session's close (for the daily loss limit).

    ``update`` is called with each bar's equity (``observe``) and with the equity of
    each decision; calling it twice for one time changes nothing.
    """

    __slots__ = (
        "_breaker",
        "_daily_limit",
        "_daily_tripped",
        "_day",
        "_last",
        "_sessions",
        "_tripped_session",
        "daily_loss",
        "drawdown",
        "peak",
        "session_start",
        "tripped_on",
    )

    def __init__(self, breaker: DrawdownBreakerPolicy | None, daily_limit: Decimal | None) -> None:
        self._breaker = breaker
        self._daily_limit = daily_limit
        self._day: date | None = None
        self._sessions = 0
        self._last: Decimal | None = None
        self.session_start = ZERO
        """Equity at the close of the previous session seen (the first equity seen, in
        the first session)."""
        self.daily_loss = ZERO
        """(session_start - equity) / session_start, now."""
        self._daily_tripped: date | None = None
        self.peak: Decimal | None = None
        self.drawdown = ZERO
        """(peak - equity) / peak, now."""
        self.tripped_on: date | None = None
        """The session the drawdown breaker tripped in; ``None`` while it is not tripped."""
        self._tripped_session = 0

    def update(self, at: datetime, equity: Decimal) -> None:
        day = at.date()
        if day != self._day:
            if self._day is not None:
                self._sessions += 1
            self.session_start = self._last if self._last is not None else equity
            self._day = day
        self._last = equity
        if self._breaker is not None:
            self._update_drawdown(equity, day)
        if self._daily_limit is not None:
            start = self.session_start
            self.daily_loss = (start - equity) / start if start > ZERO else ZERO
            if self.daily_loss > self._daily_limit:
                self._daily_tripped = day  # for the rest of the session, even if it recovers

    def _update_drawdown(self, equity: Decimal, day: date) -> None:
        policy = self._breaker
        assert policy is not None
        if self.peak is None or equity > self.peak:
            self.peak = equity
        drawdown = (self.peak - equity) / self.peak if self.peak > ZERO else ZERO
        if self.tripped_on is not None:
            if policy.recover_to is not None and drawdown <= policy.recover_to:
                self.tripped_on = None
            elif (
                policy.cooldown_sessions is not None
                and self._sessions - self._tripped_session >= policy.cooldown_sessions
            ):
                # A fresh start: measured from here, or the old peak would trip it again.
                self.tripped_on = None
                self.peak, drawdown = equity, ZERO
        if self.tripped_on is None and drawdown > policy.threshold:
            self.tripped_on = day
            self._tripped_session = self._sessions
        self.drawdown = drawdown

    @property
    def daily_tripped(self) -> bool:
        """Whether the daily loss limit was passed in the current session."""
        return self._daily_tripped is not None and self._daily_tripped == self._day
