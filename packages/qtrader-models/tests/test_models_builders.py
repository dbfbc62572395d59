"""Test-data builders: ny_close, make_bar, daily_slices."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from qtrader.models.testing import daily_slices, make_bar, ny_close

WINTER = date(2024, 1, 2)  # EST, UTC-5
SUMMER = date(2024, 7, 1)  # EDT, UTC-4


def test_ny_close_in_winter_is_utc_minus_five() -> None:
    t = ny_close(WINTER)
    assert t.isoformat() == "2024-01-02T16:00:00-05:00"
    assert t.utcoffset() == timedelta(hours=-5)
    # 16:00 + 5 h = 21:00 UTC
    assert t == datetime(2024, 1, 2, 21, 0, tzinfo=UTC)


def test_ny_close_in_summer_is_utc_minus_four() -> None:
    t = ny_close(SUMMER)
    assert t.isoformat() == "2024-07-01T16:00:00-04:00"
    assert t.utcoffset() == timedelta(hours=-4)
    # 16:00 + 4 h = 20:00 UTC
    assert t == datetime(2024, 7, 1, 20, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "offset_hours"),
    [
        (date(2024, 3, 8), -5),  # Friday before DST starts
        (date(2024, 3, 11), -4),  # Monday after (DST began Sunday 2024-03-10, 02:00)
        (date(2024, 11, 1), -4),  # Friday before DST ends
        (date(2024, 11, 4), -5),  # Monday after (DST ended Sunday 2024-11-03, 02:00)
    ],
)
def test_ny_close_follows_daylight_saving_changes(day: date, offset_hours: int) -> None:
    assert ny_close(day).utcoffset() == timedelta(hours=offset_hours)


def test_make_bar_defaults_open_to_close_and_range_to_open_and_close() -> None:
    flat = make_bar("AAPL", WINTER, 187.0)
    assert (flat.open, flat.high, flat.low, flat.close) == (187.0, 187.0, 187.0, 187.0)
    assert flat.volume == 1000.0
    assert flat.timestamp == ny_close(WINTER)
    assert flat.symbol == "AAPL"

    down = make_bar("AAPL", WINTER, 185.0, open=188.0)
    # high = max(188, 185) = 188, low = min(188, 185) = 185
    assert (down.open, down.high, down.low, down.close) == (188.0, 188.0, 185.0, 185.0)

    wide = make_bar("AAPL", WINTER, 185.0, open=186.0, high=190.0, low=180.0, volume=0.0)
    assert (wide.high, wide.low, wide.volume) == (190.0, 180.0, 0.0)


def test_make_bar_still_validates() -> None:
    with pytest.raises(ValueError, match="outside"):
        make_bar("AAPL", WINTER, 185.0, high=186.0, low=184.0, open=190.0)


def test_daily_slices_skip_gaps_and_flag_warmup() -> None:
    days = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4), date(2024, 1, 5)]
    slices = daily_slices(
        days,
        {
            "AAPL": [(10.0, 11.0), None, (12.0, 13.0), None],
            "MSFT": [(20.0, 21.0), (22.0, 23.0), None, None],
        },
        warmup=2,
    )
    # 2024-01-05 has no bar at all, so it yields no slice: 3 slices, not 4.
    assert [s.timestamp for s in slices] == [ny_close(d) for d in days[:3]]
    assert [s.symbols for s in slices] == [("AAPL", "MSFT"), ("MSFT",), ("AAPL",)]
    # The first two *days* are warmup, whatever symbols they hold.
    assert [s.warmup for s in slices] == [True, True, False]
    # opened at the 09:30 New York session open
    assert slices[0].opened_at.isoformat() == "2024-01-02T09:30:00-05:00"
    first = slices[0]
    assert first.open.tolist() == [10.0, 20.0]
    assert first.close.tolist() == [11.0, 21.0]
    assert first.high.tolist() == [11.0, 21.0]
    assert first.low.tolist() == [10.0, 20.0]
    assert slices[1].bar("MSFT").close == 23.0


def test_daily_slices_without_warmup() -> None:
    slices = daily_slices([SUMMER], {"AAPL": [(10.0, 11.0)]})
    assert len(slices) == 1
    assert slices[0].warmup is False
    assert slices[0].opened_at.isoformat() == "2024-07-01T09:30:00-04:00"
