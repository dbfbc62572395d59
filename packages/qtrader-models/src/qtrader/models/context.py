"""The order helpers of a strategy context, written once over a few primitives.

The engine's context and the test fake both derive from ``OrderHelpers``, so
``buy``/``sell``/targets mean the same thing everywhere a strategy runs.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal

from qtrader.models._base import to_decimal
from qtrader.models.orders import Order, OrderRequest, OrderType, Side, TimeInForce
from qtrader.models.signals import Intent, Signal, SignalDirection

ZERO = Decimal(0)


class OrderHelpers(ABC):
    """Implements the asking half of ``StrategyContext`` (orders, targets, signals)."""

    # -- what a subclass provides ---------------------------------------------
    @property
    @abstractmethod
    def strategy_id(self) -> str: ...

    @property
    @abstractmethod
    def symbols(self) -> tuple[str, ...]: ...

    @property
    @abstractmethod
    def equity(self) -> Decimal: ...

    @abstractmethod
    def position(self, symbol: str) -> Decimal: ...

    @abstractmethod
    def open_orders(self) -> tuple[Order, ...]: ...

    @abstractmethod
    def _ask(self, intent: Intent) -> None:
        """Record one order or signal for risk."""

    @abstractmethod
    def _asked(self) -> Sequence[Intent]:
        """What was asked for since the last hand-over (not yet working)."""

    @abstractmethod
    def _last_close(self, symbol: str) -> Decimal | None: ...

    # -- the helpers ------------------------------------------------------------
    def buy(
        self,
        symbol: str,
        quantity: Decimal | int,
        *,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str | None = None,
    ) -> None:
        self._order(Side.BUY, symbol, quantity, limit_price, stop_price, time_in_force, tag)

    def sell(
        self,
        symbol: str,
        quantity: Decimal | int,
        *,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str | None = None,
    ) -> None:
        self._order(Side.SELL, symbol, quantity, limit_price, stop_price, time_in_force, tag)

    def order_target_quantity(self, symbol: str, target: Decimal | int) -> None:
        """Order the difference between ``target`` and what is already committed:
        position, orders still working, and orders asked for in this bar."""
        # The sums ``sum(..., start=ZERO)`` would make, in the same order, without generators.
        working = ZERO
        for order in self.open_orders():
            if order.symbol == symbol:
                working += order.signed_quantity
        asked = ZERO
        for intent in self._asked():
            if isinstance(intent, OrderRequest) and intent.symbol == symbol:
                asked += intent.signed_quantity
        committed = self.position(symbol) + working + asked
        delta = Decimal(target) - committed
        if delta > 0:
            self.buy(symbol, delta)
        elif delta < 0:
            self.sell(symbol, -delta)

    def order_target_percent(self, symbol: str, fraction: float) -> None:
        """Target ``fraction`` of equity at the last close, in whole shares rounded down."""
        if not math.isfinite(fraction):
            raise ValueError(f"order_target_percent needs a finite fraction, got {fraction!r}")
        price = self._last_close(symbol)
        if price is None:
            raise KeyError(f"no price for {symbol!r} yet: cannot size a target percent")
        value = self.equity * to_decimal(fraction)
        self.order_target_quantity(symbol, (value / price).to_integral_value(ROUND_FLOOR))

    def signal(self, symbol: str, direction: SignalDirection, strength: float = 1.0) -> None:
        self._check_symbol(symbol)
        self._ask(
            Signal(
                strategy_id=self.strategy_id, symbol=symbol, direction=direction, strength=strength
            )
        )

    def _check_symbol(self, symbol: str) -> None:
        if symbol not in self.symbols:
            raise KeyError(f"{symbol!r} is not in the universe {list(self.symbols)}")

    def _order(
        self,
        side: Side,
        symbol: str,
        quantity: Decimal | int,
        limit_price: Decimal | None,
        stop_price: Decimal | None,
        time_in_force: TimeInForce,
        tag: str | None,
    ) -> None:
        self._check_symbol(symbol)
        self._ask(
            OrderRequest(
                strategy_id=self.strategy_id,
                symbol=symbol,
                side=side,
                quantity=Decimal(quantity),
                type=OrderType.for_prices(limit_price, stop_price),
                limit_price=limit_price,
                stop_price=stop_price,
                time_in_force=time_in_force,
                tag=tag,
            )
        )
