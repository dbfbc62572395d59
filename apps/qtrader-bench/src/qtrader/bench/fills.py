"""Fills as compared across libraries: (date, symbol, side, quantity, price to 6 decimals).

QTrader writes ``fills.csv`` with ``timestamp,symbol,side,quantity,price,...``; the peer
scripts and the reference write ``date,symbol,side,quantity,price``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import NamedTuple

SIX = Decimal("0.000001")
PEER_COLUMNS = ("date", "symbol", "side", "quantity", "price")


class Fill(NamedTuple):
    date: str
    symbol: str
    side: str
    quantity: int
    price: str  # rounded to 6 decimals, as text

    def row(self) -> str:
        return f"{self.date},{self.symbol},{self.side},{self.quantity},{self.price}"


class FillsMismatchError(Exception):
    """Two libraries' fills differ; ``lines`` is a readable diff of the first mismatches."""

    def __init__(self, expected: str, actual: str, lines: Sequence[str]) -> None:
        self.lines = tuple(lines)
        super().__init__(f"fills of {actual} differ from {expected}:\n" + "\n".join(lines))


def make_fill(day: str, symbol: str, side: str, quantity: str | int, price: str | float) -> Fill:
    """Normalise one fill: ISO date, lower-case side, whole quantity, price to 6 decimals
    (floats through their shortest repr, so 12.3400000001 and 12.34 agree)."""
    qty = Decimal(str(quantity))
    if qty != qty.to_integral_value():
        raise ValueError(f"fractional fill quantity {quantity!r} for {symbol} on {day}")
    rounded = Decimal(repr(price) if isinstance(price, float) else price).quantize(
        SIX, rounding=ROUND_HALF_EVEN
    )
    side = side.strip().lower()
    if side not in ("buy", "sell"):
        raise ValueError(f"unknown side {side!r} for {symbol} on {day}")
    return Fill(day[:10], symbol, side, int(abs(qty)), f"{rounded:f}")


def sort_fills(fills: Iterable[Fill]) -> list[Fill]:
    return sorted(fills)


def read_qtrader_fills(path: Path) -> list[Fill]:
    """QTrader's ``fills.csv``: the date is the timestamp's local date."""
    with path.open(newline="") as handle:
        return sort_fills(
            make_fill(row["timestamp"], row["symbol"], row["side"], row["quantity"], row["price"])
            for row in csv.DictReader(handle)
        )


def read_fills(path: Path) -> list[Fill]:
    """A peer's (or the reference's) ``date,symbol,side,quantity,price`` file."""
    with path.open(newline="") as handle:
        return sort_fills(
            make_fill(row["date"], row["symbol"], row["side"], row["quantity"], row["price"])
            for row in csv.DictReader(handle)
        )


def write_fills(path: Path, fills: Iterable[Fill]) -> None:
    lines = [",".join(PEER_COLUMNS), *(f.row() for f in sort_fills(fills))]
    path.write_text("\n".join(lines) + "\n")


def diff_fills(expected: Sequence[Fill], actual: Sequence[Fill], limit: int = 10) -> list[str]:
    """Readable differences, first ``limit`` of each kind, in date order; empty if equal."""
    if list(expected) == list(actual):
        return []
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    lines = [f"expected {len(expected)} fills, got {len(actual)}"]
    if not missing and not extra:
        lines.append("same fills, different multiplicities")
    lines += [f"  - missing {f.row()}" for f in missing[:limit]]
    if len(missing) > limit:
        lines.append(f"  ... {len(missing) - limit} more missing")
    lines += [f"  + extra   {f.row()}" for f in extra[:limit]]
    if len(extra) > limit:
        lines.append(f"  ... {len(extra) - limit} more extra")
    return lines


def check_fills(
    expected_name: str, expected: Sequence[Fill], actual_name: str, actual: Sequence[Fill]
) -> None:
    """Raise :class:`FillsMismatchError` unless the two lists of fills are identical."""
    lines = diff_fills(expected, actual)
    if lines:
        raise FillsMismatchError(expected_name, actual_name, lines)
