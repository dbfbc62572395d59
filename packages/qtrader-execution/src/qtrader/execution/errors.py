"""Errors of the execution service.

Both are ``QTraderError`` (hence ``ValueError``) subclasses, so a caller that only knows "bad input"
can still catch them, and each message names the key, order or timestamp at
fault and what was expected.
"""

from __future__ import annotations

from qtrader.models import QTraderError


class ExecutionError(QTraderError):
    """A call the simulated venue cannot honour (time running backwards, naive time)."""


class ExecutionConfigError(ExecutionError):
    """An execution config that does not validate; the message names every bad key."""
