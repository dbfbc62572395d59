"""Throughput of SimulatedExecutionService: 1,000 working orders over 1,000 bars.

Not a test. Run: uv run --frozen python packages/qtrader-execution/bench/bench_execution.py

Every order is a GTC buy limit far below the market, so all 1,000 stay
working and each of the 1,000 timestamps checks every one of them against a
bar of its symbol: 1,000,000 order-bar matches. A final market order per
symbol checks that the book still fills.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from qtrader.execution import ExecutionConfig, SimulatedExecutionService, load_execution_config
from qtrader.models import BarSlice, OrderRequest, OrderType, Side

NY = ZoneInfo("America/New_York")
N_SYMBOLS = 100
ORDERS_PER_SYMBOL = 10
N_BARS = 1_000


def slices(symbols: tuple[str, ...], start: date) -> list[BarSlice]:
    rng = np.random.default_rng(7)  # seeded: the same bars every run
    price = np.full(len(symbols), 100.0)
    out = []
    for k in range(N_BARS):
        day = start + timedelta(days=k)
        open_ = np.round(price * (1 + rng.normal(0, 0.01, len(symbols))), 2)
        close = np.round(open_ * (1 + rng.normal(0, 0.01, len(symbols))), 2)
        high = np.maximum(open_, close) + 0.5
        low = np.minimum(open_, close) - 0.5
        out.append(
            BarSlice(
                timestamp=datetime.combine(day, clock_time(16), tzinfo=NY),
                opened_at=datetime.combine(day, clock_time(9, 30), tzinfo=NY),
                symbols=symbols,
                open=open_,
                high=high,
                low=low,
                close=close,
                volume=np.full(len(symbols), 1e6),
            )
        )
        price = close
    return out


def run(config: ExecutionConfig, bars: list[BarSlice]) -> float:
    svc = SimulatedExecutionService(config)
    before = bars[0].timestamp - timedelta(days=1)
    for symbol in bars[0].symbols:
        for j in range(ORDERS_PER_SYMBOL):
            svc.submit(
                OrderRequest(
                    strategy_id="bench",
                    symbol=symbol,
                    side=Side.BUY,
                    quantity=Decimal(100),
                    type=OrderType.LIMIT,
                    limit_price=Decimal(1 + j),  # far below ~100: never touched
                ),
                at=before,
            )
    started = time.perf_counter()
    for sl in bars:
        report = svc.process(sl)
        assert not report.fills
    elapsed = time.perf_counter() - started
    assert len(svc.open_orders()) == N_SYMBOLS * ORDERS_PER_SYMBOL
    return elapsed


def main() -> None:
    symbols = tuple(f"S{i:03d}" for i in range(N_SYMBOLS))
    bars = slices(symbols, date(2020, 1, 1))
    checks = N_SYMBOLS * ORDERS_PER_SYMBOL * N_BARS
    for name, config in (
        ("no costs", ExecutionConfig()),
        (
            "bps + per_share",
            load_execution_config(
                {
                    "slippage": {"model": "bps", "bps": 5},
                    "commission": {"model": "per_share", "rate": "0.005", "minimum": 1},
                }
            ),
        ),
    ):
        elapsed = min(run(config, bars) for _ in range(3))
        print(
            f"{name:>16}: {N_SYMBOLS * ORDERS_PER_SYMBOL} working orders x {N_BARS} bars "
            f"in {elapsed:.3f} s -> {checks / elapsed:,.0f} orders processed/s "
            f"({elapsed / N_BARS * 1e3:.3f} ms per bar)"
        )


if __name__ == "__main__":
    main()
