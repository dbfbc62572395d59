"""backtrader: one Cerebro, every symbol a feed sharing one broker.

Market orders fill at the next bar's open (backtrader's default; cheat-on-open off), no
commission, 1,000,000 cash, ``stdstats=False`` (no observers: the lightest setting).
Data are preloaded by ``cerebro.run()`` before the strategy is built: the time until the
strategy's ``__init__`` is the loading time.

    python backtrader_peer.py --data DIR --fills FILLS.csv --json PHASES.json
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import backtrader as bt

FAST, SLOW, QUANTITY, CASH = 10, 30, 100, 1_000_000


def peak_rss_kib() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


MARKS: dict[str, float] = {}


class SmaCross(bt.Strategy):
    def __init__(self) -> None:
        MARKS.setdefault("strategy_built", time.perf_counter())
        self.fills: list[tuple[str, str, str, int, float]] = []
        self.averages = [
            (d, bt.indicators.SMA(d.close, period=FAST), bt.indicators.SMA(d.close, period=SLOW))
            for d in self.datas
        ]

    def next(self) -> None:
        for data, fast, slow in self.averages:
            if len(data) < SLOW + 1:  # both averages must exist at t-1
                continue
            f0, f1, s0, s1 = fast[0], fast[-1], slow[0], slow[-1]
            held = self.getposition(data).size
            if f1 < s1 and f0 > s0 and held != QUANTITY:
                self.buy(data=data, size=QUANTITY - held)
            elif f1 > s1 and f0 < s0 and held != 0:
                self.sell(data=data, size=held)

    def notify_order(self, order: bt.Order) -> None:
        if order.status == order.Completed:
            self.fills.append(
                (
                    bt.num2date(order.executed.dt).date().isoformat(),
                    order.data._name,
                    "buy" if order.isbuy() else "sell",
                    abs(int(order.executed.size)),
                    order.executed.price,
                )
            )
        elif order.status in (order.Canceled, order.Margin, order.Rejected):
            raise RuntimeError(f"order not filled: {order}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--fills", type=Path, required=True)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    cerebro = bt.Cerebro(stdstats=False)
    for path in sorted(args.data.glob("*.csv")):
        feed = bt.feeds.GenericCSVData(
            dataname=str(path),
            dtformat="%Y-%m-%d",
            datetime=0,
            open=1,
            high=2,
            low=3,
            close=4,
            volume=5,
            openinterest=-1,
        )
        cerebro.adddata(feed, name=path.stem)
    cerebro.broker.setcash(CASH)
    cerebro.addstrategy(SmaCross)
    (strategy,) = cerebro.run()
    finished = time.perf_counter()
    loaded = MARKS.get("strategy_built", started)
    lines = ["date,symbol,side,quantity,price"]
    lines += [f"{d},{s},{side},{q},{p!r}" for d, s, side, q, p in strategy.fills]
    args.fills.write_text("\n".join(lines) + "\n")
    report = {
        "load_seconds": loaded - started,
        "backtest_seconds": finished - loaded,
        "peak_rss_kib": peak_rss_kib(),
        "version": bt.__version__,
    }
    args.json.write_text(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
