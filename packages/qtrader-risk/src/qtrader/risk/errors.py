"""Errors raised by the risk service."""

from __future__ import annotations


class RiskError(ValueError):
    """Input the risk service cannot decide on (e.g. a naive timestamp).

    A *breached limit* is never an error: it is a rejected or resized
    ``RiskDecision``. This is raised only for input that is malformed.
    """


class RiskConfigError(RiskError):
    """A risk policy that cannot be used: unknown preset, key or out-of-range value.

    The message names the key and what is allowed.
    """
