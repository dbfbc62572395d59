"""The field types configs share: an IANA zone name and a local time of day."""

from __future__ import annotations

from datetime import UTC, time

import pytest
from pydantic import ValidationError

from qtrader.models import FrozenModel, Instrument, LocalTime, TimeZoneName


class Session(FrozenModel):
    timezone: TimeZoneName = "America/New_York"
    close: LocalTime = time(16)


def test_a_zone_name_and_a_quoted_time_are_taken() -> None:
    session = Session.model_validate({"timezone": "Asia/Tokyo", "close": "15:00"})
    assert session.timezone == "Asia/Tokyo"
    assert session.close == time(15)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone\n  Value error, unknown timezone 'Mars/Olympus'; "
         "expected an IANA name"),
        ({"timezone": "../etc"}, "unknown timezone '../etc'"),
        ({"close": 960}, "close\n  Value error, give a session time as a quoted string such as "
         "'16:00', not the number 960"),
        ({"close": time(16, tzinfo=UTC)}, "close must be a local time without offset"),
    ],
)  # fmt: skip
def test_a_bad_zone_or_time_is_refused_naming_the_field(
    given: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        Session.model_validate(given)


def test_an_instrument_in_an_unknown_zone_is_refused_when_made() -> None:
    assert Instrument(symbol="7203", timezone="Asia/Tokyo").timezone == "Asia/Tokyo"
    with pytest.raises(ValidationError, match="unknown timezone 'Asia/Tokio'"):
        Instrument(symbol="7203", timezone="Asia/Tokio")
