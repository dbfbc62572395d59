"""The root of QTrader's errors.

Every package's errors derive from ``QTraderError`` (and from ``ValueError``, as they did
before), so an application can tell "the user's input or data is wrong" (a ``QTraderError``:
show its message in a line or two) from a bug (anything else: keep the traceback).
"""

from __future__ import annotations


class QTraderError(ValueError):
    """A problem with the user's config, data, strategy or request, worded for the user."""
