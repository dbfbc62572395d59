"""Result files. Every file is written to a temporary name and renamed, so a
crash never leaves a half-written file where a previous result stood."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path

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


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_fmt(v) for v in row] for row in rows)
    return buffer.getvalue()


def result_tables(result: BacktestResult) -> dict[str, str]:
    """The CSV files of a result, by file name."""
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
            (
                (
                    f.timestamp,
                    f.symbol,
                    f.side,
                    f.quantity,
                    f.price,
                    f.commission,
                    f.order_id,
                    f.id,
                    f.strategy_id,
                )
                for f in result.fills
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
            (
                (
                    o.created_at,
                    o.id,
                    o.strategy_id,
                    o.symbol,
                    o.side,
                    o.quantity,
                    o.type,
                    o.limit_price,
                    o.stop_price,
                    o.time_in_force,
                    o.tag,
                )
                for o in result.orders
            ),
        ),
        "order_updates.csv": _csv(
            ("timestamp", "order_id", "status", "reason"),
            ((u.timestamp, u.order_id, u.status, u.reason) for u in result.order_updates),
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
            (
                (
                    t.strategy_id,
                    t.symbol,
                    t.direction,
                    t.quantity,
                    t.entry_time,
                    t.entry_price,
                    t.exit_time,
                    t.exit_price,
                    t.pnl,
                    t.holding_period,
                )
                for t in result.trades
            ),
        ),
        "equity.csv": _csv(
            ("timestamp", "cash", "equity"),
            ((row.timestamp, row.cash, row.equity) for row in result.equity),
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
                (
                    d.timestamp,
                    d.intent.strategy_id,
                    d.intent.symbol,
                    _intent(d.intent),
                    "true" if d.approved else "false",
                    d.order.side if d.order else None,
                    d.order.quantity if d.order else None,
                    d.reason,
                    ";".join(f"{k}={_fmt(v)}" for k, v in sorted(d.figures.items())),
                )
                for d in result.decisions
            ),
        ),
    }


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
