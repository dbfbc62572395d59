"""Prints the cost of deciding 1, 100 and 1,000 intents with every limit on.

Run: uv run --frozen python packages/qtrader-risk/bench/bench_risk.py
A benchmark, not a test: it asserts nothing about speed.

The portfolio is a dict-backed view (constant-time lookups) so that the
figures are the risk service's own cost, not a fake portfolio's.
"""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

from qtrader.models import (
    Intent,
    OrderRequest,
    PortfolioState,
    Side,
    Signal,
    SignalDirection,
)
from qtrader.models.testing import ny_close
from qtrader.risk import PreTradeRiskService, RiskConfig

AT = ny_close(date(2024, 1, 2))


class DictView:
    """A read-only portfolio of fixed cash and positions."""

    def __init__(self, cash: Decimal, positions: dict[tuple[str, str], Decimal]) -> None:
        self._cash = cash
        self._by_strategy = positions
        self._by_symbol: dict[str, Decimal] = {}
        for (_, symbol), quantity in positions.items():
            self._by_symbol[symbol] = self._by_symbol.get(symbol, Decimal(0)) + quantity

    @property
    def cash(self) -> Decimal:
        return self._cash

    @property
    def equity(self) -> Decimal:
        return self._cash * 2

    def position(self, symbol: str, strategy_id: str | None = None) -> Decimal:
        if strategy_id is None:
            return self._by_symbol.get(symbol, Decimal(0))
        return self._by_strategy.get((strategy_id, symbol), Decimal(0))

    def last_price(self, symbol: str) -> Decimal | None:
        return None

    def snapshot(self) -> PortfolioState:
        raise NotImplementedError


def batch(n: int) -> tuple[list[Intent], DictView, dict[str, Decimal]]:
    """Half explicit orders (buys and sells), half signals, over n symbols."""
    symbols = [f"S{i:04d}" for i in range(n)]
    prices = {s: Decimal(10 + i % 490) + Decimal("0.25") for i, s in enumerate(symbols)}
    positions = {("s1", s): Decimal(50) for s in symbols[::3]}
    intents: list[Intent] = []
    directions = (SignalDirection.LONG, SignalDirection.FLAT, SignalDirection.SHORT)
    for i, symbol in enumerate(symbols):
        if i % 2:
            intents.append(Signal(strategy_id="s1", symbol=symbol, direction=directions[i % 3]))
        else:
            side = Side.BUY if i % 4 == 0 else Side.SELL
            intents.append(
                OrderRequest(strategy_id="s1", symbol=symbol, side=side, quantity=Decimal(80))
            )
    # Cash enough for roughly half the buys: resizes and rejections both happen.
    return intents, DictView(Decimal(1_000) * n, positions), prices


def main() -> None:
    config = RiskConfig.preset("conservative", signal_quantity=100)
    service = PreTradeRiskService(config)
    print(f"policy: {config.model_dump()}")
    print(f"{'intents':>8} {'per batch':>12} {'per intent':>12} {'approved':>9} {'resized':>8}")
    for n in (1, 100, 1_000):
        intents, view, prices = batch(n)
        repeat = max(1, 20_000 // n)
        start = time.perf_counter()
        for _ in range(repeat):
            decisions = service.decide(intents, view, prices, AT)
        per_batch = (time.perf_counter() - start) / repeat
        approved = sum(d.approved for d in decisions)
        resized = sum(
            d.order is not None and d.order is not d.intent and d.reason != "" for d in decisions
        )
        print(
            f"{n:>8} {per_batch * 1e3:>10.3f}ms {per_batch / n * 1e6:>10.1f}us "
            f"{approved:>9} {resized:>8}"
        )


if __name__ == "__main__":
    main()
