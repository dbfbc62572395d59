"""Corporate actions from Algoseek's ex-date rows, and the three price views.

An ex-date row carries ``AdjustmentReason`` and ``AdjustmentFactor``:

- ``CashDiv``: factor = 1 - dividend / previous close, so the dividend per share is
  (1 - factor) x previous close, rounded to 4 decimals (the factor carries float
  noise: 0.998200215 x 455.61 gives 0.81999...). It is owed to holders at the
  previous close, so the first row of a series cannot yield one: it is reported.
- ``Subdiv`` and ``BonusSame`` (forward splits), ``Cons`` (a reverse split): the
  ratio (new shares per old) is 1 / factor, rationalised to the nearest fraction
  with a denominator of at most 1000 on the side that is at least 1
  (0.142857142857 -> 7, 10 -> 1/10, 1500 -> 1/1500).

Views: ``unadjusted`` delivers the prices as traded with every action;
``split_adjusted`` divides prices (and multiplies volumes) by the product of the
split ratios after each row, up to the symbol's last row, and delivers dividends
per adjusted share; ``total_return`` scales prices by CumulativePriceFactor_t /
CumulativePriceFactor_last (volumes by the inverse ratio of the volume factor)
and delivers no action. Every view is anchored at the last row of the files, so a
day's price never depends on the requested end.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from qtrader.data.algoseek._symbol_rows import ActionRows
from qtrader.data.errors import Anomaly, AnomalyAction
from qtrader.data.series import VOLUME, DayArray
from qtrader.models import CashDividend, FloatArray, PriceAdjustment, Split

Action = Split | CashDividend

CASH_DIVIDEND = "CashDiv"
SPLITS = frozenset({"Subdiv", "BonusSame", "Cons"})
REASONS = frozenset({CASH_DIVIDEND, *SPLITS})
MAX_DENOMINATOR = 1000
DIVIDEND_PLACES = Decimal("0.0001")
ADJUSTED_PLACES = Decimal("1e-10")
"""Dividends per split-adjusted share: exact when the quotient ends within 10
decimals (any ratio made of 2s and 5s), else rounded half-even to 10 decimals
(an error below 1e-10 per adjusted share, e.g. 0.82 / 7 = 0.1171428571)."""


def split_ratio(factor: float) -> Fraction:
    """New shares per old share of a split whose ``AdjustmentFactor`` is ``factor``: the
    side of new-per-old and old-per-new that is at least 1 is rationalised, so a reverse
    split keeps its ratio however large (1-for-1500: factor 1500 -> 1/1500)."""
    written = Fraction(str(factor))
    if written >= 1:
        return 1 / written.limit_denominator(MAX_DENOMINATOR)
    return (1 / written).limit_denominator(MAX_DENOMINATOR)


def as_decimal(value: Fraction) -> Decimal:
    """``value`` as a Decimal: exact when it terminates within 28 digits."""
    return Decimal(value.numerator) / Decimal(value.denominator)


def cash_dividend(factor: float, previous_close: float) -> Decimal:
    """(1 - factor) x previous close per share, rounded half-up to 4 decimals."""
    amount = (1 - Decimal(str(factor))) * Decimal(str(previous_close))
    return amount.quantize(DIVIDEND_PLACES, rounding=ROUND_HALF_UP)


def per_adjusted_share(amount: Decimal, later_splits: Fraction) -> Decimal:
    """A dividend per share as traded, per share after ``later_splits`` (see ADJUSTED_PLACES)."""
    exact = as_decimal(Fraction(amount) / later_splits).quantize(
        ADJUSTED_PLACES, rounding=ROUND_HALF_EVEN
    )
    tidy = exact.normalize()  # 0.2050000000 -> 0.205
    return tidy.quantize(Decimal(1)) if tidy.as_tuple().exponent > 0 else tidy  # type: ignore[operator]


@dataclass(frozen=True, slots=True)
class Event:
    """One action as traded, applied from bar ``row`` (its ex-date's, or the next bar when
    that row was dropped); ``ratio`` for a split."""

    row: int
    action: Action
    ratio: Fraction | None = None


def read_events(
    symbol: str,
    bar_sessions: DayArray,
    rows: ActionRows,
    locate: Callable[[int], tuple[Path, int]],
) -> tuple[list[Event], list[Anomaly]]:
    """The actions of the ex-date rows among ``rows`` (every dated row, kept or not;
    reasons and factors already checked), placed on the bars of ``bar_sessions``."""
    events: list[Event] = []
    anomalies: list[Anomaly] = []
    sessions, closes, sec_ids = rows.sessions, rows.closes, rows.sec_ids

    def report(i: int, problem: str) -> None:
        path, line = locate(i)
        anomalies.append(
            Anomaly(symbol, str(sessions[i]), problem, AnomalyAction.REPORTED, path, line)
        )

    for row in np.flatnonzero(rows.reasons != ""):
        i = int(row)
        reason, factor = str(rows.reasons[i]), float(rows.factors[i])
        what = f"{reason} (AdjustmentFactor {factor!r})"
        ex_date = sessions[i].astype(object)
        at = int(np.searchsorted(bar_sessions, sessions[i], side="left"))
        if at == len(bar_sessions):
            report(i, f"the {what} of this dropped row has no later bar: not applied")
            continue
        if bar_sessions[at] != sessions[i]:
            report(
                i, f"the {what} of this dropped row is applied at the next bar, {bar_sessions[at]}"
            )
        if reason in SPLITS:
            ratio = split_ratio(factor)
            split = Split(symbol=symbol, ex_date=ex_date, ratio=as_decimal(ratio))
            events.append(Event(at, split, ratio))
            continue
        unpaid = "to compute the dividend from, so it is not paid"
        if i == 0 or sec_ids[i - 1] != sec_ids[i]:
            report(i, f"{what} on the first row of SecId {sec_ids[i]}: no previous close {unpaid}")
            continue
        previous = float(closes[i - 1])
        if not (math.isfinite(previous) and previous > 0):
            report(i, f"{what}: the previous row ({sessions[i - 1]}) has no close {unpaid}")
            continue
        amount = cash_dividend(factor, previous)
        if amount <= 0:
            rounded = f"rounds to {amount} per share against the previous close {previous:g}"
            report(i, f"{what} {rounded}: not paid")
            continue
        events.append(Event(at, CashDividend(symbol=symbol, ex_date=ex_date, amount=amount)))
    return events, anomalies


_SAME = 1e-6
"""Relative tolerance of comparing volume factors (the vendor writes 6.999999999999994)."""


def volume_factor_checks(
    symbol: str, rows: ActionRows, locate: Callable[[int], tuple[Path, int]]
) -> list[Anomaly]:
    """Reports of rows whose CumulativeVolumeFactor disagrees with their reason: it moves
    only on a split, by the split's ratio. The reason and factor are still applied as
    written; the report says where the vendor's row contradicts itself (a split may be
    missing, or a dividend be a split)."""
    volume, sec_ids, reasons = rows.volume_factors, rows.sec_ids, rows.reasons
    anomalies: list[Anomaly] = []
    if len(volume) < 2:
        return anomalies
    with np.errstate(divide="ignore", invalid="ignore"):
        moves = volume[1:] / volume[:-1]
    # NaN factors (the unadjusted view does not need them) compare false: never checked.
    comparable = (volume[1:] > 0) & (volume[:-1] > 0) & (sec_ids[1:] == sec_ids[:-1])
    candidates = comparable & (np.isin(reasons[1:], list(SPLITS)) | (np.abs(moves - 1) > _SAME))
    for row in np.flatnonzero(candidates):
        i = int(row) + 1
        before, after, moved = float(volume[i - 1]), float(volume[i]), float(moves[i - 1])
        reason = str(reasons[i])
        if reason in SPLITS:
            ratio = float(split_ratio(float(rows.factors[i])))
            if abs(moved / ratio - 1) <= _SAME:
                continue
            problem = (
                f"{reason} of ratio {ratio:g}, but the CumulativeVolumeFactor moves by "
                f"{moved:.6g} ({before:g} -> {after:g}): applied as the AdjustmentFactor says"
            )
        elif abs(moved - 1) <= _SAME:
            continue
        elif reason:
            problem = (
                f"{reason}, but the CumulativeVolumeFactor moves by {moved:.6g} "
                f"({before:g} -> {after:g}) as on a split: applied as the reason says"
            )
        else:
            problem = (
                f"the CumulativeVolumeFactor moves by {moved:.6g} ({before:g} -> {after:g}) "
                "without an AdjustmentReason: a split may be missing"
            )
        path, line = locate(i)
        anomalies.append(
            Anomaly(symbol, str(rows.sessions[i]), problem, AnomalyAction.REPORTED, path, line)
        )
    return anomalies


def apply_view(
    adjustment: PriceAdjustment,
    ohlcv: FloatArray,
    factors: FloatArray,
    events: list[Event],
) -> tuple[FloatArray, tuple[Action, ...]]:
    """The bars and actions of one view (``factors``: the (n, 3) factor columns)."""
    if adjustment is PriceAdjustment.UNADJUSTED:
        return ohlcv, tuple(e.action for e in events)
    adjusted = ohlcv.copy()
    if adjustment is PriceAdjustment.TOTAL_RETURN:
        price_factor, volume_factor = factors[:, 0], factors[:, 1]
        adjusted[:, :VOLUME] *= (price_factor / price_factor[-1])[:, None]
        adjusted[:, VOLUME] *= volume_factor[-1] / volume_factor
        return adjusted, ()
    # split_adjusted: each row divided by the splits after it (its own ex-date row is
    # already as traded after its split).
    ratios = np.ones(len(ohlcv), dtype=np.float64)
    for event in events:
        if event.ratio is not None:
            ratios[event.row] *= float(event.ratio)  # two splits may share a bar
    later = np.append(np.cumprod(ratios[::-1])[::-1][1:], 1.0)
    adjusted[:, :VOLUME] /= later[:, None]
    adjusted[:, VOLUME] *= later
    actions: list[Action] = []
    for event in events:
        if isinstance(event.action, CashDividend):
            after = Fraction(1)
            for other in events:  # the splits after its ex-date (two can share a bar)
                if other.ratio is not None and other.action.ex_date > event.action.ex_date:
                    after *= other.ratio
            amount = per_adjusted_share(event.action.amount, after)
            dividend = event.action
            actions.append(
                CashDividend(symbol=dividend.symbol, ex_date=dividend.ex_date, amount=amount)
            )
    return adjusted, tuple(actions)
