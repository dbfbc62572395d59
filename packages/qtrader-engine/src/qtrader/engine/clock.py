"""The simulation clock: time advances only when the engine says so."""

from __future__ import annotations

from datetime import datetime


class SimulationClock:
    """Reads the timestamp of the slice being processed; never the wall clock."""

    def __init__(self) -> None:
        self._now: datetime | None = None

    def now(self) -> datetime:
        if self._now is None:
            raise RuntimeError("the simulation clock has not started: no bar has been processed")
        return self._now

    @property
    def current(self) -> datetime | None:
        """The timestamp of the slice being processed; ``None`` before the first."""
        return self._now

    def advance(self, to: datetime) -> None:
        if self._now is not None and to <= self._now:
            raise RuntimeError(
                f"time must move forward: {to.isoformat()} after {self._now.isoformat()}"
            )
        self._now = to
