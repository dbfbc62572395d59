"""``qtrader init DIR``: a new project that runs as it is, to start from.

It holds a config, a strategy file explaining the API in its comments, two symbols of
deterministic sample data (seeded random walks, standard library only, so the files are the
same on every machine) and a README of next steps. The project is written into a temporary
folder beside ``DIR`` and renamed into place, so an interrupted ``init`` leaves nothing half
written; an existing non-empty ``DIR`` is refused (nothing of the user's is overwritten).
"""

from __future__ import annotations

import math
import os
import random
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

from qtrader.models import QTraderError

SAMPLE_SYMBOLS = {"AAA": (11, 40.0, 0.0004, 0.016), "BBB": (12, 90.0, 0.0001, 0.021)}
"""symbol: (seed, first close, daily drift, daily volatility)."""
FIRST_DAY, LAST_DAY = date(2022, 1, 3), date(2023, 12, 29)


class ScaffoldError(QTraderError):
    """The target folder cannot take a new project."""


CONFIG = f"""\
# A QTrader backtest. Run it with:  qtrader backtest config.yaml --output results
start: {FIRST_DAY + timedelta(days=45)}
end: {LAST_DAY}
initial_cash: 100000
warmup_bars: 20            # bars before `start` that only feed indicators

data:
  source: csv              # one SYMBOL.csv per symbol: date,open,high,low,close,volume
  path: data               # relative to this file
  symbols: [AAA, BBB]

strategy:
  name: strategy.py:Breakout   # a built-in name (sma_crossover, ...) or file.py:Class
  params: {{lookback: 20, quantity: 100}}

execution:                 # fills: market orders at the next bar's open
  slippage: {{model: bps, bps: 5}}
  commission: {{model: per_share, rate: 0.005, minimum: 1.0}}
"""

STRATEGY = '''\
"""A breakout strategy: the file named in config.yaml (strategy.name: strategy.py:Breakout).

QTrader calls on_bar once per timestamp, after the bars of that time are known. Orders
are decided at the bar's close and fill at the next bar's open (never at a price the
strategy could not have traded at).
"""

from __future__ import annotations

from pydantic import Field

from qtrader.models import BaseStrategy, FrozenModel, StrategyContext


class BreakoutParams(FrozenModel):
    """The `params:` of the config, validated: a wrong key or value is reported by name."""

    lookback: int = Field(default=20, ge=2)
    quantity: int = Field(default=100, gt=0)


class Breakout(BaseStrategy):
    """Long when the close makes a new `lookback`-bar high, flat on a new `lookback`-bar low."""

    Params = BreakoutParams

    def __init__(self, params: BreakoutParams) -> None:
        self.params = params
        # The most history on_bar reads: with it the engine keeps only that many bars.
        self.history_bars = params.lookback + 1

    def on_bar(self, ctx: StrategyContext) -> None:
        n = self.params.lookback
        for symbol in ctx.symbols:
            if not ctx.has_bar(symbol):
                continue  # no bar for this symbol now (not listed yet, a holiday)
            closes = ctx.history(symbol, "close", n + 1)  # read-only, up to this bar
            if len(closes) < n + 1:
                continue  # not enough history yet
            today, before = closes[-1], closes[:-1]
            if today > before.max():
                # Targets order the difference from what is held (and cancel working orders).
                ctx.order_target_quantity(symbol, self.params.quantity)
            elif today < before.min():
                ctx.order_target_quantity(symbol, 0)
            # Also: ctx.buy / ctx.sell (limit_price=, stop_price=), ctx.order_target_percent,
            # ctx.position(symbol), ctx.equity, ctx.cash, ctx.open_orders(), ctx.log(...).
'''

README = """\
# A QTrader project

Made by `qtrader init`. It runs as it is:

```bash
qtrader backtest config.yaml --output results
```

Next steps:

1. Read `strategy.py`: the strategy API in about 40 lines. Change the rules, or point
   `strategy.name` in `config.yaml` at a built-in (`sma_crossover`, `buy_and_hold`,
   `bollinger_mean_reversion`, `monthly_rebalance`).
2. Put your own data in `data/` (one `SYMBOL.csv` per symbol, columns
   `date,open,high,low,close,volume`, dates `YYYY-MM-DD`) and list the symbols in
   `config.yaml`. Other sources (Parquet, Yahoo, Algoseek, Schwab) are described in the
   QTrader README.
3. Check the strategy never uses the future: `qtrader check-lookahead config.yaml`.
4. Look at `results/`: fills, orders, equity, trades, risk decisions and metrics as CSV/JSON.

The sample data in `data/` is synthetic (seeded random walks): no real prices.
"""


def _normal(rng: random.Random) -> float:
    u1, u2 = 1.0 - rng.random(), rng.random()
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def sample_csv(seed: int, price: float, drift: float, vol: float) -> str:
    """Weekday bars from FIRST_DAY to LAST_DAY, prices in cents, valid OHLC."""
    rng = random.Random(seed)
    lines = ["date,open,high,low,close,volume"]
    close, day = price, FIRST_DAY
    while day <= LAST_DAY:
        if day.weekday() < 5:
            open_ = close * math.exp(0.3 * vol * _normal(rng))
            close = open_ * math.exp(drift + vol * _normal(rng))
            high = max(open_, close) * (1 + abs(0.5 * vol * _normal(rng)))
            low = min(open_, close) * (1 - abs(0.5 * vol * _normal(rng)))
            volume = int(500_000 * math.exp(0.4 * _normal(rng)))
            o, h, lo, c = (round(x, 2) for x in (open_, high, low, close))
            h, lo = max(h, o, c), min(lo, o, c)  # rounding kept inside the range
            lines.append(f"{day},{o:.2f},{h:.2f},{lo:.2f},{c:.2f},{volume}")
        day += timedelta(days=1)
    return "\n".join(lines) + "\n"


def scaffold(target: Path) -> list[Path]:
    """Write a new project into ``target`` (which must not exist or be empty); the files."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} already exists and is not an empty folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        (temp / "config.yaml").write_text(CONFIG, encoding="utf-8")
        (temp / "strategy.py").write_text(STRATEGY, encoding="utf-8")
        (temp / "README.md").write_text(README, encoding="utf-8")
        (temp / "data").mkdir()
        for symbol, (seed, price, drift, vol) in SAMPLE_SYMBOLS.items():
            text = sample_csv(seed, price, drift, vol)
            (temp / "data" / f"{symbol}.csv").write_text(text, encoding="utf-8")
        temp.chmod(0o777 & ~_umask())  # mkdtemp makes it 0700: the umask decides, as for mkdir
        if target.exists():
            target.rmdir()  # empty (checked above)
        temp.rename(target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return sorted(p for p in target.rglob("*") if p.is_file())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
