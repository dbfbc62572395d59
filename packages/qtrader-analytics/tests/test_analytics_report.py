"""report.html: monthly returns by hand, the sections drawn, escaping, thinning and
determinism."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from qtrader.analytics import PricePoint, ReportData, TradeMark, monthly_returns, render_report
from qtrader.analytics.report import MAX_POINTS, format_metric, thin


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 21, tzinfo=UTC)


EQUITY = [(at(2024, 1, 2), 100.0), (at(2024, 1, 31), 100.0), (at(2024, 2, 29), 110.0),
          (at(2024, 3, 29), 99.0), (at(2025, 1, 2), 108.9)]  # fmt: skip


def data(**changes: Any) -> ReportData:
    base = ReportData(
        title="SMA <script>alert(1)</script>",
        equity=EQUITY,
        metrics={"total_return": 0.1234, "sharpe": 1.5, "num_trades": 3, "calmar": None},
        strategy_pnl={"sma": 120.5, "b&h": -30.0},
        models={"fills and costs": "next open, <no> costs"},
        symbol="AAA",
        prices=[PricePoint(t, v / 10) for t, v in EQUITY],
        trades=[
            TradeMark(at(2024, 1, 31), "buy", 10, 10.0),
            TradeMark(at(2024, 3, 29), "sell", 10, 9.9),
            TradeMark(at(2025, 1, 2), "buy", 5, 10.89),
        ],
    )
    return replace(base, **changes)


def test_monthly_returns_by_hand() -> None:
    # Jan: 100 -> 100 (from the first row); Feb 110/100 - 1; Mar 99/110 - 1; Jan 2025 108.9/99
    assert monthly_returns(EQUITY) == pytest.approx(
        {(2024, 1): 0.0, (2024, 2): 0.1, (2024, 3): -0.1, (2025, 1): 0.1}
    )
    assert monthly_returns([]) == {}


def test_months_from_an_equity_at_or_below_zero_have_no_return() -> None:
    # Equity 100 -> -48.8 in March -> -151.2 in April -> 20 in May: from -48.8 to -151.2
    # the formula gives +210%, a loss shown as a gain; from -151.2 to 20, -113%. Neither
    # means anything (the metrics leave such returns out); a year holding one has none.
    equity = [(at(2024, 2, 29), 100.0), (at(2024, 3, 29), -48.8), (at(2024, 4, 30), -151.2),
              (at(2024, 5, 31), 20.0), (at(2024, 6, 28), 22.0)]  # fmt: skip
    months = monthly_returns(equity)
    assert months[(2024, 2)] == 0.0
    assert months[(2024, 3)] == pytest.approx(-1.488)
    assert (months[(2024, 4)], months[(2024, 5)]) == (None, None)
    assert months[(2024, 6)] == pytest.approx(0.1)
    page = render_report(data(equity=equity, prices=[], trades=[]))
    monthly = page[page.index('<section id="monthly">') :]
    monthly = monthly[: monthly.index("</section>")]
    assert "+210" not in monthly
    assert "-113" not in monthly
    assert monthly.count("—") == 3  # April, May and the year


def test_every_section_is_drawn_and_user_text_is_escaped() -> None:
    page = render_report(data())
    for section in ("equity", "drawdown", "monthly", "price", "strategies", "metrics", "models"):
        assert f'<section id="{section}">' in page
    assert page.count("<svg") == 4  # equity, drawdown, price, strategies
    assert "<script>" not in page
    assert "SMA &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "b&amp;h" in page
    assert "next open, &lt;no&gt; costs" in page
    assert page.count('class="buy"') == 2
    assert page.count('class="sell"') == 1
    assert "+10.00%" in page  # Feb
    assert "-10.00%" in page  # Mar
    # 2024 compounded: 1.0 x 1.1 x 0.9 - 1 = -1%
    assert '<td class="year">-1.00%</td>' in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_metrics_are_formatted_for_people() -> None:
    assert format_metric("total_return", 0.1234) == "12.34%"
    assert format_metric("sharpe", 1234.56789) == "1,234.5679"
    assert format_metric("num_trades", 3) == "3"
    assert format_metric("calmar", None) == "—"
    page = render_report(data())
    # rows: 4 metrics, 1 model; the monthly table's header and its 2 years
    assert page.count("<tr><th>") == 4 + 1 + 1 + 2
    assert "<tr><th>total_return</th><td>12.34%</td></tr>" in page


def test_the_same_data_give_the_same_bytes() -> None:
    assert render_report(data()) == render_report(data())


def test_empty_flat_and_single_row_inputs_render() -> None:
    empty = render_report(data(equity=[], prices=[], trades=[], strategy_pnl={}, metrics={}))
    assert "no rows" in empty
    assert "no prices of" in empty  # a symbol is set, its prices are not
    assert "<svg" not in empty
    flat = render_report(data(equity=[(at(2024, 1, 2), 100.0), (at(2024, 1, 3), 100.0)]))
    assert 'class="line"' in flat
    single = render_report(data(equity=[(at(2024, 1, 2), 100.0)], symbol=None))
    assert "no symbol chosen" in single
    assert "0.00%" in render_report(data(strategy_pnl={"zero": 0.0}, metrics={}))


def test_a_long_curve_is_thinned_keeping_its_extremes() -> None:
    start = at(2000, 1, 3)
    rows = [(start + timedelta(hours=i), 100.0 + (i % 97)) for i in range(10_000)]
    rows[5_000] = (rows[5_000][0], 1.0)  # the trough must survive
    page = render_report(data(equity=rows))
    equity_path = re.search(r'<section id="equity">.*?<path class="line" d="([^"]*)"', page)
    assert equity_path is not None
    assert equity_path.group(1).count("L") + 1 <= MAX_POINTS
    xy = [(float(i), v) for i, (_, v) in enumerate(rows)]
    thinned = thin(xy)
    assert len(thinned) <= MAX_POINTS
    assert (5000.0, 1.0) in thinned
    assert thinned == sorted(thinned)  # in order
    assert thin(xy[:10]) == xy[:10]


def date_labels(page: str, section: str) -> list[str]:
    match = re.search(rf'<section id="{section}">(.*?)</section>', page)
    assert match is not None
    return re.findall(r">(\d{4}-\d{2}-\d{2})</text>", match.group(1))


def test_date_ticks_are_spread_over_the_rows_and_never_stacked() -> None:
    page = render_report(data())
    # 5 rows, 5 ticks: each row's own date, first to last
    assert date_labels(page, "equity") == [
        "2024-01-02", "2024-01-31", "2024-02-29", "2024-03-29", "2025-01-02"
    ]  # fmt: skip
    single = render_report(data(equity=[(at(2024, 1, 2), 100.0)]))
    assert date_labels(single, "equity") == ["2024-01-02"]
    assert date_labels(single, "drawdown") == ["2024-01-02"]
    three = render_report(data(equity=EQUITY[:3]))
    assert date_labels(three, "equity") == ["2024-01-02", "2024-01-31", "2024-02-29"]


def test_values_that_are_not_finite_are_left_out_of_the_drawings() -> None:
    nan, inf = float("nan"), float("inf")
    kept_prices = [PricePoint(at(2024, 1, 2), 10.0), PricePoint(at(2024, 1, 3), 10.5)]
    kept_trades = [TradeMark(at(2024, 1, 2), "buy", 1, 10.0)]
    page = render_report(
        data(
            equity=[*EQUITY[:2], (at(2024, 2, 1), nan), (at(2024, 2, 2), inf), *EQUITY[2:]],
            prices=[*kept_prices, PricePoint(at(2024, 1, 4), nan)],
            trades=[*kept_trades, TradeMark(at(2024, 1, 3), "sell", 1, inf)],
            strategy_pnl={"good": 10.0, "broken": nan},
        )
    )
    # every coordinate of every drawing is a number (the broken strategy's label says "nan")
    coordinates = re.findall(r' (?:d|x|y|x1|y1|x2|y2|width|height)="([^"]*)"', page)
    assert coordinates
    assert not [c for c in coordinates if "nan" in c or "inf" in c]
    assert page.count('class="buy"') == 1
    assert page.count('class="sell"') == 0
    # the broken strategy's bar: a 1px stub at the middle (100 + 770 / 2), second row (15 + 26 + 4)
    assert '<rect class="bar neg" x="485.00" y="45.00" width="1.00"' in page
    clean = data(prices=kept_prices, trades=kept_trades, strategy_pnl={"good": 10.0, "broken": nan})
    assert page == render_report(clean)


def test_the_price_section_says_why_it_is_empty() -> None:
    page = render_report(data(symbol=None, prices=[], trades=[]))
    assert "no symbol chosen (no fills, and no report symbol set)" in page
    page = render_report(data(symbol="A&B", prices=[], trades=[]))
    assert "no prices of A&amp;B in the backtest window" in page
    assert "no symbol chosen" not in page
