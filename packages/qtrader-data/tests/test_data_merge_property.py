"""Property: the merged stream is strictly time-ordered and loses or duplicates no bar."""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qtrader.data import CsvDataConfig, CsvDataService
from qtrader.data import merge as merge_module
from qtrader.models import StreamRequest

NY = ZoneInfo("America/New_York")
# 40 weekdays from 2024-02-19, spanning the DST change of 2024-03-10.
POOL = [d for d in (date(2024, 2, 19) + timedelta(days=i) for i in range(56)) if d.weekday() < 5][
    :40
]

symbol_names = st.lists(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=4),
    min_size=1,
    max_size=5,
    unique=True,
)


@st.composite
def universes(draw: st.DrawFn) -> tuple[dict[str, list[tuple[date, int]]], StreamRequest]:
    names = draw(symbol_names)
    universe = {}
    for name in names:
        # Any non-empty subset of the days: late starts, early stops and gaps alike.
        days = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=len(POOL), unique=True))
        cents = draw(st.lists(st.integers(1, 10**7), min_size=len(days), max_size=len(days)))
        universe[name] = list(zip(sorted(days), cents, strict=True))
    i = draw(st.integers(0, len(POOL) - 1))
    j = draw(st.integers(i, len(POOL) - 1))
    order = draw(st.permutations(names))
    request = StreamRequest(
        symbols=tuple(order),
        start=POOL[i],
        end=POOL[j],
        warmup_bars=draw(st.integers(0, 6)),
    )
    return universe, request


def expected_bars(
    universe: dict[str, list[tuple[date, int]]], request: StreamRequest
) -> Counter[tuple[str, datetime, float, bool]]:
    """Computed from the definition, independently of the service."""
    expected: Counter[tuple[str, datetime, float, bool]] = Counter()
    for name in request.symbols:
        bars = universe[name]
        before = [b for b in bars if b[0] < request.start]
        inside = [b for b in bars if request.start <= b[0] <= request.end]
        warm = before[max(0, len(before) - request.warmup_bars) :]
        for day, cents in warm + inside:
            stamp = datetime.combine(day, time(16, 0), tzinfo=NY)
            expected[(name, stamp, cents / 100, day < request.start)] += 1
    return expected


@settings(max_examples=100, deadline=None)
@given(universes(), st.sampled_from([1, 2, 3, 7, 64]))
def test_merged_stream_is_ordered_and_complete(
    case: tuple[dict[str, list[tuple[date, int]]], StreamRequest], block: int
) -> None:
    # Small blocks make the merge cut the series into many blocks of time.
    universe, request = case
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setattr(merge_module, "BLOCK_BARS", block)
        for name, bars in universe.items():
            rows = "".join(
                f"{d.isoformat()},{c / 100:.2f},{c / 100:.2f},{c / 100:.2f},{c / 100:.2f},{c}\n"
                for d, c in bars
            )
            (Path(folder) / f"{name}.csv").write_text("date,open,high,low,close,volume\n" + rows)
        slices = list(CsvDataService(CsvDataConfig(path=Path(folder))).stream(request))

    stamps = [s.timestamp for s in slices]
    assert all(a < b for a, b in pairwise(stamps))  # strictly increasing
    # Warmup slices all come first.
    flags = [s.warmup for s in slices]
    assert flags == sorted(flags, reverse=True)
    rank = {name: k for k, name in enumerate(request.symbols)}
    got: Counter[tuple[str, datetime, float, bool]] = Counter()
    for s in slices:
        assert [rank[n] for n in s.symbols] == sorted(rank[n] for n in s.symbols)
        for k, name in enumerate(s.symbols):
            got[(name, s.timestamp, float(s.close[k]), s.warmup)] += 1
    assert got == expected_bars(universe, request)
