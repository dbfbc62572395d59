"""Fill models: at what price (if any) a working order trades within one bar.

A fill model only sees the order and the bar's prices; it knows nothing of
time in force, slippage or commissions, which the service applies around it.
It never returns a price outside the bar's ``[low, high]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

from qtrader.execution.config import FillConfig
from qtrader.models import FloatArray, Order, OrderType, Side, to_decimal

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class BarPrices:
    """One symbol's bar as exact ``Decimal`` prices (from the float columns via
    ``to_decimal``), and its volume (what a volume cap and an impact model read)."""

    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = Decimal(0)

    @classmethod
    def from_columns(
        cls,
        open: FloatArray,
        high: FloatArray,
        low: FloatArray,
        close: FloatArray,
        i: int,
        volume: FloatArray | None = None,
    ) -> BarPrices:
        """Row ``i`` of the columns; each price becomes its ``to_decimal`` when first read
        (a market order reads only the open), the same Decimal as if made at once."""
        return _ColumnBarPrices((open, high, low, close, volume), i)


class _ColumnBarPrices(BarPrices):
    """A ``BarPrices`` read lazily from a slice's columns."""

    __slots__ = ("_columns", "_i", "_made")
    _columns: tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray | None]
    _i: int
    _made: list[Decimal | None]

    def __init__(
        self,
        columns: tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray | None],
        i: int,
    ) -> None:
        object.__setattr__(self, "_columns", columns)
        object.__setattr__(self, "_i", i)
        object.__setattr__(self, "_made", [None, None, None, None, None])

    def _price(self, k: int) -> Decimal:
        made = self._made
        price = made[k]
        if price is None:
            column = self._columns[k]
            price = made[k] = ZERO if column is None else to_decimal(column[self._i])
        return price

    @property
    def open(self) -> Decimal:
        return self._price(0)

    @property
    def high(self) -> Decimal:
        return self._price(1)

    @property
    def low(self) -> Decimal:
        return self._price(2)

    @property
    def close(self) -> Decimal:
        return self._price(3)

    @property
    def volume(self) -> Decimal:
        return self._price(4)


@dataclass(frozen=True, slots=True)
class Match:
    """What a fill model decided for one order in one bar.

    ``price`` is ``None`` when the order does not trade in this bar.
    ``at_open`` says the order was marketable at the open (it trades at the
    open price, stamped with the bar's ``opened_at``). ``triggered`` is the
    stop condition of a stop or stop-limit order, met in this bar or before;
    the service remembers it, so what a triggered stop left to fill goes at
    market and a triggered stop-limit rests as a limit order.
    """

    price: Decimal | None
    at_open: bool = False
    triggered: bool = False


NO_MATCH = Match(price=None)


@runtime_checkable
class FillModel(Protocol):
    """Decides the fill price of one working order against one bar."""

    @property
    def name(self) -> str:
        """The name printed with the results (the config's ``model``)."""
        ...

    def match(self, order: Order, triggered: bool, bar: BarPrices) -> Match: ...


class NextOpenFillModel:
    """Conservative OHLC fills, with gaps handled; the order was decided on an earlier bar.

    - Market: the open.
    - Limit buy: trades if ``low <= limit``, at ``min(open, limit)`` (an open
      below the limit is a better price and the order was marketable there).
      Limit sell: ``high >= limit``, at ``max(open, limit)``. A touch fills.
    - Stop buy: triggers if ``high >= stop``, fills at ``max(open, stop)``:
      a bar that opens above the stop fills at that worse open, never at the
      stop. Stop sell: ``low <= stop``, at ``min(open, stop)``.
    - Stop-limit (buy; sell mirrors): triggers like a stop, at
      ``t = max(open, stop)``. In the trigger bar it fills

      * at ``t`` if ``t <= limit`` (the market was at ``t``, within the limit);
      * else at ``limit`` if the trigger was at the open (``open >= stop``, so
        the whole bar came after it) and ``low <= limit``;
      * else not in this bar: the OHLC bar cannot tell whether the low came
        before or after the trigger, so we assume the worse (before).

      Once triggered it is a plain limit order in later bars.

    - A stop that triggered is a market order: what it left to fill (under a
      participation cap) fills at the open of later bars.

    - Market-on-open: the open. Market-on-close: the close. The service offers
      them only the bar that opens (closes) their session, never the decision bar.
    - Trailing stop: the service hands it over as a stop at its current level.

    The intra-bar path is unknown; every rule above picks a price the bar
    certainly traded at or after the condition, and no better.
    """

    name = "next_open"

    def match(self, order: Order, triggered: bool, bar: BarPrices) -> Match:
        kind = order.type
        if kind is OrderType.MARKET or kind is OrderType.MARKET_ON_OPEN:
            return Match(price=bar.open, at_open=True)
        if kind is OrderType.LIMIT:
            return _limit(order.side, _price(order.limit_price), bar)
        if kind is OrderType.STOP:
            if triggered:  # a stop that triggered is a market order (what it left to fill)
                return Match(price=bar.open, at_open=True, triggered=True)
            return _stop(order.side, _price(order.stop_price), bar)
        if kind is OrderType.MARKET_ON_CLOSE:
            return Match(price=bar.close)
        if kind is OrderType.TRAILING_STOP:
            raise ValueError(
                f"order {order.id}: a trailing stop is matched as a stop at its current "
                "level (the service does that); the fill model never sees one"
            )
        limit = _price(order.limit_price)
        if triggered:
            return _limit(order.side, limit, bar, triggered=True)
        return _stop_limit(order.side, _price(order.stop_price), limit, bar)


def _price(value: Decimal | None) -> Decimal:
    # OrderRequest validation guarantees the price its type needs.
    assert value is not None, "an order of this type always carries this price"
    return value


def _limit(side: Side, limit: Decimal, bar: BarPrices, *, triggered: bool = False) -> Match:
    if side is Side.BUY:
        if bar.open <= limit:
            return Match(price=bar.open, at_open=True, triggered=triggered)
        if bar.low <= limit:
            return Match(price=limit, triggered=triggered)
    else:
        if bar.open >= limit:
            return Match(price=bar.open, at_open=True, triggered=triggered)
        if bar.high >= limit:
            return Match(price=limit, triggered=triggered)
    return Match(price=None, triggered=triggered)


def _stop(side: Side, stop: Decimal, bar: BarPrices) -> Match:
    if side is Side.BUY:
        if bar.open >= stop:
            return Match(price=bar.open, at_open=True, triggered=True)
        if bar.high >= stop:
            return Match(price=stop, triggered=True)
    else:
        if bar.open <= stop:
            return Match(price=bar.open, at_open=True, triggered=True)
        if bar.low <= stop:
            return Match(price=stop, triggered=True)
    return NO_MATCH


def _stop_limit(side: Side, stop: Decimal, limit: Decimal, bar: BarPrices) -> Match:
    trigger = _stop(side, stop, bar)
    if trigger.price is None:
        return NO_MATCH
    at = trigger.price
    # "Better or equal to the limit" is <= for a buy and >= for a sell.
    within_limit = at <= limit if side is Side.BUY else at >= limit
    if within_limit:
        return Match(price=at, at_open=trigger.at_open, triggered=True)
    reachable = bar.low <= limit if side is Side.BUY else bar.high >= limit
    if trigger.at_open and reachable:
        return Match(price=limit, triggered=True)
    return Match(price=None, triggered=True)


def build_fill_model(config: FillConfig) -> FillModel:
    """The fill model a config names."""
    # Only one model exists yet; the config's Literal type already refused others.
    return NextOpenFillModel()
