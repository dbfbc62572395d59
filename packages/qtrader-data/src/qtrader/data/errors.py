"""Errors and anomaly reports of the data layer.

Every problem found in input data is reported with the file, the line as it
appears in the file (the header is line 1) and what was expected, so that a
user can open the file and fix it without reading a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from qtrader.models import QTraderError


def _where(path: Path | None, line: int | None) -> str:
    if path is None:
        return ""
    if line is None:
        return f"{path}: "
    # A Parquet file has rows, not lines (row 1 is the first data row).
    unit = "row" if path.suffix == ".parquet" else "line"
    return f"{path}, {unit} {line}: "


class DataError(QTraderError):
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


class UnknownSourceError(DataError):
    """A ``data.source`` name no adapter is registered under; the message lists the names."""


class AnomalyAction(StrEnum):
    """What was done about an anomaly."""

    DROPPED = "dropped"
    """The row was invalid and left out (``repair`` policy only)."""
    WIDENED = "widened"
    """Open or close lay outside [low, high] within the tolerance; the range was
    widened to contain them so every delivered bar satisfies low <= open, close <= high."""
    REPORTED = "reported"
    """Kept as it is, but suspicious (e.g. an overnight gap that looks like a split no
    action records): the user must look."""


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One irregular row: loaded anyway (widened, reported) or left out (dropped).

    It names where the row came from: ``path`` and ``line`` for a file, or
    ``request`` (e.g. ``"GET .../pricehistory symbol=AAPL 2019-01-02..2019-12-31"``)
    for an API.
    """

    symbol: str
    date: str
    problem: str
    action: AnomalyAction
    path: Path | None = None
    line: int | None = None
    request: str | None = None

    @property
    def source(self) -> str:
        """Where the row came from, for messages and reports."""
        if self.path is not None:
            return _where(self.path, self.line).removesuffix(": ")
        return self.request or ""

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.symbol} {self.date}: {self.problem} [{self.action}]"
