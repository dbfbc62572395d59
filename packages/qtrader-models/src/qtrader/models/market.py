"""Market data contracts: instruments, bars, corporate actions and columnar slices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Annotated, Literal

import numpy as np
import numpy.typing as npt
from pydantic import AwareDatetime, Field, model_validator

from qtrader.models._base import FrozenModel
from qtrader.models.fields import TimeZoneName

FloatArray = npt.NDArray[np.float64]
PRICE_FIELDS: tuple[str, ...] = ("open", "high", "low", "close", "volume")


class PriceAdjustment(StrEnum):
    """Which adjustment the prices of a feed carry."""

    UNADJUSTED = "unadjusted"
    """As traded. Splits and dividends arrive as corporate actions."""
    SPLIT_ADJUSTED = "split_adjusted"
    """History rescaled for splits: splits must not be applied to positions again, but
    cash dividends (per adjusted share) still arrive as actions and are paid."""
    TOTAL_RETURN = "total_return"
    """Rescaled for splits and dividends: no action may be applied (it would count twice)."""


class Instrument(FrozenModel):
    """A tradable instrument."""

    symbol: str = Field(min_length=1)
    currency: str = "USD"
    lot_size: Decimal = Field(default=Decimal(1), gt=0)
    tick_size: Decimal = Field(default=Decimal("0.01"), gt=0)
    timezone: TimeZoneName = "America/New_York"


class Bar(FrozenModel):
    """One OHLCV bar, stamped at its close (end) time.

    Stamping at the close is what keeps decisions honest: a bar stamped T is
    only known at T.
    """

    symbol: str = Field(min_length=1)
    timestamp: AwareDatetime
    open: float = Field(gt=0, allow_inf_nan=False)
    high: float = Field(gt=0, allow_inf_nan=False)
    low: float = Field(gt=0, allow_inf_nan=False)
    close: float = Field(gt=0, allow_inf_nan=False)
    volume: float = Field(ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _check_range(self) -> Bar:
        if self.high < self.low:
            raise ValueError(f"high {self.high} is below low {self.low}")
        for name in ("open", "close"):
            value = getattr(self, name)
            if not self.low <= value <= self.high:
                raise ValueError(f"{name} {value} is outside [low {self.low}, high {self.high}]")
        return self


class Split(FrozenModel):
    """A split effective from the first session of ``ex_date``.

    ``ratio`` is new shares per old share: 4-for-1 is ``4`` (quantity x 4,
    price / 4); a 1-for-10 reverse split is ``0.1``; a 1-for-3 is ``1 / 3`` to 28
    digits, which ``split_fraction`` reads back as exactly 1/3.
    """

    kind: Literal["split"] = "split"
    symbol: str = Field(min_length=1)
    ex_date: date
    ratio: Decimal = Field(gt=0)


SPLIT_DENOMINATOR = 10**6
"""The largest denominator (old shares) ``split_fraction`` recovers from a rounded ratio."""
_ROUNDED_RATIO = Fraction(1, 10**20)


def split_fraction(ratio: Decimal) -> tuple[int, int]:
    """A split's ``ratio`` as the exact fraction ``(new, old)`` it stands for.

    A ratio that terminates is itself (``1.5`` -> ``(3, 2)``). One that does not, such as
    1-for-3, can only be written rounded (``0.3333333333333333333333333333``): it stands for
    the fraction with at most ``SPLIT_DENOMINATOR`` old shares within 1e-20 of it, so 300
    shares become 100, not 99.999... Services scale quantities by ``new / old`` and prices
    by ``old / new`` with it.
    """
    exact = Fraction(ratio)
    if exact.denominator > SPLIT_DENOMINATOR:
        near = exact.limit_denominator(SPLIT_DENOMINATOR)
        if abs(near - exact) < _ROUNDED_RATIO:
            exact = near
    return exact.numerator, exact.denominator


class CashDividend(FrozenModel):
    """A cash dividend per share, owed to holders at the close before ``ex_date``."""

    kind: Literal["cash_dividend"] = "cash_dividend"
    symbol: str = Field(min_length=1)
    ex_date: date
    amount: Decimal = Field(gt=0)
    pay_date: date | None = None


CorporateAction = Annotated[Split | CashDividend, Field(discriminator="kind")]


@dataclass(frozen=True, slots=True, eq=False)
class BarSlice:
    """Every bar stamped ``timestamp``, as parallel columnar arrays.

    This is what moves through the hot loop once per timestamp: arrays, not
    a validated object per bar. Data is validated where an adapter loads it.
    ``symbols[i]`` owns ``open[i]`` ... ``volume[i]``. Symbols without a bar
    at this time (not listed yet, halted, delisted) are simply absent.

    ``opened_at`` is when the bars began (the session open for daily bars);
    a fill at the open of this bar is stamped with it. Intraday bars of one
    timestamp may differ in length (30-minute and hourly): ``opened_at`` is then
    the earliest, and ``bars_opened_at`` when each symbol's own bar opened
    (``None`` when they all opened at ``opened_at``; ``opened_at_of`` reads
    either). ``warmup`` slices
    feed indicators before ``start`` and are never traded. ``actions`` are the
    corporate actions effective from this timestamp on (only on unadjusted
    feeds), in the order they are applied: by ex-date, and on one ex-date a
    dividend before a split (it is owed per share as traded at the previous close).
    """

    timestamp: datetime
    opened_at: datetime
    symbols: tuple[str, ...]
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    warmup: bool = False
    actions: tuple[Split | CashDividend, ...] = ()
    bars_opened_at: tuple[datetime, ...] | None = None
    _index: Mapping[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        n = len(self.symbols)
        for name in PRICE_FIELDS:
            column = np.asarray(getattr(self, name), dtype=np.float64)  # no copy if already so
            object.__setattr__(self, name, column)
            if column.shape != (n,):
                raise ValueError(
                    f"BarSlice column {name!r} has shape {column.shape}, expected ({n},)"
                )
        if self.timestamp.tzinfo is None or self.opened_at.tzinfo is None:
            raise ValueError("BarSlice timestamps must be timezone-aware")
        if self.opened_at > self.timestamp:
            raise ValueError(
                f"BarSlice opened_at {self.opened_at.isoformat()} is after its close "
                f"timestamp {self.timestamp.isoformat()}"
            )
        opened = self.bars_opened_at
        if opened is not None:
            if len(opened) != n or any(t.tzinfo is None or t > self.timestamp for t in opened):
                raise ValueError(
                    "BarSlice bars_opened_at must hold one aware time per symbol, none after "
                    "its close timestamp"
                )
            object.__setattr__(self, "opened_at", min(opened))
        object.__setattr__(self, "_index", {s: i for i, s in enumerate(self.symbols)})

    @classmethod
    def trusted(
        cls,
        timestamp: datetime,
        opened_at: datetime,
        symbols: tuple[str, ...],
        index: Mapping[str, int],
        columns: tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
        *,
        warmup: bool = False,
        actions: tuple[Split | CashDividend, ...] = (),
        bars_opened_at: tuple[datetime, ...] | None = None,
    ) -> BarSlice:
        """A slice of values a data service has already checked, without checking again.

        For the merge of a data service, once per timestamp: ``columns`` are float64
        arrays (open, high, low, close, volume) of ``len(symbols)``, both times are aware
        and ``opened_at <= timestamp``, and ``index`` maps each symbol to its position
        (shared by every slice of the same symbols: it is not copied). ``__post_init__``
        checks and builds all this for every other caller.
        """
        self = object.__new__(cls)
        setter = object.__setattr__
        setter(self, "timestamp", timestamp)
        setter(self, "opened_at", opened_at)
        setter(self, "symbols", symbols)
        setter(self, "open", columns[0])
        setter(self, "high", columns[1])
        setter(self, "low", columns[2])
        setter(self, "close", columns[3])
        setter(self, "volume", columns[4])
        setter(self, "warmup", warmup)
        setter(self, "actions", actions)
        setter(self, "bars_opened_at", bars_opened_at)
        setter(self, "_index", index)
        return self

    def index(self, symbol: str) -> int | None:
        """Position of ``symbol`` in the columns, or ``None`` if it has no bar now."""
        return self._index.get(symbol)

    def opened_at_of(self, symbol: str) -> datetime:
        """When ``symbol``'s bar opened (``opened_at`` unless the bars differ in length)."""
        opened = self.bars_opened_at
        if opened is None:
            return self.opened_at
        return opened[self._index[symbol]]

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._index

    def __len__(self) -> int:
        return len(self.symbols)

    def bar(self, symbol: str) -> Bar:
        """A validated ``Bar`` for one symbol (for convenience, not for the hot path)."""
        i = self._index.get(symbol)
        if i is None:
            raise KeyError(f"no bar for {symbol!r} at {self.timestamp.isoformat()}")
        return Bar(
            symbol=symbol,
            timestamp=self.timestamp,
            open=float(self.open[i]),
            high=float(self.high[i]),
            low=float(self.low[i]),
            close=float(self.close[i]),
            volume=float(self.volume[i]),
        )

    @classmethod
    def from_bars(
        cls,
        bars: list[Bar],
        *,
        opened_at: datetime | None = None,
        warmup: bool = False,
        actions: tuple[Split | CashDividend, ...] = (),
    ) -> BarSlice:
        """Build a slice from bars that all share one timestamp (tests, live feeds)."""
        if not bars:
            raise ValueError("BarSlice.from_bars needs at least one bar")
        stamps = {b.timestamp for b in bars}
        if len(stamps) != 1:
            raise ValueError(f"bars of one slice must share a timestamp, got {sorted(stamps)}")
        symbols = tuple(b.symbol for b in bars)
        if len(set(symbols)) != len(symbols):
            raise ValueError(f"duplicate symbols in one slice: {symbols}")

        def column(name: str) -> FloatArray:
            return np.array([getattr(b, name) for b in bars], dtype=np.float64)

        ts = bars[0].timestamp
        return cls(
            timestamp=ts,
            opened_at=opened_at or ts,
            symbols=symbols,
            open=column("open"),
            high=column("high"),
            low=column("low"),
            close=column("close"),
            volume=column("volume"),
            warmup=warmup,
            actions=actions,
        )


class StreamRequest(FrozenModel):
    """What the engine asks a data service to stream.

    ``start`` and ``end`` are session dates, both inclusive. ``warmup_bars``
    bars per symbol before ``start`` are delivered first, flagged ``warmup``.
    """

    symbols: tuple[str, ...] = Field(min_length=1)
    start: date
    end: date
    warmup_bars: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _check_dates(self) -> StreamRequest:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError(f"symbols repeat: {list(self.symbols)}")
        return self
