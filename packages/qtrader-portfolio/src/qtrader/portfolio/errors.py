"""Errors raised by the portfolio service."""

from __future__ import annotations


class PortfolioError(ValueError):
    """Input the book of record refuses (the state is left untouched).

    The message names the fill or action, the symbol and the quantities involved.
    """
