"""``qtrader check-lookahead``: does any decision change when the future is removed?

The backtest is run once on the data as it is, then again on copies of the data files
truncated after each of several sessions (``points``, spread evenly over the run; on
intraday data after several bars, so the next bar of a session is cut too). A
strategy that decides only from what it has been shown makes, on every truncated run,
exactly the decisions the full run made up to the cut. One that peeks (an indicator
centred on today, data read from the files on its own, a bar index off by one) decides
differently on the last sessions before a cut: the first such difference is reported,
with the strategy, the time and both versions of the decision.

The *files* are truncated (in a temporary folder), not only the stream, so a strategy that
reads the data folder itself is cut too: every string in the strategies' params that names
the config's data folder is pointed at the truncated copy. A truncated run that fails is a
finding as well (a strategy that needs tomorrow's row fails without it). A symbol whose
file has no bar up to a cut (listed later) is left out of that run's universe.

Decisions compared: what each strategy asked risk for (``RiskDecision.intent``: orders and
signals, every field) with its timestamp, in order. Only the ``csv`` source is supported,
because only files can be cut without knowing the vendor's format.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from qtrader.cli.bootstrap import run_backtest
from qtrader.cli.config import BacktestConfig, ConfigError, DataSection
from qtrader.models import OrderStatus, QTraderError

DEFAULT_POINTS = 10


@dataclass(frozen=True, slots=True)
class Decision:
    """One intent a strategy handed to risk, as text that compares exactly."""

    timestamp: str
    strategy_id: str
    symbol: str
    intent: str

    def describe(self) -> str:
        return f"{self.timestamp} {self.strategy_id} {self.symbol}: {self.intent}"


@dataclass(frozen=True, slots=True)
class Finding:
    """The first decision that differs when the data ends at ``cut`` (or the run's error)."""

    cut: Cut
    with_future: Decision | None
    without_future: Decision | None
    error: str | None = None

    @property
    def strategy_id(self) -> str:
        decision = self.with_future or self.without_future
        return decision.strategy_id if decision is not None else "?"

    def describe(self) -> str:
        if self.error is not None:
            return f"data cut after {self.cut}: the run failed: {self.error}"
        with_future = self.with_future.describe() if self.with_future else "(no decision)"
        without = self.without_future.describe() if self.without_future else "(no decision)"
        return (
            f"data cut after {self.cut}: strategy {self.strategy_id!r} decided differently\n"
            f"  with the future:    {with_future}\n  without the future: {without}"
        )


@dataclass(frozen=True, slots=True)
class LookaheadReport:
    cuts: tuple[Cut, ...]
    decisions: int
    """Decisions of the full run."""
    findings: tuple[Finding, ...]

    @property
    def clean(self) -> bool:
        return not self.findings


def _run(config: BacktestConfig, base_dir: Path) -> tuple[list[Decision], list[Cut]]:
    """The decisions of a run (the intents handed to risk, and the cancels and replaces of
    working orders: decisions too), in time order, and where its data may be cut: after
    each session it traded, or on intraday bars after each bar."""
    result = run_backtest(config, base_dir, None).result
    decisions = [
        (
            d.timestamp,
            Decision(
                d.timestamp.isoformat(),
                d.intent.strategy_id,
                d.intent.symbol,
                ("" if d.replaces is None else f"replace of {d.replaces}: ")
                + ", ".join(f"{k}={v}" for k, v in d.intent.model_dump(mode="json").items()),
            ),
        )
        for d in result.decisions
    ]
    owners = {o.id: (o.strategy_id, o.symbol) for o in result.orders}
    for update in result.order_updates:
        asked = update.status is OrderStatus.REPLACED or update.reason.startswith(
            ("replace refused", "cancelled on request")
        )
        if asked and update.order_id in owners:
            strategy_id, symbol = owners[update.order_id]
            text = f"{'replace' if 'replace' in update.reason else 'cancel'} {update.order_id}"
            decisions.append(
                (
                    update.timestamp,
                    Decision(
                        update.timestamp.isoformat(),
                        strategy_id,
                        symbol,
                        f"{text}: {update.reason}",
                    ),
                )
            )
    decisions.sort(key=lambda pair: pair[0])  # stable: a bar's intents, then its requests
    days = sorted({row.timestamp.date() for row in result.equity})
    if len(days) == len(result.equity):
        return [d for _, d in decisions], list(days)
    # Intraday: the next bar of a session is the future too, so cuts fall between bars.
    return [d for _, d in decisions], [row.timestamp for row in result.equity]


Cut = date | datetime
"""The data is cut after a session (daily bars) or after a bar (intraday: its local time)."""


def _is_after(stamp: str, cut: Cut) -> bool:
    """Whether the decision stamped ``stamp`` (ISO) comes after the data cut at ``cut``."""
    if isinstance(cut, datetime):
        return datetime.fromisoformat(stamp) > cut
    return stamp[:10] > cut.isoformat()


def choose_cuts(sessions: Sequence[Cut], points: int) -> tuple[Cut, ...]:
    """``points`` sessions spread evenly from the first to the one before the last (cutting
    after the last session removes nothing)."""
    candidates = list(sessions[:-1])
    if not candidates or points < 1:
        return ()
    if points >= len(candidates):
        return tuple(candidates)
    step = (len(candidates) - 1) / max(points - 1, 1)
    return tuple(sorted({candidates[int(i * step + 0.5)] for i in range(points)}))


def _truncate_csv(source: Path, target: Path, date_column: str, cut: Cut) -> bool:
    """Copy ``source`` keeping the header and the rows dated on or before ``cut`` (a bar
    time: compared as local ``YYYY-MM-DD HH:MM:SS`` text); whether any bar is left (a
    symbol listed after the cut has none: it is left out)."""
    text = source.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = [cell.strip() for cell in rows[0]] if rows else []
    if date_column not in header:
        shutil.copyfile(source, target)  # not a bar file (an actions file, say)
        return True
    at = header.index(date_column)
    if isinstance(cut, datetime):
        last = cut.strftime("%Y-%m-%d %H:%M:%S")
        kept = [r for r in rows[1:] if len(r) > at and _wall_time(r[at]) <= last]
    else:
        kept = [r for r in rows[1:] if len(r) > at and r[at].strip()[:10] <= cut.isoformat()]
    if not kept:
        return False
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(rows[0])
    writer.writerows(kept)
    target.write_text(out.getvalue(), encoding="utf-8")
    return True


def _wall_time(text: str) -> str:
    """An intraday file's ``YYYY-MM-DD HH:MM[:SS]`` (or with ``T``) as ``YYYY-MM-DD
    HH:MM:SS``, to compare as text."""
    wall = text.strip().replace("T", " ")
    return wall + ":00" if len(wall) == 16 else wall


def _repoint(value: Any, folder: Path, copy: Path, base_dir: Path) -> Any:
    """``value`` with every string that names ``folder``, or a path in it, pointed at the
    same place in ``copy`` (a strategy given a data file reads the cut one)."""
    if isinstance(value, dict):
        return {k: _repoint(v, folder, copy, base_dir) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_repoint(v, folder, copy, base_dir) for v in value)
    if isinstance(value, str) and value:
        try:
            named = (base_dir / value).resolve()
        except (OSError, ValueError):
            return value
        if named == folder:
            return str(copy)
        if named.is_relative_to(folder):
            return str(copy / named.relative_to(folder))
    return value


def _cut_config(
    config: BacktestConfig, base_dir: Path, copy: Path, cut: Cut, listed: set[str]
) -> BacktestConfig:
    folder = (base_dir / str(config.data.options["path"])).resolve()
    symbols = [s for s in config.data.symbols if s in listed]
    data = DataSection.model_validate(
        {**config.data.model_dump(), "path": str(copy), "symbols": symbols}
    )
    day = cut.date() if isinstance(cut, datetime) else cut
    update: dict[str, Any] = {"data": data, "end": min(config.end, day)}
    for key in ("strategy", "strategies"):
        section = getattr(config, key)
        if section is None:
            continue
        if key == "strategy":
            update[key] = section.model_copy(
                update={"params": _repoint(section.params, folder, copy, base_dir)}
            )
        else:
            update[key] = tuple(
                s.model_copy(update={"params": _repoint(s.params, folder, copy, base_dir)})
                for s in section
            )
    return config.model_copy(update=update)


def check_lookahead(
    config: BacktestConfig,
    base_dir: Path,
    points: int = DEFAULT_POINTS,
    progress: Callable[[int, int, date], None] | None = None,
) -> LookaheadReport:
    """Run ``config`` in full and with its data cut after each of ``points`` sessions (or
    bars, on intraday data)."""
    if config.data.source != "csv":
        raise ConfigError(
            f"check-lookahead truncates data files and supports source 'csv'; this config "
            f"uses {config.data.source!r} (export the data to CSV to check a strategy)"
        )
    folder = (base_dir / str(config.data.options.get("path", "."))).resolve()
    if not folder.is_dir():
        raise ConfigError(f"data.path {folder} is not a folder")
    date_column = str(config.data.options.get("columns", {}).get("date", "date"))
    full, sessions = _run(config, base_dir)
    cuts = choose_cuts(sessions, points)
    findings = []
    with tempfile.TemporaryDirectory(prefix="qtrader-lookahead-") as temp:
        for done, cut in enumerate(cuts, start=1):
            copy = Path(temp) / f"data-{done}"
            copy.mkdir()
            listed: set[str] = set()
            for path in sorted(folder.iterdir()):
                is_csv = path.is_file() and path.suffix == ".csv"
                if is_csv and _truncate_csv(path, copy / path.name, date_column, cut):
                    listed.add(path.stem)
            expected = [d for d in full if not _is_after(d.timestamp, cut)]
            try:
                got, _ = _run(_cut_config(config, base_dir, copy, cut, listed), base_dir)
            except Exception as exc:  # a failing truncated run is a finding, not a crash
                text = str(exc) if isinstance(exc, QTraderError) else f"{type(exc).__name__}: {exc}"
                findings.append(Finding(cut, None, None, text))
            else:
                finding = _first_difference(cut, expected, got)
                if finding is not None:
                    findings.append(finding)
            shutil.rmtree(copy)
            if progress is not None:
                progress(done, len(cuts), cut)
    return LookaheadReport(cuts, len(full), tuple(findings))


def _first_difference(
    cut: Cut, expected: Sequence[Decision], got: Sequence[Decision]
) -> Finding | None:
    for i in range(max(len(expected), len(got))):
        a = expected[i] if i < len(expected) else None
        b = got[i] if i < len(got) else None
        if a != b:
            return Finding(cut, a, b)
    return None
