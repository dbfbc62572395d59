"""The engine's own configuration: what to run, not how the services behave."""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from qtrader.models import FrozenModel


class EngineConfig(FrozenModel):
    """Dates are session dates, both inclusive; warmup is counted in bars."""

    start: date
    end: date
    symbols: tuple[str, ...] = Field(min_length=1)
    warmup_bars: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _check(self) -> EngineConfig:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self
