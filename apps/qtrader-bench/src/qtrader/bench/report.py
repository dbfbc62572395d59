"""Medians of the runs and the printed table (QTrader's ratios first)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from qtrader.bench.runner import Measurement


@dataclass(frozen=True)
class Row:
    size: str
    bars: int
    library: str
    runs: int
    wall_seconds: float
    load_seconds: float
    backtest_seconds: float
    peak_rss_mib: float
    fills: int
    note: str = ""

    @property
    def bars_per_second(self) -> float:
        return self.bars / self.wall_seconds

    @property
    def backtest_bars_per_second(self) -> float:
        return self.bars / self.backtest_seconds if self.backtest_seconds > 0 else float("inf")


def summarise(size: str, bars: int, library: str, runs: Sequence[Measurement], fills: int) -> Row:
    return Row(
        size=size,
        bars=bars,
        library=library,
        runs=len(runs),
        wall_seconds=statistics.median(m.wall_seconds for m in runs),
        load_seconds=statistics.median(m.load_seconds for m in runs),
        backtest_seconds=statistics.median(m.backtest_seconds for m in runs),
        peak_rss_mib=statistics.median(m.peak_rss_mib for m in runs),
        fills=fills,
    )


HEADERS = (
    "size", "library", "QTrader speed-up (wall)", "QTrader speed-up (backtest)",
    "QTrader RSS / peer", "wall s", "load s", "backtest s", "bars/s (wall)",
    "bars/s (backtest)", "peak RSS MiB", "fills", "runs",
)  # fmt: skip


def _ratio(value: float) -> str:
    return f"{value:.2f}x"


def table_rows(rows: Sequence[Row]) -> list[tuple[str, ...]]:
    """One line per size and library; ratios compare QTrader with that row's library
    (speed-up > 1: QTrader is faster; RSS ratio < 1: QTrader uses less memory)."""
    lines: list[tuple[str, ...]] = []
    qtrader = {row.size: row for row in rows if row.library == "QTrader"}
    for row in rows:
        base = qtrader.get(row.size)
        if row.note:
            lines.append((row.size, row.library, row.note, *([""] * (len(HEADERS) - 3))))
            continue
        if base is None or row is base:
            ratios = ("-", "-", "-")
        else:
            ratios = (
                _ratio(row.wall_seconds / base.wall_seconds),
                _ratio(row.backtest_seconds / base.backtest_seconds)
                if base.backtest_seconds > 0
                else "-",
                _ratio(base.peak_rss_mib / row.peak_rss_mib),
            )
        lines.append(
            (
                row.size,
                row.library,
                *ratios,
                f"{row.wall_seconds:.2f}",
                f"{row.load_seconds:.2f}",
                f"{row.backtest_seconds:.2f}",
                f"{row.bars_per_second:,.0f}",
                f"{row.backtest_bars_per_second:,.0f}",
                f"{row.peak_rss_mib:,.0f}",
                str(row.fills),
                str(row.runs),
            )
        )
    return lines


def markdown_table(rows: Sequence[Row]) -> str:
    body = table_rows(rows)
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return "\n".join(lines)
