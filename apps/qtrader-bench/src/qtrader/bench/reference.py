"""An independent reference implementation of the benchmark's rules, in exact integers.

Rules: SMA(fast)/SMA(slow) of the close, long only, ``quantity`` shares. "Fast crosses above
slow at bar t" means fast < slow at t-1 and fast > slow at t, strictly (likewise below); no
signal until both averages exist at t-1. A cross above targets ``quantity`` shares, a cross
below targets 0; decided at the close, a market order filled at the next bar's open, no
costs; an order decided on the last bar never fills.

Prices are read from the CSVs as integer micro-units and the averages are compared as
``slow * sum(fast) vs fast * sum(slow)``: no floating point at all.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from qtrader.bench.data import FAST, MICRO, SLOW, micro_text, tie_gaps
from qtrader.bench.fills import Fill, sort_fills


@dataclass(frozen=True)
class ReferenceResult:
    fills: list[Fill]
    min_cash: Decimal  # the lowest cash balance along the fills (must stay far above 0)
    ties: int  # bars where the averages tie exactly (0 for the generated data)


def to_micro(text: str) -> int:
    value = Decimal(text) * MICRO
    if value != value.to_integral_value():
        raise ValueError(f"price {text!r} has more than 6 decimals")
    return int(value)


def symbol_fills(
    symbol: str,
    dates: list[str],
    opens: list[int],
    closes: list[int],
    fast: int = FAST,
    slow: int = SLOW,
    quantity: int = 100,
) -> tuple[list[tuple[str, str, str, int, int]], int]:
    """(date, symbol, side, quantity, price in micro-units) per fill, and the tie count."""
    if len(closes) < slow + 1:
        return [], 0
    gaps = tie_gaps(np.asarray(closes, dtype=np.int64), fast, slow)  # gaps[k] is bar k+slow-1
    sign = np.sign(gaps)
    ties = int(np.count_nonzero(sign == 0))
    fills: list[tuple[str, str, str, int, int]] = []
    held = 0
    for k in range(1, len(sign)):
        t = k + slow - 1
        above = sign[k - 1] < 0 < sign[k]
        below = sign[k - 1] > 0 > sign[k]
        target = quantity if above else 0 if below else held
        if target != held and t + 1 < len(closes):
            side = "buy" if target > held else "sell"
            fills.append((dates[t + 1], symbol, side, abs(target - held), opens[t + 1]))
            held = target
        elif target != held:
            break  # decided on the last bar: never fills
    return fills, ties


def reference_fills(
    folder: Path,
    symbols: list[str],
    initial_cash: Decimal = Decimal(1_000_000),
    quantity: int = 100,
) -> ReferenceResult:
    raw: list[tuple[str, str, str, int, int]] = []
    ties = 0
    for symbol in symbols:
        dates: list[str] = []
        opens: list[int] = []
        closes: list[int] = []
        with (folder / f"{symbol}.csv").open(newline="") as handle:
            for row in csv.DictReader(handle):
                dates.append(row["date"])
                opens.append(to_micro(row["open"]))
                closes.append(to_micro(row["close"]))
        found, symbol_ties = symbol_fills(symbol, dates, opens, closes, quantity=quantity)
        raw += found
        ties += symbol_ties
    raw.sort()
    cash = initial_cash * MICRO
    min_cash = cash
    for _, _, side, qty, price in raw:
        cash += -qty * price if side == "buy" else qty * price
        min_cash = min(min_cash, cash)
    fills = sort_fills(Fill(d, s, side, q, micro_text(p)) for d, s, side, q, p in raw)
    return ReferenceResult(fills, min_cash / MICRO, ties)
