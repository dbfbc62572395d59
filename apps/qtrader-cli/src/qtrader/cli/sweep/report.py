"""``sweep.html``: one self-contained page (no network, no script) of a sweep: a heatmap of
the chosen metric over the first two swept keys (the best value of the others at each cell),
the table of the best runs and, after a walk-forward, the stitched out-of-sample curve.
Deterministic: the same sweep gives the same bytes."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from qtrader.cli.sweep.runs import RunRecord
from qtrader.cli.sweep.sweep import SweepSpec

CELL, LABEL = 56, 120


def _colour(value: float, low: float, high: float) -> str:
    """Red (low) to green (high) through pale yellow."""
    t = 0.5 if high == low else (value - low) / (high - low)
    red = int(215 - 120 * t) if t > 0.5 else 215
    green = int(120 + 95 * t * 2) if t <= 0.5 else 215
    return f"#{red:02x}{green:02x}90"


def heatmap(spec: SweepSpec, records: Sequence[RunRecord]) -> str:
    """An SVG grid: rows the first swept key, columns the second (or one row)."""
    rows_axis = spec.axes[0]
    cols_axis = spec.axes[1] if len(spec.axes) > 1 else None
    columns = list(cols_axis.values) if cols_axis is not None else [None]
    best: dict[tuple[str, str], float] = {}
    for r in records:
        value = r.metrics.get(spec.metric)
        if r.status != "ok" or not isinstance(value, int | float) or math.isnan(value):
            continue
        key = (repr(r.point[rows_axis.key]), repr(r.point[cols_axis.key]) if cols_axis else "")
        score = float(value)
        better = max if spec.maximize else min
        best[key] = better(best.get(key, score), score)
    low = min(best.values(), default=0.0)
    high = max(best.values(), default=0.0)
    width = LABEL + CELL * len(columns) + 10
    height = 40 + CELL * len(rows_axis.values) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">',
        f'<text x="{LABEL}" y="14" font-size="12">'
        f"{html.escape(cols_axis.key if cols_axis else '')}</text>",
    ]
    for j, column in enumerate(columns):
        label = "" if column is None else html.escape(str(column))
        x = LABEL + j * CELL + CELL // 2
        parts.append(f'<text x="{x}" y="32" font-size="12" text-anchor="middle">{label}</text>')
    for i, row in enumerate(rows_axis.values):
        y = 40 + i * CELL
        parts.append(
            f'<text x="{LABEL - 6}" y="{y + CELL // 2 + 4}" font-size="12" text-anchor="end">'
            f"{html.escape(rows_axis.key)} = {html.escape(str(row))}</text>"
        )
        for j, column in enumerate(columns):
            x = LABEL + j * CELL
            key = (repr(row), repr(column) if cols_axis else "")
            if key in best:
                fill, text = _colour(best[key], low, high), f"{best[key]:.3g}"
            else:
                fill, text = "#dddddd", "n/a"
            parts.append(
                f'<rect class="cell" x="{x}" y="{y}" width="{CELL - 2}" '
                f'height="{CELL - 2}" fill="{fill}"/>'
                f'<text x="{x + CELL // 2 - 1}" y="{y + CELL // 2 + 4}" font-size="11" '
                f'text-anchor="middle">{html.escape(text)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def curve_svg(points: Sequence[tuple[str, Decimal]], width: int = 720, height: int = 240) -> str:
    if len(points) < 2:
        return "<p>no out-of-sample curve</p>"
    values = [float(v) for _, v in points]
    low, high = min(values), max(values)
    span = high - low or 1.0
    step = (width - 20) / (len(values) - 1)
    ys = [height - 10 - (v - low) / span * (height - 20) for v in values]
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{10 + i * step:.1f},{y:.1f}" for i, y in enumerate(ys)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="curve" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><path d="{path}" fill="none" stroke="#1f6feb" '
        f'stroke-width="1.5"/><text x="10" y="14" font-size="12">{html.escape(points[0][0][:10])}: '
        f'{values[0]:,.2f}</text><text x="{width - 10}" y="14" font-size="12" '
        f'text-anchor="end">{html.escape(points[-1][0][:10])}: {values[-1]:,.2f}</text></svg>'
    )


def render(
    spec: SweepSpec,
    records: Sequence[RunRecord],
    oos_curve: Sequence[tuple[str, Decimal]] = (),
    top: int = 10,
) -> str:
    ranked = sorted(
        (
            r
            for r in records
            if r.status == "ok" and isinstance(r.metrics.get(spec.metric), int | float)
        ),
        key=lambda r: (
            -(float(r.metrics[spec.metric] or 0.0))
            if spec.maximize
            else float(r.metrics[spec.metric] or 0.0),
            r.index,
        ),
    )[:top]
    keys = [a.key for a in spec.axes]
    header = "".join(f"<th>{html.escape(k)}</th>" for k in [*keys, spec.metric, "run"])
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(str(r.point[k]))}</td>" for k in keys)
        + f"<td>{_fmt(r.metrics.get(spec.metric))}</td><td>{html.escape(r.run_id)}</td></tr>"
        for r in ranked
    )
    failed = sum(r.status != "ok" for r in records)
    sections = [
        f"<h1>Sweep of {html.escape(spec.config.name)}</h1>",
        f"<p>{len(records)} runs, {failed} failed; metric <b>{html.escape(spec.metric)}</b> "
        f"({'higher' if spec.maximize else 'lower'} is better).</p>",
        f"<h2>{html.escape(spec.metric)} by parameters</h2>",
        heatmap(spec, records),
        f"<h2>Best {len(ranked)} runs</h2><table><tr>{header}</tr>{body}</table>",
    ]
    if oos_curve:
        sections += ["<h2>Out-of-sample equity (walk-forward, stitched)</h2>", curve_svg(oos_curve)]
    style = (
        "body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>QTrader sweep</title>'
        f"<style>{style}</style></head><body>{''.join(sections)}</body></html>\n"
    )


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return html.escape("" if value is None else str(value))


def render_walk_forward(spec: SweepSpec, windows: Sequence[Any], curve: Sequence[Any]) -> str:
    """The windows (dates, chosen values, in- and out-of-sample metric) and the curve."""
    keys = [a.key for a in spec.axes]
    head = [
        "window",
        "in sample",
        "out of sample",
        *keys,
        f"IS {spec.metric}",
        f"OOS {spec.metric}",
    ]
    rows = []
    for w in windows:
        values = ["" if w.point is None else str(w.point[k]) for k in keys]
        cells = [
            str(w.window.number),
            f"{w.window.in_start} to {w.window.in_end}",
            f"{w.window.out_start} to {w.window.out_end}",
            *values,
            _fmt(w.in_sample),
            _fmt(w.out_of_sample) if not w.error else w.error,  # escaped with the cells
        ]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    table = "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"
    style = (
        "body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>QTrader walk-forward</title><style>{style}</style></head><body>"
        f"<h1>Walk-forward of {html.escape(spec.config.name)}</h1>"
        f"<table>{table}{''.join(rows)}</table>"
        "<h2>Out-of-sample equity (stitched)</h2>"
        f"{curve_svg(curve)}</body></html>\n"
    )
