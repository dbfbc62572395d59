"""Builders of small, valid test data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from qtrader.models.market import Bar, BarSlice

NEW_YORK = ZoneInfo("America/New_York")


def ny_close(day: date) -> datetime:
    """16:00 America/New_York on ``day``: the close stamp of a US daily bar."""
    return datetime.combine(day, time(16, 0), tzinfo=NEW_YORK)


def ny_open(day: date) -> datetime:
    return datetime.combine(day, time(9, 30), tzinfo=NEW_YORK)


def make_bar(
    symbol: str,
    day: date,
    close: float,
    *,
    open: float | None = None,
    high: float | None = None,
    low: float | None = None,
    volume: float = 1000.0,
) -> Bar:
    """A daily bar; open defaults to close, high and low to the extremes of both."""
    o = close if open is None else open
    return Bar(
        symbol=symbol,
        timestamp=ny_close(day),
        open=o,
        high=max(o, close) if high is None else high,
        low=min(o, close) if low is None else low,
        close=close,
        volume=volume,
    )


def daily_slices(
    days: Sequence[date],
    bars: Mapping[str, Sequence[tuple[float, float] | None]],
    *,
    warmup: int = 0,
) -> list[BarSlice]:
    """Slices for ``days`` from per-symbol ``(open, close)`` pairs; ``None`` = no bar.

    The first ``warmup`` days are flagged as warmup.
    """
    slices = []
    for i, day in enumerate(days):
        day_bars = []
        for symbol, series in bars.items():
            pair = series[i]
            if pair is not None:
                day_bars.append(make_bar(symbol, day, pair[1], open=pair[0]))
        if day_bars:
            slices.append(BarSlice.from_bars(day_bars, opened_at=ny_open(day), warmup=i < warmup))
    return slices
