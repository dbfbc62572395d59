"""The order helpers of a strategy context, written once over a few primitives.

The engine's context and the test fake both derive from ``OrderHelpers``, so
``buy``/``sell``/targets mean the same thing everywhere a strategy runs.

Quantities from floats go through ``str`` and are rounded toward zero to the
instrument's lot size (``order_input``). A request that cannot become an order (an
unknown symbol, a quantity that is not positive or rounds to nothing, a price that is
not a finite positive number, a combination the order model refuses) is refused with
a reason naming the strategy, the symbol and the bar (an ``OrderRejection``), never
raised: the run goes on, and the refusal is in the results.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from qtrader.models.order_input import (
    OrderRejection,
    as_recorded,
    finite_number,
    order_quantity,
    price_or_none,
    problem_of,
    round_to_lot,
)
from qtrader.models.orders import (
    Order,
    OrderRequest,
    OrderType,
    ReplaceRequest,
    Side,
    TimeInForce,
)
from qtrader.models.portfolio import Lot
from qtrader.models.signals import Intent, Signal, SignalDirection

ZERO = Decimal(0)
Quantity = Decimal | int | float
"""A quantity as a strategy may give it (a float goes through ``str``)."""
Price = Decimal | int | float
"""A price as a strategy may give it (a float goes through ``str``)."""
_EXIT_PRICES = ("stop_loss_price", "take_profit_price")
# Every ``OrderRequest`` field in declaration order at its default (the required ones at
# ``None``, always set): a target's order is a copy with its own values, laid out as
# ``FrozenModel.trusted`` takes them without filling in defaults field by field.
_REQUEST_DEFAULTS: dict[str, Any] = {
    name: None if field.is_required() else field.get_default(call_default_factory=True)
    for name, field in OrderRequest.model_fields.items()
}


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
    def cancel(self, order_id: str) -> None:
        """Ask for one working order to be cancelled (once, however often asked)."""

    @abstractmethod
    def _ask(self, intent: Intent) -> None:
        """Record one order or signal for risk."""

    @abstractmethod
    def _withdraw(self, symbol: str) -> None:
        """Forget the orders (not signals) in ``symbol`` asked for since the last hand-over."""

    @abstractmethod
    def _last_close(self, symbol: str) -> Decimal | None: ...

    @abstractmethod
    def lots(self, symbol: str) -> tuple[Lot, ...]:
        """The strategy's open lots in ``symbol`` (what ``close_lots`` may name)."""

    @abstractmethod
    def _lot(self, symbol: str) -> Decimal:
        """The lot size of ``symbol``: quantities are whole multiples of it."""

    @abstractmethod
    def _decision_time(self) -> datetime | None:
        """The timestamp of the current bar, ``None`` before any."""

    @abstractmethod
    def _reject(self, rejection: OrderRejection) -> None:
        """Record one refused request."""

    @abstractmethod
    def _rejection_id(self) -> str:
        """A new id for a refused request (``R-000001``, ...)."""

    # -- the helpers ------------------------------------------------------------
    def buy(
        self,
        symbol: str,
        quantity: Quantity,
        *,
        limit_price: Price | None = None,
        stop_price: Price | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str | None = None,
        trailing: Decimal | int | str | None = None,
        close_lots: Sequence[str] = (),
        order_type: OrderType | str | None = None,
        expire_at: datetime | None = None,
    ) -> None:
        """Buy; the order type follows from the prices given (none: market). ``trailing``
        makes it a trailing stop: an amount (``Decimal("0.50")``) or a percent (``"2%"``).
        ``close_lots`` names lots of ``lots(symbol)`` that its fills close first.
        ``order_type`` names a type the prices cannot imply (``"market_on_open"``,
        ``"market_on_close"``); ``expire_at`` is the end of a ``gtd`` order.
        The quantity is rounded toward zero to the lot size (``10.3`` shares: 10)."""
        self._order(
            Side.BUY, symbol, quantity, limit_price, stop_price, time_in_force, tag, trailing,
            **_lot_fields(close_lots), **_type_fields(order_type, expire_at),
        )  # fmt: skip

    def sell(
        self,
        symbol: str,
        quantity: Quantity,
        *,
        limit_price: Price | None = None,
        stop_price: Price | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str | None = None,
        trailing: Decimal | int | str | None = None,
        close_lots: Sequence[str] = (),
        order_type: OrderType | str | None = None,
        expire_at: datetime | None = None,
    ) -> None:
        """Sell; the order type follows from the prices given (none: market). ``trailing``
        makes it a trailing stop: an amount (``Decimal("0.50")``) or a percent (``"2%"``).
        ``close_lots`` names lots of ``lots(symbol)`` that its fills close first.
        ``order_type`` names a type the prices cannot imply (``"market_on_open"``,
        ``"market_on_close"``); ``expire_at`` is the end of a ``gtd`` order.
        The quantity is rounded toward zero to the lot size."""
        self._order(
            Side.SELL, symbol, quantity, limit_price, stop_price, time_in_force, tag, trailing,
            **_lot_fields(close_lots), **_type_fields(order_type, expire_at),
        )  # fmt: skip

    def order_target_quantity(
        self, symbol: str, target: Quantity, *, limit_price: Price | None = None
    ) -> None:
        """Make this strategy's position in ``symbol`` become ``target`` (signed).

        The target replaces whatever this strategy had going in ``symbol``: its working
        orders there are cancelled and the orders it asked for there earlier in this bar
        are withdrawn (the last target of a bar wins); then the difference between
        ``target`` and the position is ordered, at market or as a limit order at
        ``limit_price``. ``target`` is rounded toward zero to the lot size.
        """
        try:
            self._check_symbol(symbol)
            wanted = round_to_lot(finite_number("target", target), self._lot(symbol))
            limit = price_or_none("limit_price", limit_price)
        except (KeyError, ValueError) as error:
            self._refuse_target(error, symbol, limit_price)
            return
        self._target(symbol, wanted, limit, None)

    def order_target_percent(
        self, symbol: str, fraction: float, *, limit_price: Price | None = None
    ) -> None:
        """Target ``fraction`` of equity in ``symbol`` (negative: short), sized at the last
        close and rounded toward zero to the lot size; then as ``order_target_quantity``.
        The order carries the last close as its ``sizing_price``."""
        try:
            self._check_symbol(symbol)
            share = finite_number("fraction", fraction)
            limit = price_or_none("limit_price", limit_price)
            price = self._last_close(symbol)
            if price is None:
                raise ValueError(f"no price for {symbol} yet: cannot size a target percent")
            equity = self.equity
            if share and equity <= 0:
                raise ValueError(
                    f"equity is {format(equity.normalize(), 'f')}: there is nothing to take a "
                    "percent of (a target of 0 still closes the position)"
                )
        except (KeyError, ValueError) as error:
            self._refuse_target(error, symbol, limit_price)
            return
        wanted = round_to_lot(equity * share / price, self._lot(symbol))
        self._target(symbol, wanted, limit, price)

    def signal(
        self,
        symbol: str,
        direction: SignalDirection,
        strength: float = 1.0,
        weight: float | Decimal | None = None,
    ) -> None:
        """Ask risk to size a position in ``symbol``; ``weight`` (> 0) is the fraction of
        equity a target-weight policy holds (``None``: the policy's own weight). A bad
        value is refused like a bad order (a rejection with its reason)."""
        try:
            self._check_symbol(symbol)
            signal = Signal(
                strategy_id=self.strategy_id,
                symbol=symbol,
                direction=direction,
                strength=strength,
                weight=None if weight is None else finite_number("weight", weight),
            )
        except (KeyError, ValueError) as error:
            self._refuse(error, f"signal {direction}", symbol)
            return
        self._ask(signal)

    def _check_symbol(self, symbol: str) -> None:
        if symbol not in self.symbols:
            raise KeyError(f"{symbol!r} is not in the universe {list(self.symbols)}")

    def _cancel_working(self, symbol: str) -> None:
        """Cancel this strategy's working orders in ``symbol`` (a context with an index of
        them by symbol overrides this scan)."""
        for order in self.open_orders():
            if order.symbol == symbol:
                self.cancel(order.id)

    def _target(
        self, symbol: str, target: Decimal, limit: Decimal | None, sizing: Decimal | None
    ) -> None:
        """Cancel and withdraw what is going in ``symbol``, then order ``target`` less the
        position. Every value is already checked, so the order is not validated again."""
        self._cancel_working(symbol)
        self._withdraw(symbol)
        delta = target - self.position(symbol)
        if target:  # getting flat closes every share, an odd lot included
            delta = round_to_lot(delta, self._lot(symbol))
        if not delta:
            return
        values = _REQUEST_DEFAULTS.copy()
        values["strategy_id"] = self.strategy_id
        values["symbol"] = symbol
        values["side"] = Side.BUY if delta > 0 else Side.SELL
        values["quantity"] = abs(delta)
        if limit is not None:
            values["type"] = OrderType.LIMIT
            values["limit_price"] = limit
        values["sizing_price"] = sizing
        self._ask(OrderRequest.trusted(values))

    def _order(
        self,
        side: Side,
        symbol: str,
        quantity: Quantity,
        limit_price: Price | None,
        stop_price: Price | None,
        time_in_force: TimeInForce,
        tag: str | None,
        trailing: Decimal | int | str | None = None,
        **fields: Any,
    ) -> None:
        """``fields``: further ``OrderRequest`` fields (a ``type`` replaces the one the
        prices imply; a bracket's exit prices are read like the other prices);
        ``trailing`` makes the order a trailing stop."""
        asked_type = fields.pop("type", None)
        kind = OrderType.for_prices(_given(limit_price), _given(stop_price))
        try:
            if asked_type is not None:
                kind = _order_type(asked_type)
            self._check_symbol(symbol)
            if trailing is not None:
                kind = OrderType.TRAILING_STOP
                trail = _trailing_fields(trailing)
                del trail["type"]
                fields.update(trail)
            for name in _EXIT_PRICES:
                if name in fields:
                    fields[name] = price_or_none(name, fields[name])
            request = OrderRequest(
                strategy_id=self.strategy_id,
                symbol=symbol,
                side=side,
                quantity=order_quantity(quantity, self._lot(symbol)),
                type=kind,
                limit_price=price_or_none("limit_price", limit_price),
                stop_price=price_or_none("stop_price", stop_price),
                time_in_force=time_in_force,
                tag=tag,
                **fields,
            )
            if request.close_lots:
                self._check_named_lots(request)
        except (KeyError, ValueError) as error:
            self._refuse(
                error,
                side.value,
                symbol,
                side=side,
                quantity=as_recorded(quantity),
                type=kind,
                limit_price=as_recorded(limit_price),
                stop_price=as_recorded(stop_price),
                time_in_force=time_in_force,
                tag=tag,
            )
            return
        self._ask(request)

    def _check_named_lots(self, request: OrderRequest) -> None:
        """Refuse naming a lot that is not an open lot of the strategy in the symbol now: the
        portfolio would refuse the fill after the venue had made it, and stop the run."""
        held = [lot.lot_id for lot in self.lots(request.symbol)]
        unknown = [name for name in request.close_lots if name not in held]
        if unknown:
            what = "is not an open lot" if len(unknown) == 1 else "are not open lots"
            raise ValueError(
                f"close_lots: {', '.join(unknown)} {what} of {self.strategy_id} in "
                f"{request.symbol} (its lots: {', '.join(held) or 'none'})"
            )

    def _refuse_target(self, error: Exception, symbol: str, limit_price: object) -> None:
        self._refuse(
            error,
            "target",
            symbol,
            type=OrderType.MARKET if limit_price is None else OrderType.LIMIT,
            limit_price=as_recorded(limit_price),
        )

    def _refuse(
        self,
        error: Exception,
        asked: str,
        symbol: str,
        *,
        side: Side | None = None,
        quantity: object = None,
        type: OrderType | None = None,
        limit_price: object = None,
        stop_price: object = None,
        time_in_force: object = None,
        tag: object = None,
    ) -> None:
        """Record a refused request: what was wrong, and where (strategy, what was
        asked, symbol, bar)."""
        problem = problem_of(error)
        at = self._decision_time()
        bar = "before any bar" if at is None else f"bar {at.isoformat()}"
        self._reject(
            OrderRejection(
                id=self._rejection_id(),
                created_at=at,
                strategy_id=self.strategy_id,
                symbol=str(symbol),
                side=side,
                quantity=quantity,
                type=type,
                limit_price=limit_price,
                stop_price=stop_price,
                time_in_force=time_in_force,
                tag=tag,
                problem=problem,
                reason=f"{problem} (strategy {self.strategy_id!r}, {asked} {symbol}, {bar})",
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
            stop_loss_price=stop_loss,
            take_profit_price=take_profit,
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
        ``REPLACED`` and what changed, or the order's status and why it could not. A value
        that is not a number (or not positive) is refused with a reason, like a bad order.
        ``quantity`` is what is left to fill after the change (as ``open_orders()`` shows
        it; what has filled stays filled), rounded toward zero to the lot size like an
        order's; one that rounds to nothing is refused."""
        working = {o.id: o.symbol for o in self.open_orders()}
        try:
            new_quantity = _decimal_or_none(quantity)
            if new_quantity is not None and order_id in working:
                new_quantity = order_quantity(new_quantity, self._lot(working[order_id]))
            request = ReplaceRequest(
                strategy_id=self.strategy_id,
                order_id=order_id,
                quantity=new_quantity,
                limit_price=_decimal_or_none(limit_price),
                stop_price=_decimal_or_none(stop_price),
            )
        except (ValueError, TypeError) as error:  # pydantic's ValidationError is a ValueError
            self._refuse(
                error,
                f"replace of {order_id} in",
                working.get(order_id, "(an order not working)"),
                quantity=as_recorded(quantity),
                limit_price=as_recorded(limit_price),
                stop_price=as_recorded(stop_price),
            )
            return
        self._ask_replace(request)

    def _ask_replace(self, request: ReplaceRequest) -> None:
        """Record one replace for the venue (a context that sends replaces overrides this)."""
        raise NotImplementedError(f"{type(self).__name__} does not send replaces to a venue")


def _type_fields(order_type: OrderType | str | None, expire_at: datetime | None) -> dict[str, Any]:
    """The ``type`` and ``expire_at`` fields of an order, those given only."""
    fields: dict[str, Any] = {}
    if order_type is not None:
        fields["type"] = order_type
    if expire_at is not None:
        fields["expire_at"] = expire_at
    return fields


def _order_type(value: object) -> OrderType:
    """An order type by name (``"market_on_close"``), or a clear error."""
    try:
        return OrderType(str(value))
    except ValueError:
        names = ", ".join(repr(t.value) for t in OrderType)
        raise ValueError(f"order_type must be one of {names}, got {value!r}") from None


def _lot_fields(close_lots: Sequence[str]) -> dict[str, Any]:
    """The ``close_lots`` field of an order (nothing when no lot is named): a tuple of the
    ids; anything but a sequence of strings is left for the request's validation to refuse."""
    if not close_lots:
        return {}
    if isinstance(close_lots, str):  # one id given bare: a lot id, not its characters
        return {"close_lots": (close_lots,)}
    return {"close_lots": tuple(close_lots)}


def _given(price: Price | None) -> Decimal | None:
    """A stand-in for a price, read or not, where only whether it was given matters."""
    return None if price is None else ZERO


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
