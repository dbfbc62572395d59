"""Options every bar adapter shares: the session clock, validation and tolerance.

Each adapter's config derives from ``BarOptions`` and adds where its data lives
(``path``, ``base_url`` ...), so ``timezone``, ``validation`` and ``tolerance``
mean the same thing in every ``data:`` block.
"""

from __future__ import annotations

from datetime import time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from qtrader.models import FrozenModel
from qtrader.models.fields import LocalTime, TimeZoneName, reject_numbers


class ValidationPolicy(StrEnum):
    """What to do with a bad row."""

    STRICT = "strict"
    """The first bad row (lowest line) raises ``DataError``."""
    REPAIR = "repair"
    """Bad rows are dropped and each one is reported as an ``Anomaly``."""


def _resolve(value: Path, info: ValidationInfo) -> Path:
    # A config file's paths are relative to that file, not to the working directory:
    # the app passes the file's folder as validation context ``base_dir``.
    path = value.expanduser()
    base = (info.context or {}).get("base_dir")
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    return path


SourcePath = Annotated[Path, AfterValidator(_resolve)]
"""A path in a ``data:`` block: ``~`` expanded, relative to the context's ``base_dir``."""


class BarOptions(FrozenModel):
    """How bars are stamped and checked; the base of every adapter's config."""

    timezone: TimeZoneName = "America/New_York"
    """IANA zone in which dates and times of day in the files are read."""
    session_open: LocalTime = time(9, 30)
    """Daily bars: local time the session opens (the slices' ``opened_at``)."""
    session_close: LocalTime = time(16, 0)
    """Daily bars: local time the session closes (the bars' timestamp)."""
    validation: ValidationPolicy = ValidationPolicy.STRICT
    tolerance: float = Field(default=0.0, ge=0.0, lt=1.0, allow_inf_nan=False)
    """Relative amount by which open/close may lie outside [low, high] (0.001 = 0.1%)."""
    bar_interval: timedelta | None = None
    """Intraday bars: their length. Inferred per file when omitted (see README)."""

    @field_validator("bar_interval", mode="before")
    @classmethod
    def _interval_not_number(cls, value: Any) -> Any:
        return reject_numbers(value, "bar_interval (e.g. '00:05:00')")

    @model_validator(mode="after")
    def _check(self) -> BarOptions:
        if self.session_open >= self.session_close:
            raise ValueError(
                f"session_open {self.session_open} must be before session_close "
                f"{self.session_close}"
            )
        if self.bar_interval is not None and self.bar_interval <= timedelta(0):
            raise ValueError(f"bar_interval must be positive, got {self.bar_interval}")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
