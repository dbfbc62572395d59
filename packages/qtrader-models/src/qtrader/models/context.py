"""The order helpers of a strategy context, written once over a few primitives.

The engine's context and the test fake both derive from ``OrderHelpers``, so
``buy``/``sell``/targets mean the same thing everywhere a strategy runs.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from qtrader.models._base import to_decimal
from qtrader.models.orders import (
    Order,
    OrderRequest,
    OrderType,
    ReplaceRequest,
    Side,
    TimeInForce,
)
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
        trailing: Decimal | int | str | None = None,
    ) -> None:
        """Buy; the order type follows from the prices given (none: market). ``trailing``
        makes it a trailing stop: an amount (``Decimal("0.50")``) or a percent (``"2%"``)."""
        self._order(
            Side.BUY,
            symbol,
            quantity,
            limit_price,
            stop_price,
            time_in_force,
            tag,
            **_trailing_fields(trailing),
        )

    def sell(
        self,
        symbol: str,
        quantity: Decimal | int,
        *,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str | None = None,
        trailing: Decimal | int | str | None = None,
    ) -> None:
        """Sell; the order type follows from the prices given (none: market). ``trailing``
        makes it a trailing stop: an amount (``Decimal("0.50")``) or a percent (``"2%"``)."""
        self._order(
            Side.SELL,
            symbol,
            quantity,
            limit_price,
            stop_price,
            time_in_force,
            tag,
            **_trailing_fields(trailing),
        )

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
        **fields: Any,
    ) -> None:
        """``fields``: further ``OrderRequest`` fields (a ``type`` replaces the one the
        prices imply: a trailing stop; a bracket's exit prices)."""
        self._check_symbol(symbol)
        kind = fields.pop("type", None) or OrderType.for_prices(limit_price, stop_price)
        self._ask(
            OrderRequest(
                strategy_id=self.strategy_id,
                symbol=symbol,
                side=side,
                quantity=Decimal(quantity),
                type=kind,
                limit_price=limit_price,
                stop_price=stop_price,
                time_in_force=time_in_force,
                tag=tag,
                **fields,
            )
        )

    # -- brackets and replaces (issue 7) ---------------------------------------------
    def bracket(
        self,
        symbol: str,
        quantity: Decimal | int,
        *,
        stop_loss: Decimal | int | str | None,
        take_profit: Decimal | int | str | None,
        side: Side = Side.BUY,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str | None = None,
    ) -> None:
        """Enter (market, or limit/stop by the prices given); once the entry fills, the
        venue places the exits on the other side: a stop at ``stop_loss`` and a limit at
        ``take_profit`` (``None``: no such exit), one cancelling the other. For a buy,
        ``stop_loss`` < entry price < ``take_profit``; a sell mirrors."""
        self._order(
            side,
            symbol,
            quantity,
            limit_price,
            stop_price,
            time_in_force,
            tag,
            stop_loss_price=_decimal_or_none(stop_loss),
            take_profit_price=_decimal_or_none(take_profit),
        )

    def replace(
        self,
        order_id: str,
        *,
        quantity: Decimal | int | None = None,
        limit_price: Decimal | int | str | None = None,
        stop_price: Decimal | int | str | None = None,
    ) -> None:
        """Ask the venue to modify one of this strategy's working orders (it keeps its id
        and place) from the next bar on. The venue answers with an order update:
        ``REPLACED`` and what changed, or the order's status and why it could not."""
        self._ask_replace(
            ReplaceRequest(
                strategy_id=self.strategy_id,
                order_id=order_id,
                quantity=_decimal_or_none(quantity),
                limit_price=_decimal_or_none(limit_price),
                stop_price=_decimal_or_none(stop_price),
            )
        )

    def _ask_replace(self, request: ReplaceRequest) -> None:
        """Record one replace for the venue (a context that sends replaces overrides this)."""
        raise NotImplementedError(f"{type(self).__name__} does not send replaces to a venue")


def _decimal_or_none(value: Decimal | int | str | None) -> Decimal | None:
    """A price or quantity as an exact ``Decimal`` (a float through ``str``)."""
    if value is None or isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None


def _trailing_fields(trailing: Decimal | int | str | None) -> dict[str, Any]:
    """The ``OrderRequest`` fields of a trailing stop: ``"2%"`` trails by 2 percent, an
    amount (``Decimal("0.50")``, ``"0.50"``) by that much."""
    if trailing is None:
        return {}
    try:
        if isinstance(trailing, str) and trailing.strip().endswith("%"):
            percent = Decimal(trailing.strip().removesuffix("%").strip())
            return {"type": OrderType.TRAILING_STOP, "trail_percent": percent}
        return {"type": OrderType.TRAILING_STOP, "trail_amount": _decimal_or_none(trailing)}
    except (InvalidOperation, ValueError):
        raise ValueError(
            f"trailing {trailing!r} is not an amount (such as Decimal('0.50')) or a percent "
            "(such as '2%')"
        ) from None
