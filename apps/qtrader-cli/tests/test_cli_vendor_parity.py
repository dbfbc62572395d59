"""Swapping Algoseek for Schwab is a change of the `data:` block only: same fills.

AAA trades 60 sessions with a 2-for-1 split (ex 2024-02-15) and a dividend. Algoseek files
hold the prices as traded with the vendor's factors; the `split_adjusted` view divides the
closes before the split by 2. A loopback server answers like Schwab's price history with
exactly those split-adjusted prices (Schwab's are split-adjusted). `sma_crossover` (2/3)
must fill the same orders at the same prices from both; the Schwab run then works a
second time with the server gone, from the Parquet cache.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

from qtrader.cli.main import app

runner = CliRunner()
CHICAGO = ZoneInfo("America/Chicago")
SPLIT_DAY = date(2024, 2, 15)


def sessions(first: date, n: int) -> list[date]:
    days, day = [], first
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


DAYS = sessions(date(2024, 1, 2), 60)


def traded_bars() -> list[tuple[date, float, float, float, float, int]]:
    """(day, open, high, low, close, volume) as traded: a wave that crosses its averages
    now and then, halved from the split day on (a 2-for-1 split halves every price)."""
    bars = []
    for i, day in enumerate(DAYS):
        close = round(100 + 8 * math.sin(i / 3.0) + i * 0.1, 2)
        open_ = round(close - 0.5 * math.cos(i), 2)
        if day >= SPLIT_DAY:
            close, open_ = round(close / 2, 2), round(open_ / 2, 2)
        high, low = max(open_, close) + 0.25, min(open_, close) - 0.25
        bars.append((day, open_, high, low, close, 10_000 * (2 if day >= SPLIT_DAY else 1)))
    return bars


def write_algoseek(folder: Path) -> None:
    lines = [
        "TradeDate,Ticker,Open,High,Low,Close,MarketHoursVolume,CumulativePriceFactor,"
        "CumulativeVolumeFactor,AdjustmentFactor,AdjustmentReason,SecId"
    ]
    price_factor, volume_factor, previous_close = 1.0, 1.0, 0.0
    for day, o, h, lo, c, v in traded_bars():
        factor, reason = "", ""
        if day == SPLIT_DAY:
            factor, reason = "0.5", "Subdiv"
            price_factor, volume_factor = price_factor * 2, volume_factor * 2
        elif day == DAYS[10]:
            adjustment = 1 - 0.5 / previous_close  # a 0.50 dividend
            factor, reason = repr(adjustment), "CashDiv"
            price_factor /= adjustment
        lines.append(
            f"{day} 00:00:00,AAA,{o},{h},{lo},{c},{v},{price_factor!r},{volume_factor!r},"
            f"{factor},{reason},12345"
        )
        previous_close = c
    folder.mkdir(parents=True)
    (folder / "vendor_file.csv").write_text("\n".join(lines) + "\n")


def split_adjusted_candles() -> list[dict[str, float | int]]:
    candles: list[dict[str, float | int]] = []
    for day, o, h, lo, c, v in traded_bars():
        ratio = 2.0 if day < SPLIT_DAY else 1.0  # dividing by 2 is exact in binary
        midnight = datetime.combine(day, time(0), CHICAGO).astimezone(UTC)
        candles.append(
            {
                "open": o / ratio,
                "high": h / ratio,
                "low": lo / ratio,
                "close": c / ratio,
                "volume": int(v * ratio),
                "datetime": int(midnight.timestamp() * 1000),
            }
        )
    return candles


def price_history(request: Request) -> Response:
    first, last = int(request.args["startDate"]), int(request.args["endDate"])
    candles = [c for c in split_adjusted_candles() if first <= int(c["datetime"]) <= last]
    body = {"symbol": request.args["symbol"], "empty": not candles, "candles": candles}
    return Response(json.dumps(body), content_type="application/json")


def config(folder: Path, data: str) -> Path:
    path = folder / f"{data.split()[1]}.yaml"
    path.write_text(
        f"""
start: {DAYS[0]}
end: {DAYS[-1]}
initial_cash: 100000
data:
  {data}
  symbols: [AAA]
strategy:
  name: sma_crossover
  params: {{fast: 2, slow: 3, quantity: 10}}
"""
    )
    return path


def fills(folder: Path, config_file: Path) -> list[tuple[str, ...]]:
    out = folder / f"out-{config_file.stem}-{len(list(folder.glob('out-*')))}"
    result = runner.invoke(app, ["backtest", str(config_file), "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = (out / "fills.csv").read_text().splitlines()[1:]
    return [tuple(row.split(",")[:5]) for row in rows]  # timestamp, symbol, side, qty, price


def test_algoseek_split_adjusted_and_schwab_give_the_same_fills(tmp_path: Path) -> None:
    write_algoseek(tmp_path / "algoseek")
    (tmp_path / "token.json").write_text(
        json.dumps({"access_token": "AT", "refresh_token": "RT", "expires_at": 4102444800})
    )
    algoseek = config(tmp_path, "source: algoseek\n  path: algoseek\n  adjustment: split_adjusted")
    from_algoseek = fills(tmp_path, algoseek)
    assert len(from_algoseek) >= 4  # the wave crosses: buys and sells on both sides of the split

    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/marketdata/v1/pricehistory").respond_with_handler(price_history)
    server.start()
    try:
        schwab = config(
            tmp_path,
            f"source: schwab\n  base_url: {server.url_for('').rstrip('/')}\n"
            "  token_file: token.json\n  app_key: k\n  app_secret: s\n  cache: cache",
        )
        from_schwab = fills(tmp_path, schwab)
        assert server.log, "the first Schwab run fetched from the server"
    finally:
        server.stop()
    assert from_schwab == from_algoseek
    assert fills(tmp_path, schwab) == from_algoseek  # server gone: from the cache
