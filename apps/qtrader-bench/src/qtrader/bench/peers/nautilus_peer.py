"""NautilusTrader: one ``BacktestEngine``, one venue with a cash account, daily bars.

NautilusTrader 1.221 has no "fill at the next bar's open" option: with ``bar_execution``
a bar moves the simulated market through open, high, low and close *before* the strategy
sees it, so a market order sent from ``on_bar`` fills at that bar's close (the maintainers'
issues #1214, #1537 and #4063 describe this; a latency model does not help either). Here the
venue is set up so that the decision is taken at the close and the market order is filled
at the next open, as in every other library:

- each daily bar is timestamped at the close (21:00 UTC) and, with ``bar_execution=False``,
  only feeds the strategy (its two ``SimpleMovingAverage`` indicators);
- each day's open is also fed as a trade tick at 14:30 UTC, with ``trade_execution=True``:
  it sets the simulated market to the open;
- the strategy records the target decided in ``on_bar`` at the close and submits the market
  order on the next trade tick of that instrument, which fills at once at that open. A target
  decided on the last bar never sees another tick: it never fills.

Venue: ``OmsType.NETTING``, ``AccountType.CASH``, 1,000,000 USD, no fees (the equities'
maker and taker fees are 0), default fill model (no slippage), L1 book, logging at ERROR,
``run_analysis=False``; the data are sorted once, by the last ``add_data`` call.

    python nautilus_peer.py --data DIR --fills FILLS.csv --json PHASES.json
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import pandas as pd
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.core.datetime import unix_nanos_to_dt
from nautilus_trader.indicators import SimpleMovingAverage
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import Bar, BarType, TradeTick
from nautilus_trader.model.enums import AccountType, OmsType, OrderSide
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import InstrumentId, Symbol, Venue
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.persistence.wranglers import BarDataWrangler, TradeTickDataWrangler
from nautilus_trader.trading.strategy import Strategy

FAST, SLOW, QUANTITY, CASH = 10, 30, 100, 1_000_000
VENUE = Venue("SIM")


def peak_rss_kib() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def equity(symbol: str) -> Equity:
    return Equity(
        instrument_id=InstrumentId(Symbol(symbol), VENUE),
        raw_symbol=Symbol(symbol),
        currency=USD,
        price_precision=6,
        price_increment=Price.from_str("0.000001"),
        lot_size=Quantity.from_int(1),
        ts_event=0,
        ts_init=0,
    )


def bar_type(instrument: Equity) -> BarType:
    return BarType.from_str(f"{instrument.id}-1-DAY-LAST-EXTERNAL")


class SmaCross(Strategy):
    def __init__(self, instruments: list[Equity]) -> None:
        super().__init__()
        self.instruments = instruments
        self.averages: dict[InstrumentId, tuple[SimpleMovingAverage, SimpleMovingAverage]] = {}
        self.previous: dict[InstrumentId, tuple[float, float]] = {}
        self.pending: dict[InstrumentId, int] = {}
        self.held: dict[InstrumentId, int] = {}
        self.fills: list[tuple[str, str, str, int, float]] = []

    def on_start(self) -> None:
        for instrument in self.instruments:
            fast, slow = SimpleMovingAverage(FAST), SimpleMovingAverage(SLOW)
            self.averages[instrument.id] = (fast, slow)
            self.register_indicator_for_bars(bar_type(instrument), fast)
            self.register_indicator_for_bars(bar_type(instrument), slow)
            self.subscribe_bars(bar_type(instrument))
            self.subscribe_trade_ticks(instrument.id)

    def on_bar(self, bar: Bar) -> None:
        instrument_id = bar.bar_type.instrument_id
        fast, slow = self.averages[instrument_id]
        if not slow.initialized:
            return
        now = (fast.value, slow.value)
        before = self.previous.get(instrument_id)
        self.previous[instrument_id] = now
        if before is None:  # both averages must exist at t-1
            return
        if before[0] < before[1] and now[0] > now[1]:
            self.pending[instrument_id] = QUANTITY
        elif before[0] > before[1] and now[0] < now[1]:
            self.pending[instrument_id] = 0

    def on_trade_tick(self, tick: TradeTick) -> None:
        target = self.pending.pop(tick.instrument_id, None)
        held = self.held.get(tick.instrument_id, 0)
        if target is None or target == held:
            return
        side = OrderSide.BUY if target > held else OrderSide.SELL
        order = self.order_factory.market(
            tick.instrument_id, side, Quantity.from_int(abs(target - held))
        )
        self.submit_order(order)
        self.held[tick.instrument_id] = target

    def on_order_filled(self, event: OrderFilled) -> None:
        self.fills.append(
            (
                unix_nanos_to_dt(event.ts_event).date().isoformat(),
                event.instrument_id.symbol.value,
                "buy" if event.order_side == OrderSide.BUY else "sell",
                int(event.last_qty),
                event.last_px.as_double(),
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--fills", type=Path, required=True)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    engine = BacktestEngine(
        config=BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR"), run_analysis=False)
    )
    engine.add_venue(
        venue=VENUE,
        oms_type=OmsType.NETTING,
        account_type=AccountType.CASH,
        starting_balances=[Money(CASH, USD)],
        base_currency=USD,
        bar_execution=False,
        trade_execution=True,
    )
    instruments = []
    paths = sorted(args.data.glob("*.csv"))
    for path in paths:
        instrument = equity(path.stem)
        instruments.append(instrument)
        engine.add_instrument(instrument)
        frame = pd.read_csv(path, index_col="date", parse_dates=["date"])
        days = pd.DatetimeIndex(frame.index)
        bars = frame[["open", "high", "low", "close", "volume"]].astype("float64")
        bars.index = days + pd.Timedelta(hours=21)
        engine.add_data(BarDataWrangler(bar_type(instrument), instrument).process(bars), sort=False)
        opens = pd.DataFrame(
            {
                "price": frame["open"].to_numpy(),
                "quantity": frame["volume"].astype("float64").to_numpy(),
                "trade_id": [f"{path.stem}-{i}" for i in range(len(frame))],
            },
            index=days + pd.Timedelta(hours=14, minutes=30),
        )
        # sorted once, by the last call: sorting the whole stream after every call is
        # quadratic (and 1.221's sort_data() cannot compare bars)
        last = path == paths[-1]
        engine.add_data(TradeTickDataWrangler(instrument).process(opens), sort=last)
    strategy = SmaCross(instruments)
    engine.add_strategy(strategy)
    loaded = time.perf_counter()
    engine.run()
    finished = time.perf_counter()
    lines = ["date,symbol,side,quantity,price"]
    lines += [f"{d},{s},{side},{q},{p!r}" for d, s, side, q, p in strategy.fills]
    args.fills.write_text("\n".join(lines) + "\n")
    report = {
        "load_seconds": loaded - started,
        "backtest_seconds": finished - loaded,
        "peak_rss_kib": peak_rss_kib(),
    }
    args.json.write_text(json.dumps(report) + "\n")
    engine.dispose()


if __name__ == "__main__":
    main()
