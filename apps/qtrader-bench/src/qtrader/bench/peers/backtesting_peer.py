"""backtesting.py: one ``Backtest`` per symbol (it is single-instrument).

``trade_on_close=False`` (market orders fill at the next bar's open), no commission, no
spread, ``margin=1`` (no leverage), ``exclusive_orders=False``, whole-share sizes (100 is
an absolute number of units), 1,000,000 cash per symbol (more than enough: the rules never
run out of cash). Averages are ``pandas`` rolling means through ``Strategy.I``.

    python backtesting_peer.py --data DIR --fills FILLS.csv --json PHASES.json
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import warnings
from pathlib import Path

import pandas as pd
from backtesting import Backtest, Strategy

FAST, SLOW, QUANTITY, CASH = 10, 30, 100, 1_000_000


def peak_rss_kib() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def sma(values: object, period: int) -> pd.Series:
    return pd.Series(values).rolling(period).mean()


class SmaCross(Strategy):
    def init(self) -> None:
        self.fast = self.I(sma, self.data.Close, FAST)
        self.slow = self.I(sma, self.data.Close, SLOW)

    def next(self) -> None:
        if len(self.data) < SLOW + 1:  # both averages must exist at t-1
            return
        f0, f1, s0, s1 = self.fast[-1], self.fast[-2], self.slow[-1], self.slow[-2]
        held = self.position.size
        if f1 < s1 and f0 > s0 and held != QUANTITY:
            self.buy(size=QUANTITY - held)
        elif f1 > s1 and f0 < s0 and held != 0:
            self.position.close()


def load(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, index_col="date", parse_dates=["date"])
    return frame.rename(columns=str.capitalize)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--fills", type=Path, required=True)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # e.g. "some trades remain open at the end"
    started = time.perf_counter()
    frames = {path.stem: load(path) for path in sorted(args.data.glob("*.csv"))}
    loaded = time.perf_counter()
    fills: list[tuple[str, str, str, int, float]] = []
    for symbol, frame in frames.items():
        backtest = Backtest(
            frame,
            SmaCross,
            cash=CASH,
            commission=0.0,
            margin=1.0,
            trade_on_close=False,
            hedging=False,
            exclusive_orders=False,
            finalize_trades=False,
        )
        stats = backtest.run()
        strategy = stats._strategy
        for trade in [*strategy.closed_trades, *strategy.trades]:
            side = "buy" if trade.size > 0 else "sell"
            other = "sell" if trade.size > 0 else "buy"
            size = abs(int(trade.size))
            fills.append(
                (trade.entry_time.date().isoformat(), symbol, side, size, trade.entry_price)
            )
            if trade.exit_time is not None:
                fills.append(
                    (trade.exit_time.date().isoformat(), symbol, other, size, trade.exit_price)
                )
    finished = time.perf_counter()
    lines = ["date,symbol,side,quantity,price"]
    lines += [f"{d},{s},{side},{q},{float(p)!r}" for d, s, side, q, p in fills]
    args.fills.write_text("\n".join(lines) + "\n")
    report = {
        "load_seconds": loaded - started,
        "backtest_seconds": finished - loaded,
        "peak_rss_kib": peak_rss_kib(),
    }
    args.json.write_text(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
