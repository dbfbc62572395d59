"""Cost of SimulatedExecutionService per bar, by the number and kind of working orders.

Not a test. Run: uv run --frozen python packages/qtrader-execution/bench/bench_execution.py

1. Throughput: 1,000 working GTC buy limits far below the market (so they all stay
   working), 10 on each of 100 symbols, over 1,000 timestamps: every timestamp checks
   every one of them against a bar of its symbol, 1,000,000 order-bar matches.
2. Cost per bar with 10, 1,000 and 10,000 working orders:
   - "on the bar's symbol": all of them on the one symbol that has a bar, so each is
     looked at on every bar (the cost grows with them, as it must);
   - "other symbols": 10 on that symbol, the rest on symbols without a bar at those
     timestamps; only the 10 are looked at, so the cost per bar stays flat;
   - "mixed kinds": as the first, a third each GTC limits, GTD limits and trailing stops
     that never trigger (the trailing stops and GTD limits take the slower path of
     orders with a time in force or a state to keep).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from qtrader.execution import ExecutionConfig, SimulatedExecutionService, load_execution_config
from qtrader.models import BarSlice, OrderRequest, OrderType, Side, TimeInForce

NY = ZoneInfo("America/New_York")
N_SYMBOLS = 100
ORDERS_PER_SYMBOL = 10
N_BARS = 1_000
SCALING_BARS = 200
SIZES = (10, 1_000, 10_000)


def slices(symbols: tuple[str, ...], start: date, n_bars: int = N_BARS) -> list[BarSlice]:
    rng = np.random.default_rng(7)  # seeded: the same bars every run
    price = np.full(len(symbols), 100.0)
    out = []
    for k in range(n_bars):
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


def far_limit(symbol: str, j: int, **fields: object) -> OrderRequest:
    return OrderRequest(
        strategy_id="bench",
        symbol=symbol,
        side=Side.BUY,
        quantity=Decimal(100),
        type=OrderType.LIMIT,
        limit_price=Decimal(1 + j % 50),  # far below ~100: never touched
        **fields,  # type: ignore[arg-type]
    )


def far_trailing(symbol: str, j: int) -> OrderRequest:
    # A buy trailing stop 1,000% above the lows: never triggers.
    return OrderRequest(
        strategy_id="bench",
        symbol=symbol,
        side=Side.BUY,
        quantity=Decimal(100),
        type=OrderType.TRAILING_STOP,
        trail_percent=Decimal(99),
    )


def timed(config: ExecutionConfig, bars: list[BarSlice], orders: list[OrderRequest]) -> float:
    """Seconds to process ``bars`` with ``orders`` working (none of them fills)."""
    svc = SimulatedExecutionService(config)
    before = bars[0].timestamp - timedelta(days=1)
    for request in orders:
        svc.submit(request, at=before)
    started = time.perf_counter()
    for sl in bars:
        report = svc.process(sl)
        assert not report.fills
        assert not report.updates
    elapsed = time.perf_counter() - started
    assert len(svc.open_orders()) == len(orders)
    return elapsed


def throughput() -> None:
    symbols = tuple(f"S{i:03d}" for i in range(N_SYMBOLS))
    bars = slices(symbols, date(2020, 1, 1))
    orders = [far_limit(s, j) for s in symbols for j in range(ORDERS_PER_SYMBOL)]
    checks = len(orders) * N_BARS
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
        elapsed = min(timed(config, bars, orders) for _ in range(3))
        print(
            f"{name:>16}: {len(orders)} working orders x {N_BARS} bars "
            f"in {elapsed:.3f} s -> {checks / elapsed:,.0f} orders processed/s "
            f"({elapsed / N_BARS * 1e3:.3f} ms per bar)"
        )


def scaling() -> None:
    bars = slices(("S000",), date(2020, 1, 1), SCALING_BARS)
    layouts: dict[str, Callable[[int], list[OrderRequest]]] = {
        "on the bar's symbol": lambda n: [far_limit("S000", j) for j in range(n)],
        "other symbols": lambda n: (
            [far_limit("S000", j) for j in range(10)]
            + [far_limit(f"X{j % 500:03d}", j) for j in range(n - 10)]
        ),
        "mixed kinds": lambda n: [
            far_limit("S000", j)
            if j % 3 == 0
            else far_limit(
                "S000",
                j,
                time_in_force=TimeInForce.GTD,
                expire_at=datetime(2099, 1, 1, tzinfo=NY),
            )
            if j % 3 == 1
            else far_trailing("S000", j)
            for j in range(n)
        ],
    }
    print(f"\ncost per bar ({SCALING_BARS} bars of one symbol, best of 3), by working orders:")
    print(f"{'':>22}" + "".join(f"{n:>14,}" for n in SIZES))
    config = ExecutionConfig()
    for name, make in layouts.items():
        cells = []
        for n in SIZES:
            orders = make(n)
            elapsed = min(timed(config, bars, orders) for _ in range(3))
            cells.append(f"{elapsed / SCALING_BARS * 1e6:>11,.0f} us")
        print(f"{name:>22}" + "".join(cells))


def main() -> None:
    throughput()
    scaling()


if __name__ == "__main__":
    main()
