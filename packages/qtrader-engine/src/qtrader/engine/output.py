"""Result files. Every file is written to a temporary name and renamed, so a
crash never leaves a half-written file where a previous result stood."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from operator import attrgetter
from pathlib import Path
from types import NoneType

from qtrader.engine.metrics import compute_metrics
from qtrader.engine.results import BacktestResult

RESULT_FILES = (
    "fills.csv",
    "orders.csv",
    "trades.csv",
    "equity.csv",
    "risk_decisions.csv",
    "order_updates.csv",
    "metrics.json",
)


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        # Exact, without trailing zeros or exponent: 895.0 -> "895", 1E+3 -> "1000".
        return format(value.normalize(), "f")
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if hasattr(value, "value"):  # enums
        return str(value.value)
    return str(value)


def _fmt_decimal(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _decimals(values: Sequence[Decimal | None]) -> list[str]:
    """``_fmt`` of Decimals (or None), each distinct non-zero value formatted once.

    Equal non-zero Decimals normalize to the same digits (``1.50`` and ``1.5``
    both print ``1.5``); zeros are formatted each time, as ``0`` and ``-0``
    compare equal but print differently.
    """
    memo: dict[Decimal, str] = {}
    out: list[str] = []
    append = out.append
    for v in values:
        if v is None:
            append("")
        elif not v or not v.is_finite():
            append(_fmt_decimal(v))
        else:
            text = memo.get(v)
            if text is None:
                text = memo[v] = _fmt_decimal(v)
            append(text)
    return out


def _isoformats(values: Sequence[datetime | None]) -> list[str]:
    """``_fmt`` of datetimes (or None), each datetime OBJECT formatted once: the rows of
    one bar share their stamp. (By identity, not equality: equal instants in two time
    zones print differently.)"""
    memo: dict[int, str] = {}
    out: list[str] = []
    append = out.append
    for v in values:
        if v is None:
            append("")
            continue
        text = memo.get(id(v))
        if text is None:
            # ``values`` keeps every object alive, so an id is never reused meanwhile.
            text = memo[id(v)] = v.isoformat()
        append(text)
    return out


def _column(values: Sequence[object]) -> list[str]:
    """``_fmt`` of every value of a column, with one formatter picked for the whole column
    from the (exact) types it holds; a column of other or mixed types is formatted value
    by value. Every branch gives exactly what ``_fmt`` gives."""
    kinds = set(map(type, values))
    kinds.discard(NoneType)
    if not kinds:
        return ["" for _ in values]
    if len(kinds) > 1:
        return [_fmt(v) for v in values]
    (kind,) = kinds
    if kind is str:
        return ["" if v is None else v for v in values]  # type: ignore[misc]
    if kind is Decimal:
        return _decimals(values)  # type: ignore[arg-type]
    if kind is datetime:
        return _isoformats(values)  # type: ignore[arg-type]
    if issubclass(kind, Enum) and not hasattr(kind, "isoformat"):
        members: dict[object, str] = {None: ""}
        members.update((member, str(member.value)) for member in kind)
        return [members[v] for v in values]
    return [_fmt(v) for v in values]


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _csv(header: Sequence[str], columns: Sequence[Sequence[object]]) -> str:
    """A CSV text of ``columns`` (each a sequence of one field's values, all of one length),
    every value formatted by ``_fmt``, one column at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(zip(*(_column(column) for column in columns), strict=True))
    return buffer.getvalue()


def _values(items: Sequence[object], *names: str) -> list[list[object]]:
    """One list per attribute ``names`` of ``items``."""
    return [list(map(attrgetter(name), items)) for name in names]


def result_tables(result: BacktestResult) -> dict[str, str]:
    """The CSV files of a result, by file name."""
    decisions = result.decisions
    return {
        "fills.csv": _csv(
            (
                "timestamp",
                "symbol",
                "side",
                "quantity",
                "price",
                "commission",
                "order_id",
                "fill_id",
                "strategy_id",
            ),
            _values(
                result.fills,
                "timestamp",
                "symbol",
                "side",
                "quantity",
                "price",
                "commission",
                "order_id",
                "id",
                "strategy_id",
            ),
        ),
        "orders.csv": _csv(
            (
                "created_at",
                "order_id",
                "strategy_id",
                "symbol",
                "side",
                "quantity",
                "type",
                "limit_price",
                "stop_price",
                "time_in_force",
                "tag",
            ),
            _values(
                result.orders,
                "created_at",
                "id",
                "strategy_id",
                "symbol",
                "side",
                "quantity",
                "type",
                "limit_price",
                "stop_price",
                "time_in_force",
                "tag",
            ),
        ),
        "order_updates.csv": _csv(
            ("timestamp", "order_id", "status", "reason"),
            _values(result.order_updates, "timestamp", "order_id", "status", "reason"),
        ),
        "trades.csv": _csv(
            (
                "strategy_id",
                "symbol",
                "direction",
                "quantity",
                "entry_time",
                "entry_price",
                "exit_time",
                "exit_price",
                "pnl",
                "holding_period",
            ),
            _values(
                result.trades,
                "strategy_id",
                "symbol",
                "direction",
                "quantity",
                "entry_time",
                "entry_price",
                "exit_time",
                "exit_price",
                "pnl",
                "holding_period",
            ),
        ),
        "equity.csv": _csv(
            ("timestamp", "cash", "equity"),
            _values(result.equity, "timestamp", "cash", "equity"),
        ),
        "risk_decisions.csv": _csv(
            (
                "timestamp",
                "strategy_id",
                "symbol",
                "intent",
                "approved",
                "order_side",
                "order_quantity",
                "reason",
                "figures",
            ),
            (
                [d.timestamp for d in decisions],
                [d.intent.strategy_id for d in decisions],
                [d.intent.symbol for d in decisions],
                _intents([d.intent for d in decisions]),
                ["true" if d.approved else "false" for d in decisions],
                [d.order.side if d.order else None for d in decisions],
                [d.order.quantity if d.order else None for d in decisions],
                [d.reason for d in decisions],
                _figures([d.figures for d in decisions]),
            ),
        ),
    }


def _figures(column: Sequence[Mapping[str, object]]) -> list[str]:
    """``key=value;...`` of each decision's figures, sorted by key."""
    memo: dict[Decimal, str] = {}

    def text(value: object) -> str:
        if type(value) is Decimal and value and value.is_finite():
            # Non-zero equal Decimals print alike (see ``_decimals``).
            cached = memo.get(value)
            if cached is None:
                cached = memo[value] = _fmt_decimal(value)
            return cached
        return _fmt(value)

    return [";".join([f"{k}={text(v)}" for k, v in sorted(f.items())]) for f in column]


def _intents(column: Sequence[object]) -> list[str]:
    """``_intent`` of each intent; orders of one side, quantity and type print alike."""
    memo: dict[tuple[object, Decimal, object], str] = {}
    out: list[str] = []
    for intent in column:
        side = getattr(intent, "side", None)
        quantity = getattr(intent, "quantity", None)
        if side is None or type(quantity) is not Decimal or not quantity:
            out.append(_intent(intent))
            continue
        key = (side, quantity, intent.type)  # type: ignore[attr-defined]
        text = memo.get(key)
        if text is None:
            text = memo[key] = _intent(intent)
        out.append(text)
    return out


def _intent(intent: object) -> str:
    side = getattr(intent, "side", None)
    if side is not None:
        return f"{_fmt(side)} {_fmt(getattr(intent, 'quantity', ''))} {_fmt(intent.type)}"  # type: ignore[attr-defined]
    return f"signal {_fmt(getattr(intent, 'direction', ''))}"


def metrics_json(metrics: Mapping[str, object]) -> str:
    return json.dumps(metrics, indent=2, sort_keys=True, allow_nan=False) + "\n"


def write_results(
    result: BacktestResult,
    directory: Path,
    extra: Mapping[str, str] | None = None,
) -> dict[str, float | int | None]:
    """Write every result file into ``directory`` and return the metrics.

    ``extra`` maps further file names to their text (e.g. the resolved config).
    """
    metrics = compute_metrics(result)
    files = result_tables(result)
    files.update(extra or {})
    files["metrics.json"] = metrics_json(metrics)  # last: its presence marks a complete run
    for name, text in files.items():
        atomic_write_text(directory / name, text)
    return metrics
