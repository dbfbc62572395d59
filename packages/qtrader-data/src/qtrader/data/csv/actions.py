"""An optional CSV of corporate actions, so that any unadjusted data can carry them.

Format (header on line 1, any column order, extra columns ignored)::

    date,symbol,type,value
    2020-08-31,AAPL,split,4          # 4 new shares per old share (4-for-1)
    2020-08-07,AAPL,dividend,0.82    # cash per share, owed to holders at the close before
    2021-05-03,XYZ,split,1:10        # a 1-for-10 reverse split, written as new:old

``date`` is the ex-date. ``type`` is ``split`` or ``dividend`` (``cash_dividend``).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Collection
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from qtrader.data.errors import DataError
from qtrader.models import CashDividend, PriceAdjustment, Split

Action = Split | CashDividend
COLUMNS = ("date", "symbol", "type", "value")
_TYPES = {"split": "split", "dividend": "cash_dividend", "cash_dividend": "cash_dividend"}


def _positive(text: str, what: str, path: Path, line: int) -> Decimal:
    try:
        if ":" in text:
            new, old = (Decimal(part.strip()) for part in text.split(":", 1))
            value = new / old
        else:
            value = Decimal(text)
    except (InvalidOperation, ZeroDivisionError):
        value = Decimal("NaN")
    if not value.is_finite() or value <= 0:
        raise DataError(f"{what} {text!r} is not a positive number", path=path, line=line)
    return value


def read_actions(
    path: Path,
    adjustment: PriceAdjustment,
    symbols: Collection[str] | None = None,
    expected_file: Callable[[str], str] = "{}.csv".format,
) -> dict[str, tuple[Action, ...]]:
    """Actions by symbol, each tuple sorted by ex-date. Errors name the file and line.

    With ``symbols`` (those the data folder has), a row of any other symbol is an error: it
    would never be applied, so a typo (``aaa`` for ``AAA``) would lose a split silently.
    ``expected_file`` names the file such a symbol would need."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise DataError("actions file not found", path=path) from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"actions file is not UTF-8 text: {exc.reason}", path=path) from exc
    reader = csv.DictReader(text.splitlines())
    header = [name.strip() for name in reader.fieldnames or ()]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}: expected {','.join(COLUMNS)}",
            path=path,
            line=1,
        )
    reader.fieldnames = header
    by_symbol: dict[str, list[Action]] = defaultdict(list)
    seen: set[tuple[date, str, str]] = set()
    for row in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in row.values()):
            continue
        cells = {c: (row.get(c) or "").strip() for c in COLUMNS}
        try:
            ex_date = date.fromisoformat(cells["date"])
        except ValueError:
            raise DataError(
                f"date {cells['date']!r} is not YYYY-MM-DD", path=path, line=line
            ) from None
        symbol = cells["symbol"]
        if not symbol:
            raise DataError("missing symbol", path=path, line=line)
        if symbols is not None and symbol not in symbols:
            raise DataError(_without_data(symbol, symbols, expected_file), path=path, line=line)
        kind = _TYPES.get(cells["type"].lower())
        if kind is None:
            raise DataError(
                f"type {cells['type']!r} is not one of split, dividend", path=path, line=line
            )
        if (ex_date, symbol, kind) in seen:
            raise DataError(
                f"{symbol} has two {cells['type']} rows on {ex_date}", path=path, line=line
            )
        seen.add((ex_date, symbol, kind))
        if kind == "split" and adjustment is not PriceAdjustment.UNADJUSTED:
            raise DataError(
                f"a split of {symbol} on {ex_date}, but the prices are declared "
                f"{adjustment.value}: applying it to positions would count it twice",
                path=path,
                line=line,
            )
        if adjustment is PriceAdjustment.TOTAL_RETURN:
            raise DataError(
                f"a dividend of {symbol} on {ex_date}, but total_return prices already "
                "include dividends",
                path=path,
                line=line,
            )
        if kind == "split":
            ratio = _positive(cells["value"], "split ratio", path, line)
            by_symbol[symbol].append(Split(symbol=symbol, ex_date=ex_date, ratio=ratio))
        else:
            amount = _positive(cells["value"], "dividend", path, line)
            by_symbol[symbol].append(CashDividend(symbol=symbol, ex_date=ex_date, amount=amount))
    return {s: tuple(sorted(acts, key=lambda a: a.ex_date)) for s, acts in by_symbol.items()}


def _without_data(
    symbol: str, symbols: Collection[str], expected_file: Callable[[str], str]
) -> str:
    problem = f"{symbol} has no data file ({expected_file(symbol)})"
    alike = sorted(s for s in symbols if s.casefold() == symbol.casefold())
    if alike:
        return f"{problem}: did you mean {' or '.join(alike)}?"
    return (
        f"{problem}: an action of a symbol without data is never applied; remove the row "
        "or add the file"
    )
