"""What every "one file per symbol in a folder" adapter shares (csv, parquet, yahoo)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from qtrader.data.errors import DataError, UnknownSymbolError


class FolderConfig(Protocol):
    @property
    def path(self) -> Path: ...

    @property
    def zone(self) -> ZoneInfo: ...


C = TypeVar("C", bound=FolderConfig)


def file_stems(folder: Path, suffix: str) -> list[str]:
    """The names of the visible ``*<suffix>`` files in ``folder`` without it, sorted."""
    return sorted(
        p.name[: -len(suffix)]
        for p in folder.iterdir()
        if p.name.endswith(suffix) and not p.name.startswith(".") and p.is_file()
    )


class FolderSource(Generic[C]):
    """The folder is checked when the source is made; ``location`` is the folder, ``zone``
    the configured one; an unknown symbol is refused naming the file(s) it would need."""

    folder_holds = "one file per symbol"
    """What the folder should hold, for the message when it does not exist."""

    def __init__(self, config: C) -> None:
        if not config.path.is_dir():
            raise DataError(
                f"data folder not found (expected a folder of {self.folder_holds})",
                path=config.path,
            )
        self.config = config

    @property
    def location(self) -> str:
        return str(self.config.path)

    @property
    def zone(self) -> ZoneInfo:
        return self.config.zone

    def symbols(self) -> list[str]:
        raise NotImplementedError

    def expected_file(self, symbol: str) -> str:
        """The file (or files) ``symbol`` would need, for the unknown-symbol message."""
        raise NotImplementedError

    def check_symbols(self, symbols: Sequence[str]) -> None:
        known = set(self.symbols())
        unknown = tuple(s for s in symbols if s not in known)
        if unknown:
            raise UnknownSymbolError(
                f"unknown symbol(s) {', '.join(unknown)}: no "
                f"{', '.join(self.expected_file(s) for s in unknown)} in the folder",
                path=self.config.path,
                symbols=unknown,
            )
