"""Prints the cost of applying a fill and of marking 1, 100 and 1,000 positions.

``mark+equity`` is what a bar costs: marks are lazy, so the Decimal conversion of the
held symbols' closes happens at the first read of equity after a mark. The last table
is the cost, with financing on, of the first mark of each session with every position
short (each pays its borrow fee: one ledger entry per position and session).

Run: uv run --frozen python packages/qtrader-portfolio/bench/bench_portfolio.py
A benchmark, not a test: it asserts nothing about speed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from qtrader.models import BarSlice, Fill, Side
from qtrader.models.testing import ny_close
from qtrader.portfolio import FinancingConfig, LotPortfolioService, PortfolioConfig

AT = ny_close(date(2024, 1, 2))


def book(
    n_symbols: int, side: Side = Side.BUY, financing: FinancingConfig | None = None
) -> tuple[LotPortfolioService, BarSlice]:
    config = PortfolioConfig(initial_cash=Decimal(10**9))
    if financing is not None:
        config = config.model_copy(update={"financing": financing})
    portfolio = LotPortfolioService(config)
    symbols = tuple(f"S{i:04d}" for i in range(n_symbols))
    for i, symbol in enumerate(symbols):
        portfolio.apply_fill(
            Fill(
                id=f"F-{i}",
                order_id=f"O-{i}",
                strategy_id="s",
                symbol=symbol,
                side=side,
                quantity=Decimal(100),
                price=Decimal("12.34"),
                timestamp=AT,
            )
        )
    prices = np.linspace(10.0, 20.0, n_symbols)
    bars = BarSlice(
        timestamp=AT,
        opened_at=AT,
        symbols=symbols,
        open=prices,
        high=prices,
        low=prices,
        close=prices,
        volume=np.ones(n_symbols),
    )
    return portfolio, bars


def per_call(fn: object, repeat: int) -> float:
    assert callable(fn)
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    for n in (1, 100, 1000):
        portfolio, bars = book(n)
        counter = iter(range(10**9))

        def fill(p: LotPortfolioService = portfolio, ids: Iterator[int] = counter) -> None:
            k = next(ids)
            side = Side.BUY if k % 2 == 0 else Side.SELL
            p.apply_fill(
                Fill(
                    id=f"X-{k}",
                    order_id=f"XO-{k}",
                    strategy_id="s",
                    symbol="S0000",
                    side=side,
                    quantity=Decimal(10),
                    price=Decimal("12.50"),
                    timestamp=AT,
                )
            )

        mark_s = per_call(lambda p=portfolio, b=bars: p.mark(b), 200)
        equity_s = per_call(lambda p=portfolio: p.equity, 200)
        # What one bar costs the portfolio: the mark, then equity read once (which makes
        # the held symbols' closes exact Decimals; marks are lazy).
        bar_s = per_call(lambda p=portfolio, b=bars: (p.mark(b), p.equity), 200)
        snapshot_s = per_call(portfolio.snapshot, 20)
        fill_s = per_call(fill, 2000)
        print(
            f"{n:>5} positions: apply_fill {fill_s * 1e6:8.1f} us  mark {mark_s * 1e6:9.1f} us  "
            f"equity {equity_s * 1e6:9.1f} us  mark+equity {bar_s * 1e6:9.1f} us  "
            f"snapshot {snapshot_s * 1e3:8.2f} ms"
        )


def financing_main() -> None:
    financing = FinancingConfig(borrow_rate=Decimal("0.03"))
    for n in (1, 100, 1000):
        portfolio, bars = book(n, Side.SELL, financing)
        portfolio.mark(bars)
        sessions = iter(range(1, 10**6))

        def next_session(
            p: LotPortfolioService = portfolio, b: BarSlice = bars, n: Iterator[int] = sessions
        ) -> None:
            at = b.timestamp + timedelta(days=next(n))
            p.mark(replace(b, timestamp=at, opened_at=at))

        session_s = per_call(next_session, 50)
        print(f"{n:>5} shorts, financing on: first mark of a session {session_s * 1e6:9.1f} us")


if __name__ == "__main__":
    main()
    financing_main()
