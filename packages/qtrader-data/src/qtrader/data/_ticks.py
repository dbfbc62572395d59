"""Bars whose low or high is far from where the session traded: likely bad ticks.

Vendor files carry prints such as an AAPL low of 31.00 on a day it opened at
108.30 and closed at 113.66. Validation cannot reject them (low <= open, close
<= high still holds) and must not "fix" them: they are reported, and the bar is
delivered as it is. A fill model that uses the low (a stop or a limit) would
act on such a print, so the user has to see it.
"""

from __future__ import annotations

import numpy as np

from qtrader.data.errors import Anomaly, AnomalyAction
from qtrader.data.series import CLOSE, HIGH, LOW, OPEN, BarSeries

LOW_RATIO = 2 / 3
"""A low below this fraction of min(open, close) is reported (a 33% spike down)."""
HIGH_RATIO = 3 / 2
"""A high above this multiple of max(open, close) is reported (a 50% spike up)."""


def bad_ticks(series: BarSeries) -> tuple[Anomaly, ...]:
    """One ``REPORTED`` anomaly per bar whose low or high lies that far outside its body."""
    ohlcv = series.ohlcv
    body_low = np.minimum(ohlcv[:, OPEN], ohlcv[:, CLOSE])
    body_high = np.maximum(ohlcv[:, OPEN], ohlcv[:, CLOSE])
    low_spike = ohlcv[:, LOW] < LOW_RATIO * body_low
    high_spike = ohlcv[:, HIGH] > HIGH_RATIO * body_high
    spikes = np.flatnonzero(low_spike | high_spike)
    if not len(spikes):
        return ()
    sessions = series.sessions  # made once, for the spikes' dates
    found = []
    for i in spikes:
        o, h, lo, c = (float(ohlcv[i, k]) for k in (OPEN, HIGH, LOW, CLOSE))
        parts = []
        if low_spike[i]:
            parts.append(f"low {lo:g} is {lo / min(o, c):.0%} of min(open, close)")
        if high_spike[i]:
            parts.append(f"high {h:g} is {h / max(o, c):.0%} of max(open, close)")
        what = " and ".join(parts)
        found.append(
            Anomaly(
                series.symbol,
                str(sessions[i]),
                f"likely bad tick: {what} (open {o:g}, high {h:g}, low {lo:g}, close {c:g}); "
                "kept as is: a stop or limit order may fill against it",
                AnomalyAction.REPORTED,
                series.path,
                series.line(int(i)),
            )
        )
    return tuple(found)
