"""What the commands print: the consoles, user errors, and data anomaly warnings.

Anomalies are never silent. Rows dropped or widened at load are one warning; gaps
that look like a split no action records are a separate, louder one, because on
unadjusted prices a position books such a gap as profit or loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.text import Text

if TYPE_CHECKING:  # qtrader.data imports pandas: not for `qtrader --help`
    from qtrader.analytics import Refusal
    from qtrader.data import Anomaly
    from qtrader.risk import DecisionSummary

REPORTED = "reported"  # AnomalyAction.REPORTED, a StrEnum

console = Console()
errors = Console(stderr=True)
MAX_ANOMALIES_SHOWN = 10
MAX_REFUSALS_SHOWN = 5


DEBUG = {"tracebacks": False}
"""``qtrader --debug``: user errors keep their traceback too."""


def fail(problem: object) -> NoReturn:
    """A user error: ``error: <problem>`` on stderr and exit code 2, never a traceback
    (``qtrader --debug ...`` re-raises it instead, with the traceback of its cause)."""
    if DEBUG["tracebacks"] and isinstance(problem, BaseException):
        raise problem
    errors.print(Text.assemble(("error: ", "bold red"), str(problem)), soft_wrap=True)
    raise typer.Exit(code=2)


def looks_like_split(anomaly: Anomaly) -> bool:
    """A reported overnight gap near a split ratio with no split recorded."""
    return anomaly.action == REPORTED and "split" in anomaly.problem


def plural(n: int, one: str, many: str) -> str:
    """``plural(1, "symbol", "symbols")`` -> ``"1 symbol"``."""
    return f"{n} {one if n == 1 else many}"


def _warn(out: Console, headline: str, anomalies: Sequence[Anomaly], style: str) -> None:
    out.print(Text.assemble(("warning: ", "bold yellow"), (headline, style)), soft_wrap=True)
    shown = anomalies[:MAX_ANOMALIES_SHOWN]
    for anomaly in shown:
        out.print(f"  {anomaly}", soft_wrap=True, markup=False, highlight=False)
    if len(anomalies) > len(shown):
        out.print(f"  ... and {len(anomalies) - len(shown)} more", soft_wrap=True)


def warn_anomalies(out: Console, anomalies: Sequence[Anomaly], written: bool = False) -> None:
    """Print each kind of anomaly as its own warning (up to ``MAX_ANOMALIES_SHOWN`` each);
    ``written``: they are also in ``data_anomalies.csv``."""
    where = " (all in data_anomalies.csv)" if written else ""
    splits = [a for a in anomalies if looks_like_split(a)]
    if splits:
        gaps = plural(len(splits), "overnight gap looks", "overnight gaps look")
        kind = "an unrecorded split" if len(splits) == 1 else "unrecorded splits"
        _warn(
            out,
            f"{gaps} like {kind}: the prices are not adjusted for it and no split action "
            f"records it, so positions book the gap as profit or loss{where}",
            splits,
            "bold red",
        )
    suspicious = [a for a in anomalies if a.action == REPORTED and not looks_like_split(a)]
    if suspicious:
        rows = plural(len(suspicious), "data row looks", "data rows look")
        _warn(out, f"{rows} suspicious and were kept as they are{where}", suspicious, "bold")
    fixed = [a for a in anomalies if a.action != REPORTED]
    if fixed:
        headline = f"{len(fixed)} data rows were dropped or widened while loading{where}"
        _warn(out, headline, fixed, "")


def show_refusals(out: Console, refusals: Sequence[Refusal], written: bool = False) -> None:
    """Count the orders refused (by the strategies' contexts, risk and the venue) and
    show the first ``MAX_REFUSALS_SHOWN``: when, which strategy and symbol, and why.
    Nothing when none was. ``written``: they are in the result files."""
    if not refusals:
        return
    counts = {by: sum(1 for r in refusals if r.by == by) for by in ("context", "risk", "venue")}
    shown = refusals[:MAX_REFUSALS_SHOWN]
    first = f"; the first {len(shown)}" if len(refusals) > len(shown) else ""
    out.print(
        f"rejected: {plural(len(refusals), 'order', 'orders')} ({counts['context']} by the "
        f"strategy context, {counts['risk']} by risk, {counts['venue']} by the venue){first}:",
        soft_wrap=True,
        markup=False,
        highlight=False,
    )
    for refusal in shown:
        by = "" if refusal.by == "context" else f" ({refusal.by})"
        out.print(
            f"  {refusal.timestamp.isoformat()} {refusal.strategy_id} {refusal.symbol}{by}: "
            f"{refusal.reason}",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )
    if len(refusals) > len(shown):
        where = " (in order_updates.csv and risk_decisions.csv)" if written else ""
        out.print(
            f"  ... and {len(refusals) - len(shown)} more{where}",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )


MAX_REASONS_SHOWN = 3


def show_decisions(out: Console, summary: DecisionSummary) -> None:
    """What risk did with what the strategies asked (risk's own ``summarize``): how many
    intents were approved (and of those resized) and rejected, with the most frequent
    kinds of reason."""
    if summary.total:
        line = "risk: " + summary.describe(top=MAX_REASONS_SHOWN)
        out.print(line, soft_wrap=True, markup=False, highlight=False)
