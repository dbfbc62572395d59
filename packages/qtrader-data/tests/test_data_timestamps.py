"""Daily stamps made by pyarrow (the plain path, no pandas) equal pandas' localisation."""

from __future__ import annotations

import subprocess
import sys
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from qtrader.data._timestamps import NAT, parse_stamps


def pandas_stamps(days: list[str], zone: str, wall: time) -> list[int]:
    """The reference: pandas' tz_localize of each day's wall time, NaT where it has none."""
    local = pd.DatetimeIndex(days) + pd.Timedelta(hours=wall.hour, minutes=wall.minute)
    aware = local.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    return [NAT if pd.isna(t) else int(t.value) for t in aware]


EVERY_DAY = [str(d) for d in np.arange("1990-01-01", "2031-01-01", dtype="datetime64[D]")]


@pytest.mark.parametrize(
    ("zone", "open_", "close"),
    [
        ("America/New_York", time(9, 30), time(16, 0)),
        ("Europe/London", time(8, 0), time(16, 30)),
        ("Asia/Tokyo", time(9, 0), time(15, 0)),
        ("Australia/Sydney", time(10, 0), time(16, 0)),
    ],
)
def test_every_day_of_forty_years_is_stamped_as_pandas_stamps_it(
    zone: str, open_: time, close: time
) -> None:
    stamps = parse_stamps(pa.array(EVERY_DAY), ZoneInfo(zone), open_, close)
    assert stamps.timestamps.tolist() == pandas_stamps(EVERY_DAY, zone, close)
    assert stamps.opened_at.tolist() == pandas_stamps(EVERY_DAY, zone, open_)
    assert stamps.sessions.tolist() == pd.DatetimeIndex(EVERY_DAY).date.tolist()
    assert stamps.problems == {}


def test_a_wall_time_skipped_by_daylight_saving_is_worded_by_the_general_path() -> None:
    # 2024-03-10 02:30 does not exist in New York (clocks jump from 02:00 to 03:00).
    days = pa.array(["2024-03-08", "2024-03-10", "2024-03-11"])
    stamps = parse_stamps(days, ZoneInfo("America/New_York"), time(1, 0), time(2, 30))
    assert stamps.timestamps[1] == NAT
    assert stamps.timestamps[0] == pd.Timestamp("2024-03-08 07:30", tz="UTC").value  # EST +5
    assert stamps.timestamps[2] == pd.Timestamp("2024-03-11 06:30", tz="UTC").value  # EDT +4
    assert "does not exist or is ambiguous in America/New_York" in stamps.problems[1]


def test_a_plain_daily_csv_backtest_never_imports_pandas(tmp_path: Path) -> None:
    # pandas costs about 0.2 s to import: a clean daily CSV file must not need it.
    folder = tmp_path / "bars"
    folder.mkdir()
    (folder / "AAA.csv").write_text(
        "date,open,high,low,close,volume\n2024-01-02,10,11,9,10.5,100\n2024-01-03,10,11,9,10,100\n"
    )
    code = (
        "import sys\n"
        "from qtrader.data import open_data_service\nfrom qtrader.models import StreamRequest\n"
        "from datetime import date\n"
        f"service = open_data_service('csv', {{'path': {str(folder)!r}}})\n"
        "slices = list(service.stream(StreamRequest(symbols=('AAA',), start=date(2024, 1, 1),"
        " end=date(2024, 1, 31))))\n"
        "assert len(slices) == 2, slices\n"
        "print('pandas' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
