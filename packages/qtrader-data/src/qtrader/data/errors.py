"""Errors and anomaly reports of the data layer.

Every problem found in input data is reported with the file, the line as it
appears in the file (the header is line 1) and what was expected, so that a
user can open the file and fix it without reading a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


def _where(path: Path | None, line: int | None) -> str:
    if path is None:
        return ""
    return f"{path}, line {line}: " if line is not None else f"{path}: "


class DataError(ValueError):
    """Input data that cannot be used: names the file, the line and the problem.

    ``path`` is the file (or folder) at fault, ``line`` the 1-based line in
    that file (header = line 1) or ``None`` when the problem is not one row's,
    and ``message`` the problem itself (with the row's date where there is one).
    """

    def __init__(self, message: str, *, path: Path | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        return f"{_where(self.path, self.line)}{self.message}"


class UnknownSymbolError(DataError, KeyError):
    """A symbol the source does not have. Also a ``KeyError``, as the port promises."""

    def __init__(
        self, message: str, *, path: Path | None = None, symbols: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, path=path)
        self.symbols = symbols

    # KeyError would otherwise render the repr of the message, quotes and all.
    __str__ = DataError.__str__


class AnomalyAction(StrEnum):
    """What was done about an anomaly."""

    DROPPED = "dropped"
    """The row was invalid and left out (``repair`` policy only)."""
    WIDENED = "widened"
    """Open or close lay outside [low, high] within the tolerance; the range was
    widened to contain them so every delivered bar satisfies low <= open, close <= high."""


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One irregular row that was loaded anyway (widened) or left out (dropped)."""

    symbol: str
    path: Path
    line: int
    date: str
    problem: str
    action: AnomalyAction

    def __str__(self) -> str:
        return f"{_where(self.path, self.line)}{self.date}: {self.problem} [{self.action}]"
