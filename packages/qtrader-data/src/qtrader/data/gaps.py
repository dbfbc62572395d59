"""Overnight gaps that look like a split nobody recorded.

On unadjusted data a split shows as a close-to-open jump by the split ratio.
If no split action explains it, positions would book the jump as a loss (or a
gain) and indicators would see a crash: the service reports every such gap as
an anomaly, on the console and in ``data_anomalies.csv``. It never adjusts.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from qtrader.data.errors import Anomaly, AnomalyAction
from qtrader.data.series import CLOSE, OPEN, BarSeries
from qtrader.models import CashDividend, Split

# Common split ratios (new shares per old); their inverses are reverse splits.
_FORWARD = (
    Fraction(3, 2),
    Fraction(2),
    Fraction(5, 2),
    Fraction(3),
    Fraction(4),
    Fraction(5),
    Fraction(7),
    Fraction(8),
    Fraction(10),
    Fraction(15),
    Fraction(20),
    Fraction(25),
    Fraction(30),
    Fraction(50),
)
RATIOS: tuple[Fraction, ...] = _FORWARD + tuple(1 / r for r in _FORWARD)
TOLERANCE = 0.03
"""Relative distance from a ratio that counts as "near" (a 50% drop within 48.5-51.5%)."""


def _describe(ratio: Fraction) -> str:
    kind = "split" if ratio > 1 else "reverse split"
    return f"{ratio.numerator}-for-{ratio.denominator} {kind}"


def suspected_splits(
    series: BarSeries,
    actions: Sequence[Split | CashDividend],
    *,
    previous: tuple[np.datetime64, float] | None = None,
) -> tuple[Anomaly, ...]:
    """One ``REPORTED`` anomaly per session change whose previous close / open ratio is
    within ``TOLERANCE`` of a common split ratio with no split recorded between them.

    ``previous`` is the session and close of the bar before ``series`` when it is a
    chunk of a longer series, so that a gap across the chunk boundary is seen too.
    """
    sessions = series.sessions
    closes = series.ohlcv[:, CLOSE]
    all_opens = series.ohlcv[:, OPEN]
    lead = 0
    if previous is not None and len(series):
        # The bar before leads as index 0; its own open is never compared.
        lead = 1
        sessions = np.concatenate((np.array([previous[0]], dtype=sessions.dtype), sessions))
        closes = np.concatenate(([previous[1]], closes))
        all_opens = np.concatenate(([np.nan], all_opens))
    if len(sessions) < 2:
        return ()
    new_session = np.flatnonzero(sessions[1:] != sessions[:-1]) + 1
    if len(new_session) == 0:
        return ()
    prev_close = closes[new_session - 1]
    opens = all_opens[new_session]
    gap = prev_close / opens
    near = np.zeros(len(gap), dtype=bool)
    for ratio in RATIOS:
        near |= np.abs(gap / float(ratio) - 1.0) <= TOLERANCE
    split_days = np.array(
        sorted({a.ex_date for a in actions if isinstance(a, Split)}), dtype="datetime64[D]"
    )
    found = []
    for k in np.flatnonzero(near):
        i = int(new_session[k])
        before, day = sessions[i - 1], sessions[i]
        # A split recorded on any day after the previous bar, up to this one, explains it.
        lo = np.searchsorted(split_days, before, side="right")
        hi = np.searchsorted(split_days, day, side="right")
        if hi > lo:
            continue
        value = float(gap[k])
        ratio = min(RATIOS, key=lambda r: abs(value / float(r) - 1.0))
        found.append(
            Anomaly(
                series.symbol,
                str(day),
                f"overnight gap of {value:.4g}x (close {prev_close[k]:g} on {before}, open "
                f"{opens[k]:g}) with no split recorded: looks like an unrecorded "
                f"{_describe(ratio)}; on unadjusted prices a position would book it as "
                "profit or loss",
                AnomalyAction.REPORTED,
                series.path,
                series.line(i - lead),
            )
        )
    return tuple(found)
