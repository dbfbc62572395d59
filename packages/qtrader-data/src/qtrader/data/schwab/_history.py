"""Schwab's ``/marketdata/v1/pricehistory``: which requests to make and what they answer.

Daily candles are stamped at midnight America/Chicago of their session
(2019-01-02 is ``1546408800000`` ms = 06:00 UTC). The session date is the
Chicago calendar date of that instant. Converting in any zone west of Chicago
(``datetime.fromtimestamp`` on a machine in California, say) gives the day
before, so the conversion is always done in Chicago, never in the machine's zone.
A request asks for whole Chicago days: from midnight of the first day to the
last millisecond of the last day, so the last day's candle is included.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from qtrader.data.cache import DateRange
from qtrader.data.errors import DataError
from qtrader.data.series import DayArray
from qtrader.models import FloatArray

PRICE_HISTORY = "/marketdata/v1/pricehistory"
CHICAGO = ZoneInfo("America/Chicago")
_FIELDS = ("open", "high", "low", "close", "volume")
_ONE_DAY = timedelta(days=1)


def _midnight_ms(day: date) -> int:
    return int(datetime.combine(day, time(0), tzinfo=CHICAGO).timestamp()) * 1000


def _plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return date(day.year + years, 3, 1)


def chunks(first: date, last: date, years: int) -> list[DateRange]:
    """``[first, last]`` cut into consecutive ranges of at most ``years`` years."""
    pieces: list[DateRange] = []
    start = first
    while start <= last:
        stop = min(last, _plus_years(start, years) - _ONE_DAY)
        pieces.append((start, stop))
        start = stop + _ONE_DAY
    return pieces


def query(symbol: str, first: date, last: date) -> dict[str, str]:
    """The query of one daily price-history request for sessions ``[first, last]``."""
    return {
        "symbol": symbol,
        "periodType": "year",
        "frequencyType": "daily",
        "frequency": "1",
        "startDate": str(_midnight_ms(first)),
        "endDate": str(_midnight_ms(last + _ONE_DAY) - 1),
        "needExtendedHoursData": "false",
    }


def describe(base_url: str, symbol: str, first: date, last: date) -> str:
    """How messages name a request (never with a token)."""
    return f"GET {base_url}{PRICE_HISTORY} symbol={symbol} {first}..{last}"


def session_dates(stamps_ms: list[int]) -> DayArray:
    """The Chicago calendar date of each epoch-millisecond stamp."""
    utc = pd.to_datetime(np.asarray(stamps_ms, dtype=np.int64), unit="ms", utc=True)
    local = utc.tz_convert(CHICAGO).tz_localize(None)
    days: DayArray = local.to_numpy().astype("datetime64[D]")
    return days


def _malformed(what: str, problem: str) -> DataError:
    return DataError(f"{what}: malformed answer: {problem}")


def parse_candles(body: Any, symbol: str, what: str) -> tuple[DayArray, FloatArray]:
    """Session dates and ``(n, 5)`` values of an answer; a missing or null price is
    NaN (validation reports it), anything else off is a ``DataError``."""
    if not isinstance(body, dict) or not isinstance(body.get("candles"), list):
        raise _malformed(what, 'expected a JSON object with a "candles" list')
    answered = body.get("symbol")
    if isinstance(answered, str) and answered.upper() != symbol.upper():
        raise _malformed(what, f"it is for symbol {answered!r}")
    candles: list[Any] = body["candles"]
    stamps: list[int] = []
    values = np.full((len(candles), len(_FIELDS)), np.nan)
    for i, candle in enumerate(candles):
        if not isinstance(candle, dict):
            raise _malformed(what, f"candle {i} is not an object")
        stamp = candle.get("datetime")
        if not isinstance(stamp, int) or isinstance(stamp, bool):
            raise _malformed(what, f"candle {i} has datetime {stamp!r}, expected epoch ms")
        stamps.append(stamp)
        for j, name in enumerate(_FIELDS):
            value = candle.get(name)
            if value is None:
                continue
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise _malformed(what, f"candle {i} has {name} {value!r}, expected a number")
            values[i, j] = value
    return session_dates(stamps), values
