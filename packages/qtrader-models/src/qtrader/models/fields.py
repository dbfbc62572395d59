"""Field types that several services' configs share, each checked the same way everywhere.

``TimeZoneName`` is an IANA zone name; ``LocalTime`` a time of day without offset (the zone
is given beside it), refused when YAML read it as a number. A config names them as field
types (``timezone: TimeZoneName = "America/New_York"``); each gives its own clear error.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, ValidationInfo


def reject_numbers(value: Any, what: str) -> Any:
    """``value`` unless it is a number: YAML 1.1 reads an unquoted 16:00 as the sexagesimal
    integer 960, which pydantic would then take as 960 seconds (00:16:00), a silently wrong
    time. ``what`` names the value in the error (``"a session time"``)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"give {what} as a quoted string such as '16:00', not the number {value}")
    return value


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {value!r}; expected an IANA name") from exc
    return value


def _session_time(value: Any) -> Any:
    return reject_numbers(value, "a session time")


def _without_offset(value: time, info: ValidationInfo) -> time:
    if value.tzinfo is not None:
        raise ValueError(f"{info.field_name} must be a local time without offset (see 'timezone')")
    return value


TimeZoneName = Annotated[str, AfterValidator(_known_zone)]
"""An IANA time zone name (``America/New_York``), checked against the zone database."""

LocalTime = Annotated[time, BeforeValidator(_session_time), AfterValidator(_without_offset)]
"""A local time of day (``'16:00'``): no offset, and never a number."""
