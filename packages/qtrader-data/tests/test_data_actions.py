"""Corporate actions through the generic service: the CSV actions file, placement of each
action in the slice of its ex-date, and the service's checks of what an adapter delivers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from qtrader.data import (
    BarSeries,
    CsvDataConfig,
    CsvDataService,
    DataError,
    HistoricalDataService,
    SymbolData,
    UnknownSymbolError,
    fetch_window,
)
from qtrader.models import BarSlice, CashDividend, PriceAdjustment, Split, StreamRequest

HEADER = "date,open,high,low,close,volume\n"
NY = ZoneInfo("America/New_York")


def write_bars(folder: Path, symbol: str, days: Sequence[str], close: float = 10.0) -> None:
    rows = "".join(f"{d},{close},{close + 1},{close - 1},{close},100\n" for d in days)
    (folder / f"{symbol}.csv").write_text(HEADER + rows)


def write_actions(folder: Path, rows: str, header: str = "date,symbol,type,value\n") -> Path:
    path = folder / "actions.csv"
    path.write_text(header + rows)
    return path


def service(folder: Path, **options: object) -> CsvDataService:
    return CsvDataService(CsvDataConfig.model_validate({"path": folder, **options}))


def stream(
    svc: HistoricalDataService, symbols: tuple[str, ...], start: date, end: date, warmup: int = 0
) -> list[BarSlice]:
    return list(
        svc.stream(StreamRequest(symbols=symbols, start=start, end=end, warmup_bars=warmup))
    )


DAYS = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"]


def test_actions_file_puts_each_action_in_the_slice_of_its_ex_date(tmp_path: Path) -> None:
    write_bars(tmp_path, "AAA", DAYS)
    write_bars(tmp_path, "BBB", DAYS)
    actions = write_actions(
        tmp_path,
        "2024-01-04,AAA,split,4\n"
        "2024-01-04,BBB,dividend,0.25\n"
        "2024-01-06,AAA,dividend,0.1\n"  # a Saturday: paid at the next bar, Monday 01-08
        "2024-01-03,BBB,split,1:10\n",  # a 1-for-10 reverse split
    )
    svc = service(tmp_path, actions=actions)
    slices = stream(svc, ("AAA", "BBB"), date(2024, 1, 2), date(2024, 1, 8))
    by_day = {s.timestamp.date(): s.actions for s in slices}
    assert by_day[date(2024, 1, 2)] == ()
    assert by_day[date(2024, 1, 3)] == (
        Split(symbol="BBB", ex_date=date(2024, 1, 3), ratio=Decimal("0.1")),
    )
    # Within a slice, actions follow the requested symbol order.
    assert by_day[date(2024, 1, 4)] == (
        Split(symbol="AAA", ex_date=date(2024, 1, 4), ratio=Decimal(4)),
        CashDividend(symbol="BBB", ex_date=date(2024, 1, 4), amount=Decimal("0.25")),
    )
    assert by_day[date(2024, 1, 8)] == (
        CashDividend(symbol="AAA", ex_date=date(2024, 1, 6), amount=Decimal("0.1")),
    )
    assert svc.actions("AAA") == (
        Split(symbol="AAA", ex_date=date(2024, 1, 4), ratio=Decimal(4)),
        CashDividend(symbol="AAA", ex_date=date(2024, 1, 6), amount=Decimal("0.1")),
    )


def test_actions_outside_the_delivered_bars_are_not_delivered(tmp_path: Path) -> None:
    write_bars(tmp_path, "AAA", DAYS)
    actions = write_actions(
        tmp_path,
        "2023-12-01,AAA,split,2\n"  # before the file
        "2024-01-03,AAA,split,3\n"  # a warmup bar: delivered (history is rescaled there)
        "2024-01-05,AAA,dividend,1\n"  # after the requested end
        "2025-01-02,AAA,split,5\n",  # after the file
    )
    svc = service(tmp_path, actions=actions)
    slices = stream(svc, ("AAA",), date(2024, 1, 4), date(2024, 1, 4), warmup=1)
    assert [(s.timestamp.date(), s.warmup, s.actions) for s in slices] == [
        (
            date(2024, 1, 3),
            True,
            (Split(symbol="AAA", ex_date=date(2024, 1, 3), ratio=Decimal(3)),),
        ),
        (date(2024, 1, 4), False, ()),
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("2024-13-01,AAA,split,2\n", r"actions.csv, line 2: date '2024-13-01' is not YYYY-MM-DD"),
        ("2024-01-03,,split,2\n", r"line 2: missing symbol"),
        ("2024-01-03,AAA,merger,2\n", r"line 2: type 'merger' is not one of split, dividend"),
        ("2024-01-03,AAA,split,0\n", r"line 2: split ratio '0' is not a positive number"),
        ("2024-01-03,AAA,split,2:0\n", r"line 2: split ratio '2:0' is not a positive number"),
        ("2024-01-03,AAA,dividend,x\n", r"line 2: dividend 'x' is not a positive number"),
        ("\n2024-01-03,AAA,split,2\n2024-01-03,AAA,split,3\n", r"line 4: AAA has two split rows"),
    ],
)
def test_a_bad_actions_row_names_the_file_and_line(tmp_path: Path, rows: str, message: str) -> None:
    write_bars(tmp_path, "AAA", DAYS)
    svc = service(tmp_path, actions=write_actions(tmp_path, rows))
    with pytest.raises(DataError, match=message):
        svc.load("AAA")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            "2024-01-03,AAA,split,2\n2024-01-04,aaa,dividend,0.1\n",
            r"actions.csv, line 3: aaa has no data file \(aaa.csv\): did you mean AAA\?",
        ),
        (
            "2024-01-04,ZZZ,split,2\n",
            r"actions.csv, line 2: ZZZ has no data file \(ZZZ.csv\): an action of a symbol "
            r"without data is never applied; remove the row or add the file",
        ),
    ],
)
def test_an_action_of_a_symbol_without_data_is_an_error_not_ignored(
    tmp_path: Path, rows: str, message: str
) -> None:
    # It used to be dropped without a word: a split written "aaa" was never applied.
    write_bars(tmp_path, "AAA", DAYS)
    with pytest.raises(DataError, match=message):
        service(tmp_path, actions=write_actions(tmp_path, rows)).load("AAA")


def test_actions_file_problems_of_the_file_itself(tmp_path: Path) -> None:
    write_bars(tmp_path, "AAA", DAYS)
    with pytest.raises(DataError, match=r"actions.csv, line 1: missing column\(s\) type, value"):
        service(tmp_path, actions=write_actions(tmp_path, "", header="date,symbol\n")).load("AAA")
    with pytest.raises(DataError, match="actions file not found"):
        service(tmp_path, actions=tmp_path / "nope.csv").load("AAA")
    (tmp_path / "latin.csv").write_bytes(b"date,symbol,type,value\n2024-01-03,\xe9,split,2\n")
    with pytest.raises(DataError, match="not UTF-8"):
        service(tmp_path, actions=tmp_path / "latin.csv").load("AAA")


def test_actions_must_fit_the_declared_adjustment(tmp_path: Path) -> None:
    write_bars(tmp_path, "AAA", DAYS)
    split = write_actions(tmp_path, "2024-01-03,AAA,split,2\n")
    with pytest.raises(DataError, match=r"line 2: a split of AAA .* declared split_adjusted"):
        service(tmp_path, actions=split, price_adjustment="split_adjusted").load("AAA")
    dividend = write_actions(tmp_path, "2024-01-03,AAA,dividend,0.5\n")
    svc = service(tmp_path, actions=dividend, price_adjustment="split_adjusted")
    assert svc.actions("AAA") == (
        CashDividend(symbol="AAA", ex_date=date(2024, 1, 3), amount=Decimal("0.5")),
    )
    with pytest.raises(DataError, match=r"line 2: a dividend of AAA .* total_return"):
        service(tmp_path, actions=dividend, price_adjustment="total_return").load("AAA")


def _series(symbol: str, days: Sequence[str]) -> BarSeries:
    n = len(days)
    sessions = np.array(days, dtype="datetime64[D]")
    stamps = (sessions.astype("datetime64[ns]").astype(np.int64) + 21 * 3600 * 10**9).astype(
        np.int64
    )
    return BarSeries(
        symbol=symbol,
        path=None,
        timestamps=stamps,
        opened_at=stamps - 6 * 3600 * 10**9 - 30 * 60 * 10**9,
        sessions=sessions,
        ohlcv=np.tile([10.0, 11.0, 9.0, 10.0, 100.0], (n, 1)),
    )


class ScriptedSource:
    """A minimal adapter: hands out what a test prepared (to test the service's checks)."""

    def __init__(self, data: SymbolData, adjustment: PriceAdjustment) -> None:
        self.data = data
        self.adjustment = adjustment
        self.loads: list[tuple[date | None, date | None]] = []

    @property
    def location(self) -> str:
        return "scripted"

    @property
    def price_adjustment(self) -> PriceAdjustment:
        return self.adjustment

    @property
    def zone(self) -> ZoneInfo:
        return NY

    def symbols(self) -> list[str]:
        return ["AAA"]

    def check_symbols(self, symbols: Sequence[str]) -> None:
        if any(s != "AAA" for s in symbols):
            raise UnknownSymbolError("unknown", symbols=tuple(symbols))

    def load(self, symbol: str, start: date | None = None, end: date | None = None) -> SymbolData:
        self.loads.append((start, end))
        return self.data


def test_the_service_refuses_actions_that_do_not_fit_the_feed() -> None:
    series = _series("AAA", DAYS)
    split = Split(symbol="AAA", ex_date=date(2024, 1, 3), ratio=Decimal(2))
    dividend = CashDividend(symbol="AAA", ex_date=date(2024, 1, 4), amount=Decimal(1))
    other = Split(symbol="BBB", ex_date=date(2024, 1, 3), ratio=Decimal(2))
    cases = [
        (SymbolData(series, (split,)), PriceAdjustment.SPLIT_ADJUSTED, "cannot carry split"),
        (SymbolData(series, (dividend,)), PriceAdjustment.TOTAL_RETURN, "cannot carry cash"),
        (SymbolData(series, (other,)), PriceAdjustment.UNADJUSTED, "split of BBB"),
        (SymbolData(series, (dividend, split)), PriceAdjustment.UNADJUSTED, "not sorted"),
        (SymbolData(_series("BBB", DAYS)), PriceAdjustment.UNADJUSTED, "returned 'BBB'"),
    ]
    for data, adjustment, message in cases:
        with pytest.raises(DataError, match=message):
            HistoricalDataService(ScriptedSource(data, adjustment)).load("AAA")


def test_a_windowed_adapter_is_asked_again_only_for_a_wider_range() -> None:
    source = ScriptedSource(
        SymbolData(_series("AAA", DAYS), window=(date(2024, 1, 2), date(2024, 1, 8))),
        PriceAdjustment.SPLIT_ADJUSTED,
    )
    svc = HistoricalDataService(source)
    req = StreamRequest(symbols=("AAA",), start=date(2024, 1, 3), end=date(2024, 1, 5))
    assert len(list(svc.stream(req))) == 3
    assert len(list(svc.stream(req))) == 3
    assert source.loads == [(date(2024, 1, 3), date(2024, 1, 5))]  # kept: window covers it
    svc.load("AAA", date(2023, 12, 1), date(2024, 1, 5))  # wider: asked again
    svc.load("AAA")  # no range given: a windowed result cannot promise everything
    assert source.loads[1:] == [(date(2023, 12, 1), date(2024, 1, 5)), (None, None)]
    assert svc.instruments(["AAA"])[0].timezone == "America/New_York"
    assert svc.update(["AAA"], date(2024, 1, 2), date(2024, 1, 5)) == ()
    assert not svc.fetches


def test_fetch_window_leaves_room_for_warmup_bars_in_calendar_days() -> None:
    req = StreamRequest(symbols=("A",), start=date(2024, 3, 1), end=date(2024, 3, 29))
    assert fetch_window(req) == (date(2024, 3, 1), date(2024, 3, 29))
    # 30 bars: 30 * 3 // 2 + 14 = 59 calendar days before the start (about 40 sessions).
    warm = req.model_copy(update={"warmup_bars": 30})
    assert fetch_window(warm) == (date(2024, 1, 2), date(2024, 3, 29))
