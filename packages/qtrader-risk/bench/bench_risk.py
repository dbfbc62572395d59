"""Prints the cost of deciding 1, 100 and 1,000 intents, under the conservative preset and
under the full policy (every sizing input and every limit switched on).

Run: uv run --frozen python packages/qtrader-risk/bench/bench_risk.py
A benchmark, not a test: it asserts nothing about speed.

The portfolio is a dict-backed view (constant-time lookups, a snapshot made once) so
that the figures are the risk service's own cost, not a fake portfolio's.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from qtrader.models import (
    BarSlice,
    Intent,
    OrderRequest,
    PortfolioState,
    Position,
    Side,
    Signal,
    SignalDirection,
)
from qtrader.models.testing import make_bar, ny_close
from qtrader.risk import PreTradeRiskService, RiskConfig

DAY = date(2024, 1, 31)
AT = ny_close(DAY)
ADV_WINDOW = 20

FULL_POLICY: dict[str, Any] = {
    "allow_short": False,
    "cash_buffer": "0.05",
    "sizing": {"method": "percent_of_equity", "fraction": "0.01", "scale_by_strength": True},
    "min_quantity": 1,
    "min_ticket_value": 100,
    "on_breach": "resize",
    "max_position_pct": "0.2",
    "max_gross_leverage": "1.5",
    "max_net_leverage": "1",
    "max_open_positions": 5_000,
    "max_adv_participation": "0.1",
    "adv_window": ADV_WINDOW,
    "drawdown_breaker": {"threshold": "0.2", "recover_to": "0.1"},
    "daily_loss_limit": "0.05",
    "strategy_budgets": {"s1": "0.8"},
}


class DictView:
    """A read-only portfolio of fixed cash and positions, all marked at ``prices``."""

    def __init__(
        self,
        cash: Decimal,
        positions: dict[tuple[str, str], Decimal],
        prices: dict[str, Decimal],
    ) -> None:
        self._cash = cash
        self._by_strategy = positions
        self._by_symbol: dict[str, Decimal] = {}
        for (_, symbol), quantity in positions.items():
            self._by_symbol[symbol] = self._by_symbol.get(symbol, Decimal(0)) + quantity
        held = [
            Position.model_construct(
                symbol=s, quantity=q, market_price=prices[s], market_value=q * prices[s]
            )
            for s, q in sorted(self._by_symbol.items())
        ]
        value = sum((p.market_value for p in held), start=Decimal(0))
        self._state = PortfolioState.model_construct(
            cash=cash, equity=cash * 2, market_value=value, positions=tuple(held)
        )

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
        return self._state


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
    return intents, DictView(Decimal(1_000) * n, positions, prices), prices


def warm_up(service: PreTradeRiskService, view: DictView, prices: dict[str, Decimal]) -> None:
    """Show the service ADV_WINDOW + 1 daily slices of every symbol (volumes of 5,000)."""
    symbols = sorted(prices)
    for back in range(ADV_WINDOW, -1, -1):
        day = DAY - timedelta(days=back)
        bars = [make_bar(s, day, float(prices[s]), volume=5_000.0) for s in symbols]
        service.observe(BarSlice.from_bars(bars), view)


def run(title: str, config: RiskConfig, observe: bool) -> None:
    print(f"{title}: {config.model_dump(exclude_defaults=True)}")
    print(f"{'intents':>8} {'per batch':>12} {'per intent':>12} {'approved':>9} {'resized':>8}")
    for n in (1, 100, 1_000):
        intents, view, prices = batch(n)
        service = PreTradeRiskService(config)
        if observe:
            warm_up(service, view, prices)
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


def main() -> None:
    run("conservative", RiskConfig.preset("conservative", signal_quantity=100), observe=False)
    print()
    run("full policy", RiskConfig.from_mapping(FULL_POLICY), observe=True)


if __name__ == "__main__":
    main()
