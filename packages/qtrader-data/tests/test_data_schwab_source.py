"""SchwabBarSource against a real HTTP server on loopback that answers like Schwab:
session dates, whole-day requests, chunks, the cache (only what is missing is fetched;
a re-run works offline), token refresh, retries, and errors that name the request."""

from __future__ import annotations

import base64
import json
import logging
import stat
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from qtrader.data import (
    AnomalyAction,
    DataError,
    HistoricalDataService,
    UnknownSymbolError,
    open_data_service,
)
from qtrader.data.schwab import SchwabBarSource, SchwabDataConfig
from qtrader.data.schwab._history import chunks, session_dates
from qtrader.models import PriceAdjustment, StreamRequest

NOW = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC = 17:13:20 in New York
KEY, SECRET = "KEY-SECRET-k3y", "APP-SECRET-s3cr3t"
ACCESS, REFRESH = "ACCESS-SECRET-1", "REFRESH-SECRET-r"
SECRETS = (KEY, SECRET, ACCESS, REFRESH, "ACCESS-SECRET-2", "ACCESS-SECRET-3")
CHICAGO = ZoneInfo("America/Chicago")
NY = ZoneInfo("America/New_York")
D = date
HISTORY = "/marketdata/v1/pricehistory"

# Midnight America/Chicago as epoch ms, worked out by hand: CST is UTC-6, CDT UTC-5.
# 2019-01-02 00:00 UTC = 1546387200 s; + 6 h (21600 s) = 1546408800 s.
JAN_2 = 1_546_408_800_000
JAN_3 = JAN_2 + 86_400_000
JAN_4 = JAN_3 + 86_400_000
JAN_5 = JAN_4 + 86_400_000
# 2019-07-01 00:00 UTC = 1561939200 s; + 5 h (18000 s) = 1561957200 s.
JUL_1 = 1_561_957_200_000


class FakeClock:
    """Seconds since the epoch; ``sleep`` records the wait and advances the clock."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def chicago_ms(day: date) -> int:
    """Test helper for the fake server's stamps (the key values are checked as literals)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=CHICAGO).timestamp()) * 1000


class FakeSchwab:
    """Answers price history from ``candles`` (symbol -> list of candle dicts) for the
    candles whose ``datetime`` lies in ``[startDate, endDate]``, and refreshes tokens.
    ``script`` holds answers served first, one per price-history request."""

    def __init__(self, server: HTTPServer) -> None:
        self.candles: dict[str, list[dict[str, Any]]] = {}
        self.script: list[Response] = []
        self.calls: list[dict[str, str]] = []
        self.bearers: list[str | None] = []
        self.refreshes: list[dict[str, str]] = []
        self.refresh_auth: list[str | None] = []
        self.refresh_status = 200
        self.repeat_refresh_token = True
        self.valid_access = ACCESS
        self._issued = 1
        server.expect_request(HISTORY, method="GET").respond_with_handler(self.history)
        server.expect_request("/v1/oauth/token", method="POST").respond_with_handler(self.token)

    def add(self, symbol: str, *days: tuple[date, float]) -> None:
        """Bars with open = close, high = close + 1, low = close - 1, volume 1000."""
        for day, close in days:
            self.candles.setdefault(symbol, []).append(
                {
                    "open": close,
                    "high": close + 1,
                    "low": close - 1,
                    "close": close,
                    "volume": 1000,
                    "datetime": chicago_ms(day),
                }
            )

    def history(self, request: Request) -> Response:
        self.calls.append(dict(request.args))
        self.bearers.append(request.headers.get("Authorization"))
        if self.script:
            return self.script.pop(0)
        if request.headers.get("Authorization") != f"Bearer {self.valid_access}":
            return Response('{"error": "unauthorized"}', status=401)
        symbol = request.args["symbol"]
        start, end = int(request.args["startDate"]), int(request.args["endDate"])
        found = [c for c in self.candles.get(symbol, []) if start <= c["datetime"] <= end]
        body = {"candles": found, "symbol": symbol, "empty": not found}
        return Response(json.dumps(body), content_type="application/json")

    def token(self, request: Request) -> Response:
        self.refreshes.append(dict(request.form))
        self.refresh_auth.append(request.headers.get("Authorization"))
        if self.refresh_status != 200:
            return Response('{"error": "invalid_grant"}', status=self.refresh_status)
        self._issued += 1
        self.valid_access = f"ACCESS-SECRET-{self._issued}"
        body: dict[str, Any] = {
            "access_token": self.valid_access,
            "expires_in": 1800,
            "token_type": "Bearer",
        }
        if self.repeat_refresh_token:
            body["refresh_token"] = REFRESH
        return Response(json.dumps(body), content_type="application/json")


@pytest.fixture
def api(httpserver: HTTPServer) -> FakeSchwab:
    return FakeSchwab(httpserver)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def write_token_file(path: Path, expires_at: float = NOW + 1800) -> None:
    path.write_text(
        json.dumps({"access_token": ACCESS, "refresh_token": REFRESH, "expires_at": expires_at})
    )


def make_config(tmp_path: Path, base_url: str, **more: Any) -> SchwabDataConfig:
    token_file = tmp_path / "token.json"
    if not token_file.exists():
        write_token_file(token_file)
    return SchwabDataConfig.model_validate(
        {
            "base_url": base_url,
            "token_file": token_file,
            "app_key": KEY,
            "app_secret": SECRET,
            "cache": tmp_path / "cache",
            **more,
        }
    )


def make_source(
    tmp_path: Path, server: HTTPServer, clock: FakeClock, **more: Any
) -> SchwabBarSource:
    config = make_config(tmp_path, server.url_for("/"), **more)
    return SchwabBarSource(config, clock=clock, sleep=clock.sleep)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_chunks_of_years_handle_29_february() -> None:
    # 2020-02-29 plus one year does not exist: the chunk ends the day before 2021-03-01.
    assert chunks(D(2020, 2, 29), D(2022, 3, 5), 1) == [
        (D(2020, 2, 29), D(2021, 2, 28)),
        (D(2021, 3, 1), D(2022, 2, 28)),
        (D(2022, 3, 1), D(2022, 3, 5)),
    ]
    assert chunks(D(2019, 1, 2), D(2019, 1, 2), 10) == [(D(2019, 1, 2), D(2019, 1, 2))]


def test_chicago_midnight_stamps_map_to_their_session_date() -> None:
    # Both are midnight in Chicago: 06:00 UTC in winter, 05:00 UTC in summer.
    assert session_dates([JAN_2, JUL_1]).tolist() == [D(2019, 1, 2), D(2019, 7, 1)]
    # One millisecond before midnight is still the day before in Chicago.
    assert session_dates([JAN_2 - 1]).tolist() == [D(2019, 1, 1)]


def test_a_fetch_asks_for_whole_days_and_includes_the_end_date(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    api.add("AAPL", (D(2019, 1, 2), 39.48), (D(2019, 1, 3), 35.55), (D(2019, 1, 4), 37.06))
    source = make_source(tmp_path, httpserver, clock)
    data = source.load("AAPL", D(2019, 1, 2), D(2019, 1, 4))
    assert api.calls == [
        {
            "symbol": "AAPL",
            "periodType": "year",
            "frequencyType": "daily",
            "frequency": "1",
            "startDate": str(JAN_2),
            # The last millisecond of 2019-01-04 in Chicago: midnight of the 5th minus 1.
            "endDate": str(JAN_5 - 1),
            "needExtendedHoursData": "false",
        }
    ]
    assert api.bearers == [f"Bearer {ACCESS}"]
    series = data.series
    assert series.sessions.tolist() == [D(2019, 1, 2), D(2019, 1, 3), D(2019, 1, 4)]
    assert series.close.tolist() == [39.48, 35.55, 37.06]
    # Stamped 16:00 New York (EST, UTC-5) = 21:00 UTC on the session date.
    stamp = datetime(2019, 1, 2, 21, tzinfo=UTC).timestamp()
    assert int(series.timestamps[0]) == int(stamp) * 10**9
    assert data.window == (D(2019, 1, 2), D(2019, 1, 4))
    assert data.actions == ()
    assert series.path == source.cache.path("AAPL")
    assert source.price_adjustment is PriceAdjustment.SPLIT_ADJUSTED
    assert (source.location, str(source.zone)) == (httpserver.url_for("/").rstrip("/"), str(NY))
    assert source.symbols() == ["AAPL"]
    source.check_symbols(["ANYTHING"])  # the API answers, not a listing


def test_a_long_range_is_fetched_in_chunks_with_exact_bounds(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    api.add("AAPL", (D(2019, 6, 3), 10), (D(2020, 6, 1), 20), (D(2021, 6, 1), 30))
    source = make_source(tmp_path, httpserver, clock, max_years_per_request=1)
    report = source.update("AAPL", D(2019, 1, 2), D(2021, 6, 30))
    # Chunks of one year: 2019-01-02..2020-01-01, 2020-01-02..2021-01-01, 2021-01-02..06-30.
    # 2020-01-02 00:00 CST = 1577923200 + 21600 s; 2021-01-02 = 1609545600 + 21600 s;
    # 2021-07-01 00:00 CDT = 1625097600 + 18000 s.
    assert [(c["startDate"], c["endDate"]) for c in api.calls] == [
        (str(JAN_2), str(1_577_944_800_000 - 1)),
        (str(1_577_944_800_000), str(1_609_567_200_000 - 1)),
        (str(1_609_567_200_000), str(1_625_115_600_000 - 1)),
    ]
    assert report.symbol == "AAPL"
    assert (report.fetched_rows, report.cached_rows) == (3, 3)
    assert (report.first, report.last) == (D(2019, 6, 3), D(2021, 6, 1))
    cached = source.cache.read("AAPL")
    assert cached is not None
    assert cached.covered == ((D(2019, 1, 2), D(2021, 6, 30)),)
    assert cached.requests[0] == (
        f"GET {source.location}{HISTORY} symbol=AAPL 2019-01-02..2020-01-01"
    )


def test_only_missing_ranges_are_fetched_and_a_covered_range_is_not_asked_again(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    api.add("AAPL", *((D(2019, 1, d), 100.0 + d) for d in (2, 3, 4, 7, 8, 9, 10, 11, 14)))
    make_source(tmp_path, httpserver, clock).load("AAPL", D(2019, 1, 2), D(2019, 1, 8))
    assert len(api.calls) == 1
    # A new source (a new run) over the same cache: only 2019-01-09..2019-01-14 is missing.
    source = make_source(tmp_path, httpserver, clock)
    data = source.load("AAPL", D(2019, 1, 3), D(2019, 1, 14))
    assert len(api.calls) == 2
    assert api.calls[1]["startDate"] == str(chicago_ms(D(2019, 1, 9)))
    assert data.series.sessions.tolist() == [D(2019, 1, d) for d in (3, 4, 7, 8, 9, 10, 11, 14)]
    assert data.series.close.tolist() == [103, 104, 107, 108, 109, 110, 111, 114]
    # Rows of the file are numbered from 1: the 3rd is the 1st bar returned.
    assert data.series.lines is not None
    assert data.series.lines.tolist() == [2, 3, 4, 5, 6, 7, 8, 9]
    report = source.update("AAPL", D(2019, 1, 5), D(2019, 1, 6))  # a covered weekend
    assert (report.fetched_rows, report.cached_rows, len(api.calls)) == (0, 9, 2)
    with pytest.raises(DataError, match="start 2019-01-06 is after end 2019-01-05"):
        source.update("AAPL", D(2019, 1, 6), D(2019, 1, 5))


def test_only_days_before_today_are_fetched(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    # NOW is 2023-11-14 in New York: today's candle may still change, so the request stops
    # at 2023-11-13 and nothing after it is marked as covered.
    source = make_source(tmp_path, httpserver, clock)
    api.add("AAPL", (D(2023, 11, 13), 184.8))
    data = source.load("AAPL", D(2023, 11, 13), D(2023, 11, 20))
    assert [c["endDate"] for c in api.calls] == [str(chicago_ms(D(2023, 11, 14)) - 1)]
    assert data.series.sessions.tolist() == [D(2023, 11, 13)]
    assert data.window == (D(2023, 11, 13), D(2023, 11, 20))
    cached = source.cache.read("AAPL")
    assert cached is not None
    assert cached.covered == ((D(2023, 11, 13), D(2023, 11, 13)),)
    source.update("AAPL", D(2023, 11, 14), D(2023, 11, 20))  # nothing before today to fetch
    assert len(api.calls) == 1


def test_a_second_run_works_offline_from_the_cache(tmp_path: Path, clock: FakeClock) -> None:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        api = FakeSchwab(server)
        api.add("AAPL", (D(2019, 1, 2), 10), (D(2019, 1, 3), 11), (D(2019, 1, 4), 12))
        api.add("MSFT", (D(2019, 1, 3), 50), (D(2019, 1, 4), 51))
        request = StreamRequest(symbols=("AAPL", "MSFT"), start=D(2019, 1, 2), end=D(2019, 1, 4))
        first = HistoricalDataService(make_source(tmp_path, server, clock)).stream(request)
        online = [(s.timestamp, s.symbols, s.close.tolist()) for s in first]
        url = server.url_for("/")
    finally:
        server.stop()
    assert len(api.calls) == 2
    (tmp_path / "token.json").unlink()  # not even the token file is needed
    config = make_config(tmp_path, url, app_key=None, app_secret=None)
    service = HistoricalDataService(SchwabBarSource(config, clock=clock, sleep=clock.sleep))
    offline = [(s.timestamp, s.symbols, s.close.tolist()) for s in service.stream(request)]
    # Three sessions; AAPL alone on the 2nd, both on the 3rd and the 4th.
    assert offline == online
    assert [(t.astimezone(NY).date(), syms, closes) for t, syms, closes in offline] == [
        (D(2019, 1, 2), ("AAPL",), [10.0]),
        (D(2019, 1, 3), ("AAPL", "MSFT"), [11.0, 50.0]),
        (D(2019, 1, 4), ("AAPL", "MSFT"), [12.0, 51.0]),
    ]
    assert service.symbols() == ["AAPL", "MSFT"]
    assert service.fetches
    # update through the service: covered already, so still offline.
    (report,) = service.update(["AAPL"], D(2019, 1, 2), D(2019, 1, 4))
    assert (report.fetched_rows, report.cached_rows) == (0, 3)


def test_load_without_dates_serves_the_cache_and_needs_something_cached(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    source = make_source(tmp_path, httpserver, clock)
    with pytest.raises(DataError, match="nothing of AAPL is cached: give a date range") as info:
        source.load("AAPL")
    assert info.value.path == source.cache.path("AAPL")
    api.add("AAPL", (D(2019, 1, 2), 10), (D(2019, 1, 3), 11))
    source.update("AAPL", D(2019, 1, 1), D(2019, 1, 6))
    data = source.load("AAPL")
    assert data.series.close.tolist() == [10, 11]
    assert data.window == (D(2019, 1, 1), D(2019, 1, 6))  # what the cache covers
    assert source.load("AAPL", start=D(2019, 1, 3)).series.close.tolist() == [11]
    with pytest.raises(
        DataError,
        match=r"no daily bars of AAPL in 2019-01-05\.\.2019-01-06 \("
        r"the cache holds 2019-01-02\.\.2019-01-03\)",
    ):
        source.load("AAPL", D(2019, 1, 5), D(2019, 1, 6))


def test_a_hole_between_cached_ranges_is_reported_not_served_as_complete(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    # 2019-01-02..04 and 2019-01-14..16 are cached, the week between is not. Loaded without
    # dates, the cache used to claim 01-02..01-16 whole: a stream then used it as complete.
    api.add("AAPL", *((D(2019, 1, d), 100.0 + d) for d in (2, 3, 4, 7, 8, 9, 10, 11, 14, 15, 16)))
    source = make_source(tmp_path, httpserver, clock)
    source.update("AAPL", D(2019, 1, 2), D(2019, 1, 4))
    source.update("AAPL", D(2019, 1, 14), D(2019, 1, 16))
    data = source.load("AAPL")
    assert data.window == (D(2019, 1, 2), D(2019, 1, 4))  # what is known whole
    (hole,) = data.anomalies
    assert (hole.action, hole.date, hole.path) == (
        AnomalyAction.REPORTED,
        "2019-01-05",
        source.cache.path("AAPL"),
    )
    assert hole.problem == (
        "nothing is cached for 2019-01-05..2019-01-13, between the cached ranges: run "
        "`qtrader data update` (or give the dates) to fetch it"
    )
    # A stream over the whole range fetches the hole rather than trust the cache.
    service = HistoricalDataService(source)
    service.load("AAPL")
    request = StreamRequest(symbols=("AAPL",), start=D(2019, 1, 2), end=D(2019, 1, 16))
    closes = [float(s.close[0]) for s in service.stream(request)]
    assert closes == [100.0 + d for d in (2, 3, 4, 7, 8, 9, 10, 11, 14, 15, 16)]


def test_an_empty_answer_is_a_covered_range_and_a_symbol_without_bars_is_unknown(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    source = make_source(tmp_path, httpserver, clock)
    # The fake answers {"candles": [], "symbol": "NOPE", "empty": true}.
    with pytest.raises(UnknownSymbolError, match="Schwab has no daily bars of NOPE") as info:
        source.load("NOPE", D(2019, 1, 2), D(2019, 1, 4))
    assert info.value.symbols == ("NOPE",)
    assert f"GET {source.location}{HISTORY} symbol=NOPE 2019-01-02..2019-01-04" in str(info.value)
    assert source.symbols() == []  # a symbol without bars is not listed
    with pytest.raises(UnknownSymbolError):
        source.load("NOPE", D(2019, 1, 2), D(2019, 1, 4))
    assert len(api.calls) == 1  # the empty range is remembered


def test_an_expired_token_is_refreshed_first_and_the_file_rewritten(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    write_token_file(tmp_path / "token.json", expires_at=NOW + 30)  # within the 60 s margin
    api.add("AAPL", (D(2019, 1, 2), 10))
    source = make_source(tmp_path, httpserver, clock)
    source.load("AAPL", D(2019, 1, 2), D(2019, 1, 2))
    assert api.refreshes == [{"grant_type": "refresh_token", "refresh_token": REFRESH}]
    assert api.refresh_auth == ["Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()]
    assert api.bearers == ["Bearer ACCESS-SECRET-2"]
    path = tmp_path / "token.json"
    assert json.loads(path.read_text()) == {
        "access_token": "ACCESS-SECRET-2",
        "refresh_token": REFRESH,
        "expires_at": NOW + 1800,
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "token.json"]  # no temp


def test_a_schwab_py_token_file_is_used_and_keeps_its_layout(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    path = tmp_path / "token.json"
    token = {
        "access_token": ACCESS,
        "refresh_token": REFRESH,
        "expires_in": 1800,
        "token_type": "Bearer",
        "scope": "api",
        "id_token": "ID",
    }
    path.write_text(json.dumps({"creation_timestamp": 1699990000, "token": token}))
    api.add("AAPL", (D(2019, 1, 2), 10))
    make_source(tmp_path, httpserver, clock).load("AAPL", D(2019, 1, 2), D(2019, 1, 2))
    # No expires_at: taken as expired, so refreshed first.
    assert len(api.refreshes) == 1
    assert json.loads(path.read_text()) == {
        "creation_timestamp": 1699990000,
        "token": {
            "access_token": "ACCESS-SECRET-2",
            "refresh_token": REFRESH,
            "expires_in": 1800,
            "token_type": "Bearer",
            "scope": "api",
            "id_token": "ID",
            "expires_at": NOW + 1800,
        },
    }


def test_a_refresh_answer_without_a_refresh_token_keeps_the_old_one(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    write_token_file(tmp_path / "token.json", expires_at=NOW - 1)
    api.repeat_refresh_token = False
    make_source(tmp_path, httpserver, clock).update("AAPL", D(2019, 1, 2), D(2019, 1, 2))
    saved = json.loads((tmp_path / "token.json").read_text())
    assert (saved["access_token"], saved["refresh_token"]) == ("ACCESS-SECRET-2", REFRESH)


def test_a_token_endpoint_failing_otherwise_is_reported(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    write_token_file(tmp_path / "token.json", expires_at=NOW - 1)
    api.refresh_status = 404
    source = make_source(tmp_path, httpserver, clock)
    with pytest.raises(DataError) as info:
        source.update("AAPL", D(2019, 1, 2), D(2019, 1, 2))
    assert str(info.value) == (
        f"POST {source.location}/v1/oauth/token (refresh): Schwab answered HTTP 404: "
        '{"error": "invalid_grant"}'
    )


def test_a_401_refreshes_once_and_retries_once(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    api.valid_access = "ACCESS-SECRET-revoked"  # the file's token is refused
    api.add("AAPL", (D(2019, 1, 2), 10))
    data = make_source(tmp_path, httpserver, clock).load("AAPL", D(2019, 1, 2), D(2019, 1, 2))
    assert api.bearers == [f"Bearer {ACCESS}", "Bearer ACCESS-SECRET-2"]
    assert len(api.refreshes) == 1
    assert data.series.close.tolist() == [10]


def test_a_401_after_a_refresh_says_to_log_in(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    api.script = [Response("{}", status=401), Response("{}", status=401)]
    source = make_source(tmp_path, httpserver, clock)
    with pytest.raises(
        DataError,
        match=r"freshly refreshed access token \(HTTP 401\); run "
        r"`qtrader data login`",
    ):
        source.load("AAPL", D(2019, 1, 2), D(2019, 1, 2))
    assert (len(api.calls), len(api.refreshes)) == (2, 1)


def test_a_refused_refresh_says_to_run_login_and_shows_no_secret(
    tmp_path: Path,
    httpserver: HTTPServer,
    api: FakeSchwab,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    write_token_file(tmp_path / "token.json", expires_at=NOW - 1)
    api.refresh_status = 400
    source = make_source(tmp_path, httpserver, clock)
    with pytest.raises(
        DataError,
        match=r"refused the refresh token .*\(HTTP 400; it lasts 7 days"
        r" from login\); run `qtrader data login`",
    ) as info:
        source.load("AAPL", D(2019, 1, 2), D(2019, 1, 2))
    assert api.calls == []
    assert_no_secret(str(info.value))
    assert_no_secret(caplog.text)
    assert_no_secret(repr(source))


def test_a_429_waits_as_retry_after_says(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    api.script = [Response("slow down", status=429, headers={"Retry-After": "7"})]
    api.add("AAPL", (D(2019, 1, 2), 10))
    data = make_source(tmp_path, httpserver, clock).load("AAPL", D(2019, 1, 2), D(2019, 1, 2))
    assert clock.slept == [7.0]
    assert len(api.calls) == 2
    assert data.series.close.tolist() == [10]


def test_a_retry_after_date_counts_from_the_clock(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    # NOW + 12 s is 2023-11-14 22:13:32 UTC.
    api.script = [
        Response("", status=429, headers={"Retry-After": "Tue, 14 Nov 2023 22:13:32 GMT"}),
        Response("", status=429, headers={"Retry-After": "soon"}),  # unreadable: backoff
        Response("", status=429),  # none: backoff
    ]
    make_source(tmp_path, httpserver, clock, backoff_seconds=0.5).update(
        "AAPL", D(2019, 1, 2), D(2019, 1, 2)
    )
    # 12 s as asked, then the backoff of the 2nd and 3rd attempts: 0.5 * 2, 0.5 * 4.
    assert clock.slept == [12.0, 1.0, 2.0]


def test_a_429_asking_too_long_fails_at_once(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    api.script = [Response("", status=429, headers={"Retry-After": "3600"})]
    source = make_source(tmp_path, httpserver, clock)
    with pytest.raises(DataError, match=r"asks to wait 3600 s, more than max_retry_after_seconds"):
        source.update("AAPL", D(2019, 1, 2), D(2019, 1, 2))
    assert clock.slept == []


def test_a_500_is_retried_after_a_backoff(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    api.script = [Response("oops", status=500)]
    api.add("AAPL", (D(2019, 1, 2), 10))
    report = make_source(tmp_path, httpserver, clock).update("AAPL", D(2019, 1, 2), D(2019, 1, 2))
    assert clock.slept == [1.0]
    assert report.fetched_rows == 1


def test_exhausted_retries_name_the_symbol_range_and_request(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    api.script = [Response("busy", status=503) for _ in range(3)]
    source = make_source(tmp_path, httpserver, clock, max_attempts=3, max_backoff_seconds=1.5)
    with pytest.raises(DataError) as info:
        source.update("AAPL", D(2019, 1, 2), D(2019, 1, 4))
    assert str(info.value) == (
        f"GET {source.location}{HISTORY} symbol=AAPL 2019-01-02..2019-01-04: gave up after 3 "
        "attempts; last answer: HTTP 503 SERVICE UNAVAILABLE"
    )
    # Backoff 1 s, then 2 s capped at max_backoff_seconds 1.5; no wait after the last try.
    assert clock.slept == [1.0, 1.5]
    assert source.cache.read("AAPL") is None  # nothing is cached of a failed request


def test_a_connection_failure_is_retried_then_reported(tmp_path: Path, clock: FakeClock) -> None:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    url = server.url_for("/")
    server.stop()  # nothing listens there any more
    source = SchwabBarSource(
        make_config(tmp_path, url, max_attempts=2), clock=clock, sleep=clock.sleep
    )
    with pytest.raises(
        DataError,
        match=r"symbol=AAPL 2019-01-02\.\.2019-01-02: gave up after 2 "
        r"attempts; last answer: ConnectError",
    ):
        source.update("AAPL", D(2019, 1, 2), D(2019, 1, 2))
    assert clock.slept == [1.0]


def test_a_4xx_is_not_retried_and_its_message_helps(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    api.script = [Response('{"errors": [{"detail": "Invalid symbol: A$B"}]}', status=400)]
    source = make_source(tmp_path, httpserver, clock)
    with pytest.raises(DataError) as info:
        source.update("A$B", D(2019, 1, 2), D(2019, 1, 2))
    assert str(info.value) == (
        f"GET {source.location}{HISTORY} symbol=A$B 2019-01-02..2019-01-02: Schwab answered "
        'HTTP 400 (is the symbol right?): {"errors": [{"detail": "Invalid symbol: A$B"}]}'
    )
    assert len(api.calls) == 1
    assert clock.slept == []
    api.script = [Response("x" * 300, status=403)]
    with pytest.raises(DataError, match=r"HTTP 403: x{200}\.\.\.$"):
        source.update("AAPL", D(2019, 1, 2), D(2019, 1, 2))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "<html>maintenance</html>",
            r"the answer is not JSON \(text/html\): "
            r"<html>maintenance</html>",
        ),
        ('{"symbol": "AAPL"}', r'malformed answer: expected a JSON object with a "candles" list'),
        ("[1, 2]", r'malformed answer: expected a JSON object with a "candles" list'),
        ('{"candles": [], "symbol": "MSFT"}', r"malformed answer: it is for symbol 'MSFT'"),
        ('{"candles": [7]}', r"malformed answer: candle 0 is not an object"),
        (
            '{"candles": [{"datetime": "2019-01-02"}]}',
            r"malformed answer: candle 0 has datetime '2019-01-02', expected epoch ms",
        ),
        ('{"candles": [{"datetime": true}]}', r"candle 0 has datetime True, expected epoch ms"),
        (
            f'{{"candles": [{{"datetime": {JAN_2}, "open": "39.5"}}]}}',
            r"malformed answer: candle 0 has open '39.5', expected a number",
        ),
    ],
)
def test_a_malformed_answer_names_the_request_and_caches_nothing(
    tmp_path: Path,
    httpserver: HTTPServer,
    api: FakeSchwab,
    clock: FakeClock,
    body: str,
    message: str,
) -> None:
    kind = "text/html" if body.startswith("<") else "application/json"
    api.script = [Response(body, status=200, content_type=kind)]
    source = make_source(tmp_path, httpserver, clock)
    with pytest.raises(DataError, match=message) as info:
        source.update("AAPL", D(2019, 1, 2), D(2019, 1, 2))
    assert str(info.value).startswith(f"GET {source.location}{HISTORY} symbol=AAPL 2019-01-02")
    assert source.cache.read("AAPL") is None


def bad_close_answer() -> Response:
    candles = [
        {"open": 10, "high": 11, "low": 9, "close": 10, "volume": 5, "datetime": JAN_2},
        {"open": 10, "high": 11, "low": 9, "close": None, "volume": 5, "datetime": JAN_3},
        {"open": 12, "high": 13, "low": 11, "close": 12, "volume": 5, "datetime": JAN_4},
    ]
    return Response(
        json.dumps({"candles": candles, "symbol": "AAPL"}), content_type="application/json"
    )


def test_a_bad_candle_is_validated_like_a_file_row_naming_the_cache_row_and_request(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    api.script = [bad_close_answer()]
    source = make_source(tmp_path, httpserver, clock)
    request = f"GET {source.location}{HISTORY} symbol=AAPL 2019-01-02..2019-01-04"
    with pytest.raises(DataError) as info:
        source.load("AAPL", D(2019, 1, 2), D(2019, 1, 4))
    error = info.value
    assert (error.path, error.line) == (source.cache.path("AAPL"), 2)
    assert error.message.startswith("AAPL 2019-01-03: ")
    assert error.message.endswith(f"(fetched by {request})")
    assert "row 2" in str(error)


def test_with_repair_a_bad_candle_is_dropped_and_reported_with_its_request(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    api.script = [bad_close_answer()]
    source = make_source(tmp_path, httpserver, clock, validation="repair")
    data = source.load("AAPL", D(2019, 1, 2), D(2019, 1, 4))
    assert data.series.close.tolist() == [10, 12]
    (anomaly,) = data.anomalies
    assert (anomaly.symbol, anomaly.date, anomaly.action) == (
        "AAPL",
        "2019-01-03",
        AnomalyAction.DROPPED,
    )
    assert (anomaly.path, anomaly.line) == (source.cache.path("AAPL"), 2)
    assert anomaly.request == f"GET {source.location}{HISTORY} symbol=AAPL 2019-01-02..2019-01-04"


def test_the_rate_limit_waits_when_a_minute_is_full(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    # Two requests a minute and three one-year chunks: the third waits until 60 s after
    # the first (the fake clock does not move between requests).
    source = make_source(
        tmp_path, httpserver, clock, requests_per_minute=2, max_years_per_request=1
    )
    source.update("AAPL", D(2019, 1, 2), D(2021, 1, 4))
    assert len(api.calls) == 3
    assert clock.slept == [60.0]
    clock.now += 61  # a minute later the window is empty again
    source.update("MSFT", D(2019, 1, 2), D(2019, 1, 2))
    assert clock.slept == [60.0]


def test_secrets_never_show_in_errors_logs_or_reprs(
    tmp_path: Path,
    httpserver: HTTPServer,
    api: FakeSchwab,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    source = make_source(tmp_path, httpserver, clock, max_attempts=2)
    # A server that echoes the bearer token in its error body must not leak it either.
    api.script = [Response(f"bad token {ACCESS} for key {KEY}", status=403)]
    write_token_file(tmp_path / "token.json", expires_at=NOW - 1)  # refresh first
    api.valid_access = ACCESS
    for scripted in (
        [Response(f"token ACCESS-SECRET-2 / {SECRET}", status=403)],
        [Response("", status=500), Response("", status=500)],
        [Response(f"<{REFRESH}>", status=200)],
        [Response("{}", status=401), Response("{}", status=401)],
    ):
        api.script = list(scripted)
        with pytest.raises(DataError) as info:
            source.update("AAPL", D(2019, 1, 2), D(2019, 1, 2))
        errors.append(str(info.value))
    assert any("HTTP 403: token ********** / **********" in e for e in errors)
    for text in (*errors, caplog.text, repr(source), repr(source.config), repr(source._tokens)):
        assert_no_secret(text)
    assert any("retrying" in r.getMessage() for r in caplog.records)


def test_open_data_service_builds_it_by_name_with_paths_from_the_config_folder(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab
) -> None:
    write_token_file(tmp_path / "tok.json", expires_at=4_000_000_000)
    api.add("AAPL", (D(2019, 1, 2), 10))
    service = open_data_service(
        "schwab",
        {
            "base_url": httpserver.url_for("/"),
            "token_file": "tok.json",
            "cache": "c",
            "app_key": KEY,
            "app_secret": SECRET,
        },
        base_dir=tmp_path,
    )
    assert isinstance(service.source, SchwabBarSource)
    (report,) = service.update(["AAPL"], D(2019, 1, 2), D(2019, 1, 2))
    assert report.fetched_rows == 1
    assert (tmp_path / "c" / "schwab" / "split_adjusted" / "AAPL.parquet").is_file()
    assert service.load("AAPL", D(2019, 1, 2), D(2019, 1, 2)).series.close.tolist() == [10]


def test_without_credentials_a_fetch_is_a_clear_error(
    tmp_path: Path, httpserver: HTTPServer, api: FakeSchwab, clock: FakeClock
) -> None:
    write_token_file(tmp_path / "token.json", expires_at=NOW - 1)
    source = make_source(tmp_path, httpserver, clock, app_key="", app_secret="")
    with pytest.raises(DataError, match=r"app_key and app_secret are needed to reach Schwab"):
        source.update("AAPL", D(2019, 1, 2), D(2019, 1, 2))


def test_a_bad_base_url_is_refused() -> None:
    with pytest.raises(ValueError, match="base_url must start with https://"):
        SchwabDataConfig.model_validate({"base_url": "api.schwabapi.com"})
    assert SchwabDataConfig().base_url == "https://api.schwabapi.com"
