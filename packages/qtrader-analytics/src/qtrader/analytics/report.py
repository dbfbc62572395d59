"""``report.html``: one self-contained page of a run, drawn as inline SVG.

Sections, each a ``<section id=...>``: ``equity`` (the equity curve), ``drawdown`` (percent
below the running peak), ``monthly`` (a table of monthly returns, green gains and red losses,
the deeper the larger), ``price`` (the report symbol's closes with its fills marked: an
upward triangle under a buy, a downward one over a sell), ``strategies`` (each strategy's
round-trip P&L as a bar), ``metrics`` (every metric, sorted by key) and ``models`` (the fill,
cost and other models the run used).

The page needs no network: no script, font or stylesheet is fetched; styles are inline and
there is no JavaScript. It is deterministic: the same data give the same bytes (coordinates
are printed with two decimals, nothing depends on the clock or on random ids). A curve of
more than ``MAX_POINTS`` points is thinned by keeping the lowest and the highest point of
each of ``MAX_POINTS / 2`` buckets, so extremes (the drawdown's trough) stay visible and a
20-year intraday curve stays a small file. Tick labels are the local dates of the data
points nearest to the ticks, so a report rebuilt from result files, whose timestamps carry
fixed offsets, is byte-identical to the one written by the run. Rows and fills whose value
is not a finite number (NaN, infinity) are left out of the drawings, which SVG could not draw.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from html import escape

MAX_POINTS = 2000
WIDTH, HEIGHT = 900.0, 260.0
LEFT, RIGHT, TOP, BOTTOM = 100.0, 30.0, 15.0, 30.0
TICKS = 5
PERCENT_METRICS = frozenset(
    {
        "total_return",
        "cagr",
        "volatility",
        "max_drawdown",
        "win_rate",
        "exposure",
        "alpha",
        "benchmark_return",
    }
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class PricePoint:
    """One bar's close of the report symbol."""

    timestamp: datetime
    close: float


@dataclass(frozen=True, slots=True)
class TradeMark:
    """One fill to mark on the price chart (``side``: ``"buy"`` or ``"sell"``)."""

    timestamp: datetime
    side: str
    quantity: float
    price: float


@dataclass(frozen=True)
class ReportData:
    """What the report shows. ``equity`` is every equity row as ``(timestamp, equity)``;
    ``strategy_pnl`` each strategy's round-trip P&L; ``models`` names the models used."""

    title: str
    equity: Sequence[tuple[datetime, float]]
    metrics: Mapping[str, float | int | None]
    strategy_pnl: Mapping[str, float]
    models: Mapping[str, str]
    symbol: str | None = None
    prices: Sequence[PricePoint] = ()
    trades: Sequence[TradeMark] = ()


def monthly_returns(
    equity: Sequence[tuple[datetime, float]],
) -> dict[tuple[int, int], float | None]:
    """The return of each calendar month (the timestamps' own dates), from the previous
    month's last equity (the first month: from the first row) to the month's last;
    ``None`` from an equity at or below zero, where a return means nothing (from -48,800
    to -151,200 is no gain of 210%), as for the metrics."""
    last: dict[tuple[int, int], float] = {}
    for stamp, value in equity:
        last[(stamp.year, stamp.month)] = value
    out: dict[tuple[int, int], float | None] = {}
    previous = equity[0][1] if equity else 0.0
    for month, value in last.items():
        out[month] = value / previous - 1.0 if previous > 0 else None
        previous = value
    return out


def thin(
    points: Sequence[tuple[float, float]], limit: int = MAX_POINTS
) -> list[tuple[float, float]]:
    """At most ``limit`` points: the lowest and the highest (in their order) of each of
    ``limit // 2`` buckets of consecutive points; fewer points are kept as they are."""
    if len(points) <= limit:
        return list(points)
    buckets = limit // 2
    out: list[tuple[float, float]] = []
    for b in range(buckets):
        chunk = points[b * len(points) // buckets : (b + 1) * len(points) // buckets]
        low = min(range(len(chunk)), key=lambda i: chunk[i][1])
        high = max(range(len(chunk)), key=lambda i: chunk[i][1])
        out.extend(chunk[i] for i in sorted({low, high}))
    return out


class _Frame:
    """Maps data coordinates into the plot area of one chart."""

    def __init__(self, xs: Sequence[float], ys: Sequence[float], height: float = HEIGHT) -> None:
        self.height = height
        self.x0, self.x1 = min(xs), max(xs)
        self.y0, self.y1 = min(ys), max(ys)
        if self.x1 == self.x0:
            self.x1 = self.x0 + 1.0
        if self.y1 == self.y0:  # a flat line sits mid-height
            pad = abs(self.y0) * 0.01 or 1.0
            self.y0, self.y1 = self.y0 - pad, self.y1 + pad

    def x(self, value: float) -> float:
        return LEFT + (value - self.x0) / (self.x1 - self.x0) * (WIDTH - LEFT - RIGHT)

    def y(self, value: float) -> float:
        span = self.height - TOP - BOTTOM
        return TOP + (self.y1 - value) / (self.y1 - self.y0) * span


def _path(frame: _Frame, points: Sequence[tuple[float, float]]) -> str:
    return "M" + " L".join(f"{frame.x(x):.2f},{frame.y(y):.2f}" for x, y in points)


def _axes(
    frame: _Frame, stamps: Sequence[tuple[float, datetime]], y_label: str, percent: bool = False
) -> str:
    """Axis lines, ``TICKS`` value ticks and date ticks (each the nearest point's date;
    ``stamps`` has at least one point: the charts without rows draw no axes)."""
    bottom = frame.height - BOTTOM
    parts = [
        f'<line class="axis" x1="{LEFT:.2f}" y1="{TOP:.2f}" x2="{LEFT:.2f}" y2="{bottom:.2f}"/>',
        f'<line class="axis" x1="{LEFT:.2f}" y1="{bottom:.2f}" x2="{WIDTH - RIGHT:.2f}" '
        f'y2="{bottom:.2f}"/>',
    ]
    for i in range(TICKS):
        value = frame.y0 + (frame.y1 - frame.y0) * i / (TICKS - 1)
        text = f"{value:.1f}%" if percent else _number(value, frame.y1 - frame.y0)
        parts.append(
            f'<text class="tick" x="{LEFT - 6:.2f}" y="{frame.y(value) + 4:.2f}" '
            f'text-anchor="end">{text}</text>'
        )
    # one label per distinct point: a single row gets one date, not five on top of another
    picks = sorted({round(i * (len(stamps) - 1) / (TICKS - 1)) for i in range(TICKS)})
    for i, pick in enumerate(picks):
        x, stamp = stamps[pick]
        anchor = "start" if i == 0 else "end" if i == len(picks) - 1 else "middle"
        parts.append(
            f'<text class="tick" x="{frame.x(x):.2f}" y="{bottom + 18:.2f}" '
            f'text-anchor="{anchor}">{stamp.date().isoformat()}</text>'
        )
    parts.append(f"<title>{escape(y_label)}</title>")
    return "".join(parts)


def _number(value: float, span: float) -> str:
    """A tick value with the decimals its axis needs: none over a span of 100 or more."""
    if span >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def _svg(body: str, height: float = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {WIDTH:.0f} {height:.0f}">{body}</svg>'
    )


def _line_chart(
    points: Sequence[tuple[datetime, float]], label: str, css: str, percent: bool = False
) -> str:
    if not points:
        return '<p class="empty">no rows</p>'
    xy = thin([(stamp.timestamp(), value) for stamp, value in points])
    stamps = [(stamp.timestamp(), stamp) for stamp, _ in points]
    frame = _Frame([x for x, _ in xy], [y for _, y in xy])
    shape = _path(frame, xy)
    if css == "area":  # closed down to the zero line at the top of the drawdown chart
        zero = frame.y(min(max(0.0, frame.y0), frame.y1))
        shape += f" L{frame.x(xy[-1][0]):.2f},{zero:.2f} L{frame.x(xy[0][0]):.2f},{zero:.2f} Z"
    return _svg(_axes(frame, stamps, label, percent) + f'<path class="{css}" d="{shape}"/>')


def _drawdown(equity: Sequence[tuple[datetime, float]]) -> list[tuple[datetime, float]]:
    out = []
    peak = float("-inf")
    for stamp, value in equity:
        peak = max(peak, value)
        out.append((stamp, (value / peak - 1.0) * 100.0 if peak > 0 else 0.0))
    return out


def _monthly_table(equity: Sequence[tuple[datetime, float]]) -> str:
    months = monthly_returns(equity)
    if not months:
        return '<p class="empty">no rows</p>'
    biggest = max((abs(r) for r in months.values() if r is not None), default=0.0) or 1.0
    head = "".join(f"<th>{m}</th>" for m in MONTHS)
    rows = []
    for year in sorted({y for y, _ in months}):
        cells = []
        for month in range(1, 13):
            if (year, month) not in months:
                cells.append("<td></td>")
                continue
            r = months[(year, month)]
            if r is None:
                cells.append('<td title="from an equity at or below zero">—</td>')
                continue
            shade = 0.15 + 0.7 * abs(r) / biggest
            colour = f"rgba(22,140,60,{shade:.2f})" if r >= 0 else f"rgba(200,40,40,{shade:.2f})"
            cells.append(f'<td style="background:{colour}">{r * 100:+.2f}%</td>')
        year_return: float | None = 1.0
        for (y, _), r in months.items():
            if y == year:
                year_return = None if r is None or year_return is None else year_return * (1 + r)
        shown = "—" if year_return is None else f"{(year_return - 1.0) * 100:+.2f}%"
        cells.append(f'<td class="year">{shown}</td>')
        rows.append(f"<tr><th>{year}</th>{''.join(cells)}</tr>")
    return f'<table class="monthly"><tr><th></th>{head}<th>Year</th></tr>{"".join(rows)}</table>'


def _price_chart(data: ReportData) -> str:
    if data.symbol is None:
        return '<p class="empty">no symbol chosen (no fills, and no report symbol set)</p>'
    if not data.prices:
        return f'<p class="empty">no prices of {escape(data.symbol)} in the backtest window</p>'
    xy = thin([(p.timestamp.timestamp(), p.close) for p in data.prices])
    marks = [(t.timestamp.timestamp(), t.price, t) for t in data.trades]
    frame = _Frame(
        [x for x, _ in xy] + [x for x, _, _ in marks], [y for _, y in xy] + [y for _, y, _ in marks]
    )
    stamps = [(p.timestamp.timestamp(), p.timestamp) for p in data.prices]
    parts = [
        _axes(frame, stamps, f"{data.symbol} close"),
        f'<path class="line" d="{_path(frame, xy)}"/>',
    ]
    for x, y, trade in marks:
        px, py = frame.x(x), frame.y(y)
        title = f"{escape(trade.side)} {trade.quantity:g} @ {trade.price:g}"
        if trade.side == "buy":  # under the price, pointing up at it
            shape = f"M{px:.2f},{py + 2:.2f} l-5,9 l10,0 Z"
        else:  # over the price, pointing down at it
            shape = f"M{px:.2f},{py - 2:.2f} l-5,-9 l10,0 Z"
        css = "buy" if trade.side == "buy" else "sell"
        parts.append(f'<path class="{css}" d="{shape}"><title>{title}</title></path>')
    return _svg("".join(parts))


def _strategy_bars(pnl: Mapping[str, float]) -> str:
    if not pnl:
        return '<p class="empty">no strategies</p>'
    row = 26.0
    height = TOP + row * len(pnl) + BOTTOM
    biggest = max((abs(v) for v in pnl.values() if math.isfinite(v)), default=0.0) or 1.0
    # strategy names left of LEFT; room for the value labels on both sides of the bars
    half = (WIDTH - LEFT - RIGHT) / 2 - 90.0
    middle = LEFT + (WIDTH - LEFT - RIGHT) / 2
    parts = [
        f'<line class="axis" x1="{middle:.2f}" y1="{TOP:.2f}" x2="{middle:.2f}" '
        f'y2="{height - BOTTOM:.2f}"/>'
    ]
    for i, (sid, value) in enumerate(pnl.items()):
        y = TOP + i * row
        size = abs(value) / biggest * half if math.isfinite(value) else 0.0
        x = middle if value >= 0 else middle - size
        css = "bar pos" if value >= 0 else "bar neg"
        parts.append(
            f'<text class="tick" x="{LEFT - 6:.2f}" y="{y + 16:.2f}" text-anchor="end">'
            f"{escape(sid)}</text>"
            f'<rect class="{css}" x="{x:.2f}" y="{y + 4:.2f}" width="{max(size, 1.0):.2f}" '
            f'height="{row - 8:.2f}"/>'
            f'<text class="tick" x="{middle + (size + 6 if value >= 0 else -size - 6):.2f}" '
            f'y="{y + 16:.2f}" text-anchor="{"start" if value >= 0 else "end"}">'
            f"{value:,.2f}</text>"
        )
    return _svg("".join(parts), height)


def format_metric(key: str, value: float | int | None) -> str:
    """A metric as the table shows it: fractions of ``PERCENT_METRICS`` as percents."""
    if value is None:
        return "—"
    if isinstance(value, (bool, int)):
        return str(value)
    if key in PERCENT_METRICS:
        return f"{value * 100:.2f}%"
    return f"{value:,.4f}"


def _table(rows: Sequence[tuple[str, str]], css: str) -> str:
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="{css}">{body}</table>'


_STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:20px}h2{font-size:16px;margin:24px 0 6px}
section{margin-bottom:12px}
svg{display:block;background:#fafafa;border:1px solid #ddd}
.axis{stroke:#999;stroke-width:1}
.tick{font-size:11px;fill:#555}
.line{fill:none;stroke:#1f5fa8;stroke-width:1.5}
.area{fill:rgba(200,40,40,.25);stroke:#c82828;stroke-width:1}
.buy{fill:#168c3c}.sell{fill:#c82828}
.bar.pos{fill:#168c3c}.bar.neg{fill:#c82828}
table{border-collapse:collapse;font-size:12px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f2f2f2}
.metrics th,.models th{text-align:left}.models td{text-align:left}
.empty{color:#777;font-style:italic}
"""


def render_report(data: ReportData) -> str:
    """The whole HTML document of ``data`` (see the module's docstring)."""
    metrics = sorted(data.metrics.items())
    equity = [(stamp, value) for stamp, value in data.equity if math.isfinite(value)]
    drawn = replace(
        data,
        equity=equity,
        prices=[p for p in data.prices if math.isfinite(p.close)],
        trades=[t for t in data.trades if math.isfinite(t.price)],
    )
    sections = [
        ("equity", "Equity", _line_chart(equity, "equity", "line")),
        ("drawdown", "Drawdown", _line_chart(_drawdown(equity), "% below peak", "area", True)),
        ("monthly", "Monthly returns", _monthly_table(equity)),
        (
            "price",
            "Trades on " + (escape(data.symbol) if data.symbol else "price"),
            _price_chart(drawn),
        ),
        ("strategies", "P&amp;L per strategy (round trips)", _strategy_bars(data.strategy_pnl)),
        ("metrics", "Metrics", _table([(k, format_metric(k, v)) for k, v in metrics], "metrics")),
        ("models", "Models", _table(sorted(data.models.items()), "models")),
    ]
    body = "".join(
        f'<section id="{sid}"><h2>{heading}</h2>{content}</section>'
        for sid, heading, content in sections
    )
    title = escape(data.title)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{title}</h1>{body}</body></html>\n"
    )
