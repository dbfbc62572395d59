"""check-lookahead: clean strategies pass, a strategy that reads tomorrow's close is caught."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from qtrader.cli.config import ConfigError, load_config
from qtrader.cli.lookahead import check_lookahead, choose_cuts

ROOT = Path(__file__).resolve().parents[3]

CHEAT = '''
import csv
from pathlib import Path

from qtrader.models import BaseStrategy


class TomorrowsClose(BaseStrategy):
    """Buys when tomorrow's close (read from the data files on its own) is higher."""

    def __init__(self, data: str, quantity: int = 10) -> None:
        self.folder = Path(data)
        self.quantity = quantity
        self.closes: dict[str, dict[str, float]] = {}

    def on_start(self, ctx):
        for symbol in ctx.symbols:
            with (self.folder / f"{symbol}.csv").open() as file:
                self.closes[symbol] = {r["date"]: float(r["close"]) for r in csv.DictReader(file)}

    def on_bar(self, ctx):
        today = ctx.timestamp.date().isoformat()
        for symbol in ctx.symbols:
            days = sorted(d for d in self.closes[symbol] if d > today)
            if not days:
                continue
            up = self.closes[symbol][days[0]] > self.closes[symbol][today]
            ctx.order_target_quantity(symbol, self.quantity if up else 0)


class TomorrowsLow(TomorrowsClose):
    """One limit buy, then every day a replace of its limit to tomorrow's low: its only
    decisions after the first are replaces."""

    def on_start(self, ctx):
        super().on_start(ctx)
        self.bought = False

    def on_bar(self, ctx):
        if not self.bought:
            self.bought = True
            ctx.buy("AAA", 1, limit_price=1)
            return
        today = ctx.timestamp.date().isoformat()
        days = sorted(d for d in self.closes["AAA"] if d > today)
        for order in ctx.open_orders() if days else ():
            ctx.replace(order.id, limit_price=self.closes["AAA"][days[0]] - 9.5)


class FileOfTomorrow(TomorrowsClose):
    """Reads one data file (given as a file, not as the folder)."""

    def __init__(self, file: str, quantity: int = 10) -> None:
        super().__init__(str(Path(file).parent), quantity)


class NeedsTomorrow(TomorrowsClose):
    """Fails outright when tomorrow's row is missing."""

    def on_bar(self, ctx):
        today = ctx.timestamp.date().isoformat()
        if today == "2024-02-12":  # the last day of the data: it knows there is no tomorrow
            return
        for symbol in ctx.symbols:
            tomorrow = min(d for d in self.closes[symbol] if d > today)
            ctx.order_target_quantity(symbol, self.quantity if tomorrow else 0)
'''


def weekdays(first: date, n: int) -> list[date]:
    days, day = [], first
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def project(tmp_path: Path, strategy: str) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    days = weekdays(date(2024, 1, 2), 30)
    rows = ["date,open,high,low,close,volume"]
    for i, day in enumerate(days):
        close = 10 + (i % 2)  # up, down, up, down: the cheat trades every day
        rows.append(f"{day},{close},{close + 0.5},{close - 0.5},{close},1000")
    (data / "AAA.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "cheat.py").write_text(CHEAT)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""
start: {days[0]}
end: {days[-1]}
initial_cash: 10000
data: {{source: csv, path: data, symbols: [AAA]}}
strategy: {strategy}
"""
    )
    return config


def test_a_strategy_reading_tomorrows_close_from_the_files_is_caught(tmp_path: Path) -> None:
    folder = tmp_path / "data"  # the data folder, given to the strategy as a param
    config = project(tmp_path, f"{{name: 'cheat.py:TomorrowsClose', params: {{data: '{folder}'}}}}")
    report = check_lookahead(load_config(config), tmp_path, points=5)
    assert not report.clean
    first = report.findings[0]
    # Every cut removes the close the cheat needs on the cut's own session: with the future
    # it ordered on that session; without, it asked nothing there.
    assert first.cut == report.cuts[0]
    assert first.with_future is not None
    assert first.with_future.timestamp.startswith(first.cut.isoformat())
    assert first.with_future.strategy_id == "cheat.py:TomorrowsClose"
    assert first.without_future is None
    assert "decided differently" in first.describe()
    assert len(report.findings) == len(report.cuts) == 5


def test_the_built_in_strategies_pass(tmp_path: Path) -> None:
    config = project(tmp_path, "{name: sma_crossover, params: {fast: 2, slow: 3, quantity: 10}}")
    report = check_lookahead(load_config(config), tmp_path, points=8)
    assert report.clean
    assert report.decisions > 0
    assert len(report.cuts) == 8


def test_the_example_strategies_pass() -> None:
    config = ROOT / "examples" / "multi_strategy.yaml"
    report = check_lookahead(load_config(config), config.parent, points=4)
    assert report.clean, [f.describe() for f in report.findings]


def test_cuts_spread_over_the_sessions_before_the_last() -> None:
    days = weekdays(date(2024, 1, 1), 11)
    assert choose_cuts(days, 3) == (days[0], days[5], days[9])
    assert choose_cuts(days, 50) == tuple(days[:-1])
    assert choose_cuts(days[:1], 3) == ()


def test_only_csv_data_can_be_cut(tmp_path: Path) -> None:
    config = project(tmp_path, "{name: buy_and_hold}")
    text = config.read_text().replace("source: csv", "source: parquet")
    config.write_text(text)
    with pytest.raises(ConfigError, match="supports source 'csv'"):
        check_lookahead(load_config(config), tmp_path)


def test_a_run_that_fails_without_the_future_is_a_finding(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    config = project(tmp_path, f"{{name: 'cheat.py:NeedsTomorrow', params: {{data: '{folder}'}}}}")
    report = check_lookahead(load_config(config), tmp_path, points=2)
    assert [f.cut for f in report.findings] == list(report.cuts)
    assert report.findings[0].error is not None
    # the strategy's error, named: strategy, class, hook, bar, message, file:line
    described = report.findings[0].describe()
    assert "the run failed: strategy 'cheat.py:NeedsTomorrow' (NeedsTomorrow) raised " in described
    assert "ValueError in on_bar at the bar of 2024-01-02T16:00:00-05:00" in described
    assert f"({tmp_path / 'cheat.py'}:" in described


def test_a_strategy_whose_replaces_read_tomorrow_is_caught(tmp_path: Path) -> None:
    # Its intents never change (one buy on the first day): only its replaces do. The check
    # compared intents alone, and found nothing.
    folder = tmp_path / "data"
    config = project(tmp_path, f"{{name: 'cheat.py:TomorrowsLow', params: {{data: '{folder}'}}}}")
    report = check_lookahead(load_config(config), tmp_path, points=3)
    # Cut after the first session, both runs decide the same buy; after the later ones, the
    # full run replaces on the cut's session with the next day's low, the cut run cannot.
    assert [f.cut for f in report.findings] == list(report.cuts[1:])
    first = report.findings[0]
    assert first.with_future is not None
    assert first.with_future.timestamp.startswith(first.cut.isoformat())
    # (risk's decision of the replace comes first: it checks the order the replace makes)
    assert first.with_future.intent.startswith("replace of O-000001: strategy_id=cheat.py")
    assert first.without_future is None or first.without_future.timestamp > first.cut.isoformat()


def test_a_strategy_given_a_file_of_the_data_folder_is_caught(tmp_path: Path) -> None:
    # The cut runs used to read the whole file: only a param naming the folder itself was
    # pointed at the cut copy.
    file = tmp_path / "data" / "AAA.csv"
    config = project(tmp_path, f"{{name: 'cheat.py:FileOfTomorrow', params: {{file: '{file}'}}}}")
    report = check_lookahead(load_config(config), tmp_path, points=3)
    assert len(report.findings) == 3


INTRADAY_CHEAT = """
import csv
from pathlib import Path

from qtrader.models import BaseStrategy


class NextBar(BaseStrategy):
    \"\"\"Holds 1 share while the next bar's close (read from the file) is higher.\"\"\"

    def __init__(self, data: str) -> None:
        self.folder = Path(data)

    def on_start(self, ctx):
        with (self.folder / "AAA.csv").open() as file:
            self.closes = {r["date"]: float(r["close"]) for r in csv.DictReader(file)}
        self.times = sorted(self.closes)

    def on_bar(self, ctx):
        now = ctx.timestamp.strftime("%Y-%m-%d %H:%M")
        later = [t for t in self.times if t > now]
        if later:
            ctx.order_target_quantity("AAA", 1 if self.closes[later[0]] > self.closes[now] else 0)
"""


def intraday_project(tmp_path: Path, strategy: str) -> Path:
    data = tmp_path / "data"
    data.mkdir(parents=True)
    rows = ["date,open,high,low,close,volume"]
    for day in weekdays(date(2024, 1, 2), 3):
        for i, clock in enumerate(("10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00")):
            close = 10 + (i % 2)
            rows.append(f"{day} {clock},{close},{close + 0.5},{close - 0.5},{close},1000")
    (data / "AAA.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "cheat.py").write_text(INTRADAY_CHEAT)
    config = tmp_path / "config.yaml"
    config.write_text(
        "start: 2024-01-02\nend: 2024-01-04\ninitial_cash: 10000\n"
        "data: {source: csv, path: data, symbols: [AAA], bar_interval: '01:00:00'}\n"
        f"strategy: {strategy}\n"
    )
    return config


def test_an_intraday_strategy_reading_the_next_bar_is_caught_within_a_session(
    tmp_path: Path,
) -> None:
    # The data used to be cut only between sessions: the next bar inside a session was
    # never removed, and such a strategy passed.
    folder = tmp_path / "data"
    config = intraday_project(
        tmp_path, f"{{name: 'cheat.py:NextBar', params: {{data: '{folder}'}}}}"
    )
    report = check_lookahead(load_config(config), tmp_path, points=4)
    assert not report.clean
    assert any(f.cut.hour != 16 for f in report.findings if isinstance(f.cut, datetime))
    honest = intraday_project(
        tmp_path / "honest", "{name: sma_crossover, params: {fast: 2, slow: 3, quantity: 1}}"
    )
    assert check_lookahead(load_config(honest), tmp_path / "honest", points=4).clean
