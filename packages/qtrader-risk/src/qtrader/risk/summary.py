"""What risk did with a run's intents, counted: approved, resized, rejected, and why.

For a console summary ("260 intents: 0 approved (0 resized), 260 rejected; top
reasons: allow_margin (260)") rather than a bare "0 trades". Works on the
decisions of any ``RiskService``; the reasons of this package's limits count by
the limit's name.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from qtrader.models import OrderRequest, RiskDecision

TOP_REASONS = 3

_NAMED = re.compile(r"([a-z][a-z0-9_]*)(?: is (?:true|false))?:\s")
_NO_PRICE = "no usable price"


def reason_kind(reason: str) -> str:
    """The kind of a reason, so that alike reasons count together.

    A reason that starts with a limit's or sizing method's name (``max_position_pct:
    buy 100 AAA ...``, ``allow_margin is false: ...``) is of that kind; a missing price
    is ``no usable price`` whatever the symbol; any other is its first clause with
    numbers as ``#`` and quoted names as ``'…'``.
    """
    named = _NAMED.match(reason)
    if named:
        return named.group(1)
    if reason.startswith(_NO_PRICE):
        return _NO_PRICE
    text = reason.split(";", maxsplit=1)[0]
    text = re.sub(r"'[^']*'", "'…'", text)
    return re.sub(r"-?\d[\d,]*(\.\d+)?%?", "#", text).strip()


@dataclass(frozen=True, slots=True)
class DecisionSummary:
    """Counts of a run's risk decisions.

    ``approved`` counts every approval, those ``resized`` (approved for less than was
    asked or sized) included, and those with nothing to order (already at target);
    ``approved + rejected == total``. ``reasons`` are the kinds of reason of the
    rejected and resized decisions with their counts, most frequent first (ties in
    the order first seen).
    """

    total: int
    approved: int
    resized: int
    rejected: int
    reasons: tuple[tuple[str, int], ...]

    def top(self, n: int = TOP_REASONS) -> tuple[tuple[str, int], ...]:
        return self.reasons[:n]

    def describe(self, top: int = TOP_REASONS) -> str:
        """One line, e.g. ``2 intents: 0 approved (0 resized), 2 rejected; top reasons:
        max_position_pct (2)``."""
        noun = "intent" if self.total == 1 else "intents"
        line = (
            f"{self.total} {noun}: {self.approved} approved ({self.resized} resized), "
            f"{self.rejected} rejected"
        )
        if self.reasons:
            line += "; top reasons: " + "; ".join(f"{k} ({n})" for k, n in self.top(top))
        return line


def _resized(decision: RiskDecision) -> bool:
    order = decision.order
    if order is None:
        return False
    asked = decision.figures.get("quantity_requested")
    if asked is None:
        asked = decision.intent.quantity if isinstance(decision.intent, OrderRequest) else None
    return asked is not None and order.quantity != asked


def summarize(decisions: Iterable[RiskDecision]) -> DecisionSummary:
    """Count ``decisions``: how many were approved, resized and rejected, and why."""
    tally = DecisionTally()
    tally.add(decisions)
    return tally.summary()


class DecisionTally:
    """``summarize`` a part at a time: ``add`` the decisions as they come (a run that
    streams its records keeps none to the end), read the ``summary`` of all so far."""

    def __init__(self) -> None:
        self.total = self.approved = self.resized = 0
        self._kinds: Counter[str] = Counter()

    def add(self, decisions: Iterable[RiskDecision]) -> None:
        kinds = self._kinds
        for decision in decisions:
            self.total += 1
            if decision.approved:
                self.approved += 1
                if _resized(decision):
                    self.resized += 1
                    if decision.reason:
                        kinds[reason_kind(decision.reason)] += 1
            elif decision.reason:
                kinds[reason_kind(decision.reason)] += 1

    def summary(self) -> DecisionSummary:
        return DecisionSummary(
            total=self.total,
            approved=self.approved,
            resized=self.resized,
            rejected=self.total - self.approved,
            reasons=tuple(self._kinds.most_common()),
        )
