"""``SchwabBarSource``: daily bars from Schwab's price history, through a Parquet cache.

``load(symbol, start, end)`` fetches the parts of ``[start, end]`` the cache has
not covered yet, then reads the bars from the cache and validates them like a
file's (``validate_rows``: the cache file and its row name a bad row; the
request that fetched it is in ``Anomaly.request``). With the cache complete no
request is made, so a re-run works offline. Only days before today (in the
exchange's zone) are fetched: today's candle may still change.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import numpy as np

from qtrader.data._rows import validate_rows
from qtrader.data.cache import CachedBars, ParquetBarCache, missing_ranges
from qtrader.data.errors import Anomaly, AnomalyAction, DataError, UnknownSymbolError
from qtrader.data.schwab._auth import LOGIN_HINT, TokenKeeper
from qtrader.data.schwab._client import (
    Clock,
    RateLimiter,
    RetryingSender,
    RetryPolicy,
    Sleep,
    excerpt,
    log,
)
from qtrader.data.schwab._history import PRICE_HISTORY, chunks, describe, parse_candles, query
from qtrader.data.schwab.config import SchwabDataConfig
from qtrader.data.series import DayArray
from qtrader.data.source import SymbolData, UpdateReport
from qtrader.models import FloatArray, PriceAdjustment

SOURCE_NAME = "schwab"


class SchwabBarSource:
    """Schwab daily price history (split-adjusted, no actions) behind a Parquet cache.

    ``clock`` (seconds since the epoch) and ``sleep`` are injected for tests: the
    clock decides token expiry, "today" and the cache's ``fetched_at``; the sleep
    serves the rate limit and the retry backoff.
    """

    def __init__(
        self,
        config: SchwabDataConfig,
        *,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.config = config
        self._clock = clock
        self._sleep = sleep
        self.cache = ParquetBarCache(
            config.cache, source=SOURCE_NAME, adjustment=self.price_adjustment, clock=clock
        )
        self._limiter = RateLimiter(config.requests_per_minute, clock=clock, sleep=sleep)
        self._tokens = TokenKeeper(config, clock)
        self._policy = RetryPolicy(
            max_attempts=config.max_attempts,
            backoff_seconds=config.backoff_seconds,
            max_backoff_seconds=config.max_backoff_seconds,
            max_retry_after_seconds=config.max_retry_after_seconds,
        )

    def __repr__(self) -> str:
        return f"SchwabBarSource({self.config.base_url!r}, cache={str(self.cache.folder)!r})"

    @property
    def location(self) -> str:
        return self.config.base_url

    @property
    def price_adjustment(self) -> PriceAdjustment:
        # Schwab's candles are split-adjusted and carry no dividends.
        return PriceAdjustment.SPLIT_ADJUSTED

    @property
    def zone(self) -> ZoneInfo:
        return self.config.zone

    def symbols(self) -> list[str]:
        """The symbols with bars in the cache (an API has no listing)."""
        return self.cache.symbols()

    def check_symbols(self, symbols: Sequence[str]) -> None:
        """Any symbol may be asked for: Schwab answers (no candles for an unknown one)."""

    def _last_final_day(self) -> date:
        today = datetime.fromtimestamp(self._clock(), tz=self.zone).date()
        return today - timedelta(days=1)

    def update(self, symbol: str, start: date, end: date) -> UpdateReport:
        """Fetch the parts of ``[start, end]`` (up to yesterday) the cache lacks, in
        requests of at most ``max_years_per_request`` years, storing each answer."""
        if start > end:
            raise DataError(f"{symbol}: start {start} is after end {end}")
        cached = self.cache.read(symbol)
        stop = min(end, self._last_final_day())
        gaps = missing_ranges(cached.covered if cached is not None else (), start, stop)
        fetched = 0
        if gaps:
            with self._session() as session:
                for gap in gaps:
                    for first, last in chunks(*gap, self.config.max_years_per_request):
                        dates, values = session.price_history(symbol, first, last)
                        what = describe(self.config.base_url, symbol, first, last)
                        cached = self.cache.store(symbol, (first, last), dates, values, what)
                        fetched += len(dates)
        return UpdateReport(
            symbol=symbol,
            fetched_rows=fetched,
            cached_rows=0 if cached is None else len(cached),
            first=None if cached is None else cached.first,
            last=None if cached is None else cached.last,
        )

    @contextmanager
    def _session(self) -> Iterator[_Session]:
        with httpx.Client(
            base_url=self.config.base_url, timeout=self.config.timeout_seconds
        ) as http:
            sender = RetryingSender(
                http, self._limiter, self._policy, clock=self._clock, sleep=self._sleep
            )
            yield _Session(self.config, sender, self._tokens)

    def load(self, symbol: str, start: date | None = None, end: date | None = None) -> SymbolData:
        """The bars of ``[start, end]`` after fetching what the cache lacks; without
        both dates, what the cache holds (nothing is fetched)."""
        if start is not None and end is not None:
            self.update(symbol, start, end)
        cached = self.cache.read(symbol)
        if cached is None or not cached.covered:
            raise DataError(
                f"nothing of {symbol} is cached: give a date range, or run "
                "`qtrader data update`, to fetch it from Schwab",
                path=self.cache.path(symbol),
            )
        raw = cached.raw_table(start, end)
        if len(raw.lines) == 0:
            raise self._no_bars(cached, start, end)
        try:
            rows = validate_rows(raw, symbol, self.config)
        except DataError as exc:
            fetched_by = f" (fetched by {cached.request_of(exc.line)})" if exc.line else ""
            raise DataError(
                f"{symbol} {exc.message}{fetched_by}", path=exc.path, line=exc.line
            ) from None
        anomalies = tuple(
            replace(a, request=cached.request_of(a.line)) if a.line else a for a in rows.anomalies
        )
        window = (start or cached.covered[0][0], end or cached.covered[-1][1])
        # Without both dates nothing was fetched: the cache may have holes between ranges.
        holes = cached.missing(*window) if start is None or end is None else []
        if holes:
            # Only what the cache holds whole counts as known: a stream over the rest loads
            # again with its dates, and so fetches the holes.
            window = (window[0], holes[0][0] - timedelta(days=1))
            anomalies += tuple(
                Anomaly(
                    symbol,
                    first.isoformat(),
                    f"nothing is cached for {first}..{last}, between the cached ranges: run "
                    "`qtrader data update` (or give the dates) to fetch it",
                    AnomalyAction.REPORTED,
                    cached.path,
                )
                for first, last in holes
            )
        return SymbolData(rows.series, (), anomalies, window)

    def _no_bars(self, cached: CachedBars, start: date | None, end: date | None) -> DataError:
        first = start or cached.covered[0][0]
        last = end or cached.covered[-1][1]
        asked = "; ".join(sorted(set(cached.requests))) or "; ".join(
            describe(self.config.base_url, cached.symbol, a, b) for a, b in cached.covered
        )
        if len(cached) == 0:
            return UnknownSymbolError(
                f"Schwab has no daily bars of {cached.symbol} ({asked} answered no candles): "
                "unknown symbol, or not traded in that range",
                path=cached.path,
                symbols=(cached.symbol,),
            )
        return DataError(
            f"no daily bars of {cached.symbol} in {first}..{last} (the cache holds "
            f"{cached.first}..{cached.last})",
            path=cached.path,
        )


class _Session:
    """Requests of one update, over one HTTP connection pool."""

    def __init__(self, config: SchwabDataConfig, sender: RetryingSender, tokens: TokenKeeper):
        self._config = config
        self._sender = sender
        self._tokens = tokens

    def price_history(self, symbol: str, first: date, last: date) -> tuple[DayArray, FloatArray]:
        """The candles of sessions ``[first, last]`` (others Schwab adds are dropped)."""
        what = describe(self._config.base_url, symbol, first, last)
        log.info("%s", what)
        params = query(symbol, first, last)
        body = self._get_json(params, what)
        dates, values = parse_candles(body, symbol, what)
        inside = (dates >= np.datetime64(first, "D")) & (dates <= np.datetime64(last, "D"))
        return dates[inside], values[inside]

    def _get_json(self, params: dict[str, str], what: str) -> object:
        sender, tokens = self._sender, self._tokens
        token = tokens.access_token(sender)

        def build() -> httpx.Request:
            return sender.http.build_request(
                "GET", PRICE_HISTORY, params=params, headers={"Authorization": f"Bearer {token}"}
            )

        response = sender.send(build, what)
        if response.status_code == 401:
            # The access token may have been revoked early: refresh once, retry once.
            token = tokens.refresh(sender).access_token.get_secret_value()
            response = sender.send(build, what)
            if response.status_code == 401:
                raise DataError(
                    f"{what}: Schwab refused a freshly refreshed access token (HTTP 401); "
                    f"{LOGIN_HINT}"
                )
        if not response.is_success:
            hint = " (is the symbol right?)" if response.status_code in (400, 404) else ""
            raise DataError(
                f"{what}: Schwab answered HTTP {response.status_code}{hint}: "
                f"{excerpt(response, tokens.redact)}"
            )
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("content-type", "no content type")
            raise DataError(
                f"{what}: the answer is not JSON ({kind}): {excerpt(response, tokens.redact)}"
            ) from None
