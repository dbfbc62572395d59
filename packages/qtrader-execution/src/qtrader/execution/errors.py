"""Errors of the execution service.

Both are ``ValueError`` subclasses, so a caller that only knows "bad input"
can still catch them, and each message names the key, order or timestamp at
fault and what was expected.
"""

from __future__ import annotations


class ExecutionError(ValueError):
    """A call the simulated venue cannot honour (time running backwards, naive time)."""


class ExecutionConfigError(ExecutionError):
    """An execution config that does not validate; the message names every bad key."""
