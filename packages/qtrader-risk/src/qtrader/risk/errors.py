"""Errors raised by the risk service."""

from __future__ import annotations

from collections.abc import Sequence


class RiskError(ValueError):
    """Input the risk service cannot decide on (e.g. a naive timestamp).

    A *breached limit* is never an error: it is a rejected or resized
    ``RiskDecision``. This is raised only for input that is malformed.
    """


class RiskConfigError(RiskError):
    """A risk policy that cannot be used: unknown preset, key or out-of-range value.

    The message names the key and what is allowed. ``problems`` holds every problem
    found, as ``(key, what is wrong)`` pairs (the key dotted, e.g. ``sizing.notional``),
    so that a caller can show them one a line under its own prefix.
    """

    def __init__(self, message: str, problems: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[tuple[str, str], ...] = tuple(problems)
