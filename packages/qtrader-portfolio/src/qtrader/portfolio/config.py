"""Configuration of the portfolio service."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator

from qtrader.models import FrozenModel

LotMatching = Literal["fifo", "lifo", "highest_cost"]
"""Which open lots a closing trade consumes first (see ``lots.py``); an order may also
name the lots it closes (``SpecificLotMatcher``), the rest following this rule."""

ZERO = Decimal(0)

AnnualRate = Decimal
"""A rate a year as a fraction: ``0.05`` is 5% a year."""


class FinancingConfig(FrozenModel):
    """What holding a position costs overnight. Frozen; unknown keys are rejected.

    Rates are fractions a year (``0.05`` is 5%), between 0 and 10 (1,000%, the dearest
    hard-to-borrow names). Interest accrues for the calendar days between sessions
    (``day_count`` days a year: 360, the US broker convention, or 365), on the positions
    and cash as they stood at the previous session's close; see ``financing.py``.
    Everything defaults to 0: no charge, no ledger entry, no per-bar work.
    """

    day_count: Literal[360, 365] = 360
    borrow_rate: AnnualRate = Field(default=ZERO, ge=0, le=10, allow_inf_nan=False)
    """Borrow fee of every short without a rate of its own in ``borrow_rates``."""
    borrow_rates: dict[str, AnnualRate] = Field(default_factory=dict)
    """Borrow fee by symbol (hard-to-borrow names), instead of ``borrow_rate``."""
    margin_rate: AnnualRate = Field(default=ZERO, ge=0, le=10, allow_inf_nan=False)
    """Interest on negative cash (a margin loan)."""

    @field_validator("borrow_rates")
    @classmethod
    def _check_rates(cls, rates: dict[str, Decimal]) -> dict[str, Decimal]:
        for symbol, rate in rates.items():
            if not symbol:
                raise ValueError("a symbol must be a non-empty string")
            if not (rate.is_finite() and 0 <= rate <= 10):
                raise ValueError(
                    f"the borrow rate of {symbol} must be a fraction a year between 0 and 10 "
                    f"(0.05 is 5%), got {rate}"
                )
        return rates

    @property
    def charges(self) -> bool:
        """Whether any rate is above 0 (else the service skips financing altogether)."""
        return (
            self.borrow_rate > 0
            or self.margin_rate > 0
            or any(rate > 0 for rate in self.borrow_rates.values())
        )

    def borrow_rate_of(self, symbol: str) -> Decimal:
        return self.borrow_rates.get(symbol, self.borrow_rate)


SEC_FEE_PER_MILLION = Decimal("27.80")
"""The Section 31 rate of 22 May 2024 to 13 May 2025 (see ``RegulatoryFeesConfig``)."""
FINRA_TAF_PER_SHARE = Decimal("0.000166")
FINRA_TAF_MAX = Decimal("8.30")


class RegulatoryFeesConfig(FrozenModel):
    """Fees US regulators charge on every sale (long sales and short sales alike).

    - **SEC fee** (Securities Exchange Act section 31): ``sec_fee_per_million`` dollars per
      million dollars of sale proceeds. The default, $27.80, was set by the SEC's "Order
      Making Fiscal Year 2024 Annual Adjustments to Transaction Fee Rates" (Release
      34-99973, 17 April 2024), effective 22 May 2024. The "Order Making Fiscal Year 2025
      Annual Adjustments to Transaction Fee Rates" (Release 34-102779, 8 April 2025) set
      it to $0.00 from 14 May 2025. Earlier rates: $22.10 until 24 February 2021, then
      $5.10 from 25 February 2021 (Fee Rate Advisory #2 for fiscal year 2021). The rate
      changes once or twice a year: give ``{effective date: rate}`` to charge each sale the
      rate in effect on its date, e.g. ``{2024-05-22: 27.80, 2025-05-14: 0}`` (a sale before
      the first date is refused, naming it).
    - **FINRA Trading Activity Fee** (FINRA By-Laws, Schedule A, Section 1(b), covered
      equity securities): ``finra_taf_per_share`` per share sold, at most ``finra_taf_max``
      per trade: $0.000166 and $8.30 since 1 January 2024. A trade here is one fill.

    Each fee is rounded up to the cent, fill by fill, as brokers pass them on; a fee of
    0 posts nothing. Off unless the ``regulatory_fees`` block is given.
    """

    sec_fee_per_million: Decimal | dict[date, Decimal] = SEC_FEE_PER_MILLION
    finra_taf_per_share: Decimal = Field(
        default=FINRA_TAF_PER_SHARE, ge=0, le=1, allow_inf_nan=False
    )
    finra_taf_max: Decimal = Field(default=FINRA_TAF_MAX, ge=0, allow_inf_nan=False)

    @field_validator("sec_fee_per_million")
    @classmethod
    def _check_sec_rates(
        cls, rates: Decimal | dict[date, Decimal]
    ) -> Decimal | dict[date, Decimal]:
        given = rates.values() if isinstance(rates, dict) else (rates,)
        if isinstance(rates, dict) and not rates:
            raise ValueError("give a rate, or at least one {effective date: rate}")
        for rate in given:
            if not (rate.is_finite() and 0 <= rate <= 10_000):
                raise ValueError(
                    f"dollars per million of sales must be between 0 and 10000, got {rate}"
                )
        return rates

    def sec_schedule(self) -> tuple[tuple[date, Decimal], ...]:
        """``(effective date, rate per dollar)`` sorted by date; one undated rate is dated
        ``date.min`` (it applies to every sale)."""
        rates = self.sec_fee_per_million
        per_million = Decimal(1_000_000)
        if not isinstance(rates, dict):
            return ((date.min, rates / per_million),)
        return tuple((day, rate / per_million) for day, rate in sorted(rates.items()))


class PortfolioConfig(FrozenModel):
    """Settings of ``LotPortfolioService``. Frozen; unknown keys are rejected.

    ``financing`` and ``regulatory_fees`` are off by default, so a config without them
    gives exactly the figures it gave before they existed.
    """

    initial_cash: Decimal = Field(ge=0, allow_inf_nan=False)
    allow_short: bool = True
    lot_matching: LotMatching = "fifo"
    financing: FinancingConfig = FinancingConfig()
    regulatory_fees: RegulatoryFeesConfig | None = None
