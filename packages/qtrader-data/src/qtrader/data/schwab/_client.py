"""Sending requests to Schwab politely: a client-side rate limit and bounded retries.

Schwab allows 120 requests a minute; ``RateLimiter`` keeps at most that many in
any sliding 60-second window. ``RetryingSender`` retries a 429 (after its
``Retry-After``), a 5xx and a failed connection with exponential backoff, a
bounded number of times, and hands back every other answer (2xx, other 4xx) for
the caller to judge. The clock and the sleep are injected so tests never wait.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

from qtrader.data.errors import DataError

Clock = Callable[[], float]
"""Seconds since the epoch (``time.time``)."""
Sleep = Callable[[float], None]

log = logging.getLogger("qtrader.data.schwab")

_EXCERPT = 200


class RateLimiter:
    """At most ``limit`` requests in any ``window`` seconds (a sliding window)."""

    def __init__(self, limit: int, window: float = 60.0, *, clock: Clock, sleep: Sleep) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()

    def wait(self) -> None:
        """Block until one more request fits, and count it."""
        now = self._clock()
        while self._sent and now - self._sent[0] >= self.window:
            self._sent.popleft()
        if len(self._sent) >= self.limit:
            free_at = self._sent[0] + self.window
            log.info(
                "rate limit: %d requests in %g s; waiting %.1f s",
                self.limit,
                self.window,
                free_at - now,
            )
            self._sleep(free_at - now)
            now = max(self._clock(), free_at)
            self._sent.popleft()
        self._sent.append(now)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    backoff_seconds: float
    max_backoff_seconds: float
    max_retry_after_seconds: float

    def backoff(self, attempt: int) -> float:
        """Wait after failed attempt ``attempt`` (1-based): 1, 2, 4 ... times the base."""
        return float(min(self.backoff_seconds * 2 ** (attempt - 1), self.max_backoff_seconds))


def excerpt(response: httpx.Response, redact: Callable[[str], str]) -> str:
    """The start of a body, on one line, for an error message."""
    text = " ".join(response.text.split())
    if len(text) > _EXCERPT:
        text = text[:_EXCERPT] + "..."
    return redact(text) or "(empty body)"


class RetryingSender:
    """Sends through one ``httpx.Client``, rate-limited, retrying what may pass."""

    def __init__(
        self,
        http: httpx.Client,
        limiter: RateLimiter,
        policy: RetryPolicy,
        *,
        clock: Clock,
        sleep: Sleep,
    ) -> None:
        self.http = http
        self._limiter = limiter
        self._policy = policy
        self._clock = clock
        self._sleep = sleep

    def send(self, build: Callable[[], httpx.Request], what: str) -> httpx.Response:
        """The first answer that is not a 429 or 5xx. ``what`` names the request in
        messages (it must hold no secret); ``build`` makes a fresh request per try."""
        policy = self._policy
        last = ""
        for attempt in range(1, policy.max_attempts + 1):
            self._limiter.wait()
            try:
                response = self.http.send(build())
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                delay = policy.backoff(attempt)
            else:
                status = response.status_code
                if status == 429:
                    last = "HTTP 429 Too Many Requests"
                    asked = self._retry_after(response)
                    delay = policy.backoff(attempt) if asked is None else asked
                    if delay > policy.max_retry_after_seconds:
                        raise DataError(
                            f"{what}: Schwab answered HTTP 429 and asks to wait {delay:g} s, "
                            f"more than max_retry_after_seconds "
                            f"({policy.max_retry_after_seconds:g}); try again later"
                        )
                elif status >= 500:
                    last = f"HTTP {status} {response.reason_phrase}"
                    delay = policy.backoff(attempt)
                else:
                    return response
            if attempt < policy.max_attempts:
                log.warning(
                    "%s: %s; retrying in %.1f s (attempt %d of %d)",
                    what,
                    last,
                    delay,
                    attempt + 1,
                    policy.max_attempts,
                )
                self._sleep(delay)
        raise DataError(
            f"{what}: gave up after {policy.max_attempts} attempts; last answer: {last}"
        )

    def _retry_after(self, response: httpx.Response) -> float | None:
        value = response.headers.get("Retry-After", "").strip()
        if not value:
            return None
        try:
            return max(float(value), 0.0)
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None  # unreadable: fall back to the backoff
        return max(when.timestamp() - self._clock(), 0.0)
