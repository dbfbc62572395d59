"""report.html in a real headless browser (Debian's chromium, driven by Playwright): the
page loads from a file with every network request refused, logs no error, and its charts
are drawn (non-empty boxes, a path of positive length, one marker per fill)."""

from __future__ import annotations

import importlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from qtrader.analytics import PricePoint, ReportData, TradeMark, render_report

CHROMIUM = Path("/usr/bin/chromium")
REQUIRED = "QTRADER_REQUIRE_BROWSER"


def sync_api_or_skip() -> ModuleType:
    """Playwright's sync API, once Debian's chromium is there. Without either the test is
    skipped, unless ``QTRADER_REQUIRE_BROWSER`` is set (CI sets it): then it fails."""
    required = bool(os.environ.get(REQUIRED))
    if not CHROMIUM.exists():
        if required:
            pytest.fail(f"{CHROMIUM} is missing and {REQUIRED} is set")
        pytest.skip(f"no {CHROMIUM}: apt-get install -y chromium (never `playwright install`)")
    if required:
        return importlib.import_module("playwright.sync_api")  # missing: the test errors
    sync_api: ModuleType = pytest.importorskip("playwright.sync_api")
    return sync_api


def report(tmp_path: Path) -> tuple[Path, ReportData]:
    start = datetime(2023, 1, 2, 21, tzinfo=UTC)
    equity = [(start + timedelta(days=i), 1000.0 + 3 * i - (i % 7) * 5) for i in range(400)]
    trades = [
        TradeMark(start + timedelta(days=i), "buy" if i % 20 == 0 else "sell", 10, 100.0 + i / 10)
        for i in range(0, 400, 10)
    ]
    data = ReportData(
        title="browser check",
        equity=equity,
        metrics={"total_return": 0.3, "sharpe": 1.1, "num_trades": 20, "calmar": None},
        strategy_pnl={"a": 120.0, "b": -40.0},
        models={"fills and costs": "next open"},
        symbol="AAA",
        prices=[PricePoint(t, 100.0 + i / 10) for i, (t, _) in enumerate(equity)],
        trades=trades,
    )
    path = tmp_path / "report.html"
    path.write_text(render_report(data), encoding="utf-8")
    return path, data


def test_the_report_draws_its_charts_in_a_headless_browser(tmp_path: Path) -> None:
    sync_api = sync_api_or_skip()
    path, data = report(tmp_path)
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 800})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            def refuse_network(route: object) -> None:
                url = route.request.url  # type: ignore[attr-defined]
                if url.startswith("file:"):
                    route.continue_()  # type: ignore[attr-defined]
                else:
                    requests.append(url)
                    route.abort()  # type: ignore[attr-defined]

            page.route("**/*", refuse_network)
            page.goto(path.as_uri())
            for section in ("equity", "drawdown", "price", "strategies"):
                box = page.locator(f"#{section} svg").bounding_box()
                assert box is not None, section
                assert box["width"] > 0, section
                assert box["height"] > 0, section
            length = page.evaluate("document.querySelector('#equity path.line').getTotalLength()")
            assert length > 100
            buys = page.locator("#price path.buy").count()
            sells = page.locator("#price path.sell").count()
            assert (buys, sells) == (
                sum(t.side == "buy" for t in data.trades),
                sum(t.side == "sell" for t in data.trades),
            )
            assert page.locator("#metrics tr").count() == len(data.metrics)
            assert page.locator("#strategies rect").count() == 2
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert requests == []  # nothing left the file
    assert shot.stat().st_size > 10_000
