"""Result files. Every file is written to a temporary name and renamed, so a
crash never leaves a half-written file where a previous result stood.

A table is formatted a column at a time: one formatter per column, picked from the
types it holds, and rows joined as text. Every field prints exactly as ``_fmt`` prints
its value, quoted as ``csv.writer`` quotes it.
"""

from __future__ import annotations

import decimal
import gc
import heapq
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from itertools import repeat
from operator import attrgetter, itemgetter
from pathlib import Path
from types import NoneType
from typing import TextIO

from qtrader.analytics._leftovers import clear_file_leftovers, clear_leftovers, temp_prefix
from qtrader.analytics.metrics import compute_metrics
from qtrader.analytics.trades import RoundTrip, round_trips
from qtrader.models import (
    BacktestResult,
    LedgerEntry,
    Order,
    OrderRejection,
    QTraderError,
    RiskDecision,
)

RESULT_FILES = (
    "fills.csv",
    "orders.csv",
    "trades.csv",
    "ledger.csv",
    "equity.csv",
    "risk_decisions.csv",
    "order_updates.csv",
    "metrics.json",
)
KNOWN_RESULT_FILES = frozenset(
    {*RESULT_FILES, "config.yaml", "versions.json", "data_anomalies.csv", "ledger.csv",
     "log.txt", "report.html"}
)  # fmt: skip
"""Every file a run may write: an output folder holding only these may be replaced."""


def _fmt(value: object) -> str:
    """How one value prints in a result file (the reference every column formatter keeps)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        # Exact, without trailing zeros or exponent: 895.0 -> "895", 1E+3 -> "1000".
        return format(value.normalize(), "f")
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if hasattr(value, "value"):  # enums
        return str(value.value)
    return str(value)


def _fmt_decimal(value: Decimal) -> str:
    return format(value.normalize(), "f")


# ``str`` of finite Decimals in plain notation (no exponent), one per line.
_PLAIN_DECIMALS = re.compile(r"[-0-9.\n]*")
# A fraction ending in zero, in such lines.
_TRAILING_ZERO = re.compile(r"\.[0-9]*0$", re.MULTILINE)
# The smallest adjusted exponent ``str`` writes in plain notation (``1E-7`` is not).
_PLAIN_MIN_ADJUSTED = -6


def _normalize_keeps_plain(longest: int) -> bool:
    """Whether ``normalize()`` in the current context leaves the digits of every number that
    ``str`` writes in plain notation in at most ``longest`` characters: it rounds to the
    context's precision and keeps exponents within its range."""
    context = decimal.getcontext()
    return (
        longest <= context.prec
        and context.Emin <= _PLAIN_MIN_ADJUSTED
        and longest <= context.Emax - context.prec + 1  # also under ``clamp``
    )


def _decimals(values: Sequence[Decimal | None], has_none: bool) -> list[str]:
    """``_fmt`` of Decimals (or None), through ``str``: a number in plain notation whose
    digits ``normalize()`` keeps prints as ``str`` gives it less the trailing zeros of its
    fraction (``-0.50`` -> ``-0.5``, ``100.00`` -> ``100``, ``-0.0`` -> ``-0``). A column with
    any other value (exponent, NaN, more digits than the precision) goes one by one."""
    texts = ["" if v is None else str(v) for v in values] if has_none else list(map(str, values))
    joined = "\n".join(texts)
    if not _PLAIN_DECIMALS.fullmatch(joined) or not _normalize_keeps_plain(
        max(map(len, texts), default=0)
    ):
        return _decimals_one_by_one(values)
    if not _TRAILING_ZERO.search(joined):
        return texts
    return [t.rstrip("0").rstrip(".") if "." in t else t for t in texts]


def _decimals_one_by_one(values: Sequence[Decimal | None]) -> list[str]:
    """``_fmt`` of Decimals (or None), each distinct non-zero value formatted once.

    Equal non-zero Decimals normalize to the same digits (``1.50`` and ``1.5``
    both print ``1.5``); zeros are formatted each time, as ``0`` and ``-0``
    compare equal but print differently.
    """
    memo: dict[Decimal, str] = {}
    out: list[str] = []
    append = out.append
    for v in values:
        if v is None:
            append("")
        elif not v or not v.is_finite():
            append(_fmt_decimal(v))
        else:
            text = memo.get(v)
            if text is None:
                text = memo[v] = _fmt_decimal(v)
            append(text)
    return out


class _Stamps:
    """The ISO text of each datetime object formatted so far, by identity, not equality:
    equal instants in two time zones print differently. The rows of one bar share their
    stamp, in every table of a result. The objects are kept, so an ``id`` is never reused
    for another datetime while the texts are."""

    def __init__(self) -> None:
        self._text_by_id: dict[int, str] = {id(None): ""}
        self._kept: list[datetime] = []

    def texts(self, values: Sequence[datetime | None]) -> list[str]:
        """``_fmt`` of each value, each datetime object formatted once."""
        text_by_id = self._text_by_id
        for key, value in dict(zip(map(id, values), values, strict=True)).items():
            if key not in text_by_id:
                text_by_id[key] = value.isoformat()  # type: ignore[union-attr]
                self._kept.append(value)  # type: ignore[arg-type]
        return list(map(text_by_id.__getitem__, map(id, values)))


def _column(values: Sequence[object], stamps: _Stamps | None = None) -> Sequence[str]:
    """``_fmt`` of every value of a column, with one formatter picked for the whole column
    from the (exact) types it holds; a column of other or mixed types is formatted value
    by value. Every branch gives exactly what ``_fmt`` gives. ``stamps`` lets the columns
    of one result share the text of their datetimes."""
    kinds = set(map(type, values))
    has_none = NoneType in kinds
    kinds.discard(NoneType)
    if not kinds:
        return ["" for _ in values]
    if len(kinds) > 1:
        return [_fmt(v) for v in values]
    (kind,) = kinds
    if kind is str:
        return ["" if v is None else v for v in values] if has_none else values  # type: ignore[return-value,misc]
    if kind is Decimal:
        return _decimals(values, has_none)  # type: ignore[arg-type]
    if kind is datetime:
        return (_Stamps() if stamps is None else stamps).texts(values)  # type: ignore[arg-type]
    if issubclass(kind, Enum) and not hasattr(kind, "isoformat"):
        members: dict[object, str] = {None: ""}
        members.update((member, str(member.value)) for member in kind)
        return [members[v] for v in values]
    return [_fmt(v) for v in values]


# The characters that make a field go in quotes: as ``csv.writer`` quotes them from Python
# 3.11.9 and 3.12.3 on. Earlier ones left a bare carriage return unquoted, which a CSV
# reader (``csv`` itself) then takes for the end of the row: such a file could not be read.
_NEEDS_QUOTES = re.compile('[,"\n\r]')


def _csv_fields(texts: Sequence[str]) -> Sequence[str]:
    """``texts`` as CSV fields, quoted where ``csv.writer`` quotes them: a field holding a
    comma, a quote or a line break (``\\n`` or ``\\r``) goes in quotes, its quotes doubled."""
    if not _NEEDS_QUOTES.search("".join(texts)):  # the usual case: one search per column
        return texts
    return [
        '"' + text.replace('"', '""') + '"' if _NEEDS_QUOTES.search(text) else text
        for text in texts
    ]


def _csv(
    header: Sequence[str],
    columns: Sequence[Sequence[object]],
    stamps: _Stamps,
    with_header: bool = True,
) -> str:
    """A CSV text of ``columns`` (each a sequence of one field's values, all of one length),
    every value formatted by ``_fmt``: byte for byte what ``csv.writer`` writes. Without
    ``with_header``, the rows only (a table written in parts: nothing for no rows)."""
    header_fields = _csv_fields(list(header))
    columns_fields = [_csv_fields(_column(column, stamps)) for column in columns]
    if len(columns_fields) == 1:  # ``csv.writer`` quotes a row that is one empty field
        header_fields = [text or '""' for text in header_fields]
        columns_fields = [[text or '""' for text in columns_fields[0]]]
    lines = [",".join(header_fields)] if with_header else []
    lines.extend(map(",".join, zip(*columns_fields, strict=True)))
    return "\n".join(lines) + "\n" if lines else ""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` for the block to write ``path``'s new content
    into; when the block ends it is renamed into place with the mode a new file gets under
    the umask (a temporary file is 0600), and when the block fails it is removed, leaving
    ``path`` as it was. It is named after this process (``temp_prefix``), so what a writer
    killed outright leaves is removed by the next writer of ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    clear_file_leftovers(path.parent, (path.name,))
    fd, name = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        temp.chmod(0o666 & ~_umask())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, line ends as given) to ``path`` in one step (``atomic_path``)."""
    with atomic_path(path) as temp, temp.open("w", encoding="utf-8", newline="") as handle:
        handle.write(text)


class OutputFolderError(QTraderError):
    """The output folder holds files that are not a QTrader run's results."""


def publish_folder(directory: Path, files: Mapping[str, str]) -> None:
    """Put ``files`` (name -> text) into ``directory`` as one step (see ``ResultFolder``)."""
    folder = ResultFolder(directory, files)
    try:
        for name, text in files.items():
            folder.write_text(name, text)
        folder.publish()
    except BaseException:
        folder.discard()
        raise


class ResultFolder:
    """A results folder in the making.

    Files are written into a temporary folder beside ``directory`` (``path``), which
    ``publish`` then puts in its place: a run that fails, or is interrupted, leaves the
    previous complete results (or nothing), never a mix of two runs; ``discard`` removes
    it. Files and folder get the modes the umask gives new ones. An existing
    ``directory`` holding anything but result files of a run (the known names and
    ``names``) is refused up front, so results never replace a user's other files.
    What a killed run left beside ``directory``, or a killed rewrite of one of its files
    left in it, is cleared first (``_leftovers``).
    """

    def __init__(self, directory: Path, names: Iterable[str] = ()) -> None:
        # absolute: a run's strategies could change the working folder before ``publish``
        directory = self.directory = directory.absolute()
        parent = directory.parent
        parent.mkdir(parents=True, exist_ok=True)
        clear_leftovers(directory)
        if directory.exists():
            if not directory.is_dir():
                raise OutputFolderError(f"output {directory} exists and is not a folder")
            ours = {*names, *KNOWN_RESULT_FILES}
            clear_file_leftovers(directory, ours)  # e.g. of a killed ``qtrader report``
            foreign = sorted(p.name for p in directory.iterdir() if p.name not in ours)
            if foreign:
                shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
                raise OutputFolderError(
                    f"output folder {directory} holds files that are not results of a run "
                    f"({shown}): choose a new or empty folder"
                )
        prefix = temp_prefix(directory.name)
        self.path = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=parent))

    def write_text(self, name: str, text: str) -> None:
        (self.path / name).write_text(text, encoding="utf-8", newline="")

    def open(self, name: str) -> TextIO:
        """A new file of the folder, open for writing text in parts."""
        return (self.path / name).open("w", encoding="utf-8", newline="")

    def publish(self) -> None:
        """Put the folder in place of ``directory`` as one step."""
        temp, directory = self.path, self.directory
        temp.chmod(0o777 & ~_umask())
        if not directory.exists():
            temp.rename(directory)
            return
        old = temp.with_suffix(".old")
        directory.rename(old)
        try:
            temp.rename(directory)
        except BaseException:
            old.rename(directory)
            raise
        _remove_tree(old)

    def discard(self) -> None:
        _remove_tree(self.path)


def _remove_tree(folder: Path) -> None:
    if folder.exists():
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


def _values(items: Sequence[object], *names: str) -> list[Sequence[object]]:
    """One sequence per attribute ``names`` (two or more) of ``items``."""
    if not items:
        return [() for _ in names]
    # A pass per attribute: about twice as fast as transposing a tuple per item.
    return [list(map(attrgetter(name), items)) for name in names]


@contextmanager
def _collection_paused() -> Iterator[None]:
    """No automatic garbage collection inside the block; restored afterwards.

    Formatting a result allocates a container or two per row (freed by reference counting:
    it makes no cycles), and each allocation counts towards the next collection, which
    would rescan everything the run left alive and free nothing (the tables of a
    100 x 5,000 run: 0.68 s of CPU with the collector, 0.37 s without).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# (column header, attribute of the record) of each record table, in file order.
FILL_COLUMNS = (
    ("timestamp", "timestamp"),
    ("symbol", "symbol"),
    ("side", "side"),
    ("quantity", "quantity"),
    ("price", "price"),
    ("commission", "commission"),
    ("order_id", "order_id"),
    ("fill_id", "id"),
    ("strategy_id", "strategy_id"),
    ("slippage_per_share", "slippage_per_share"),
    ("slippage_cost", "slippage_cost"),
)
ORDER_COLUMNS = (
    ("created_at", "created_at"),
    ("order_id", "id"),
    ("strategy_id", "strategy_id"),
    ("symbol", "symbol"),
    ("side", "side"),
    ("quantity", "quantity"),
    ("type", "type"),
    ("limit_price", "limit_price"),
    ("stop_price", "stop_price"),
    ("time_in_force", "time_in_force"),
    ("tag", "tag"),
)
# Columns only some orders have (a refused request has none of them): empty when absent.
ORDER_EXTRA_COLUMNS = (
    "trail_amount",
    "trail_percent",
    "expire_at",
    "stop_loss_price",
    "take_profit_price",
    "parent_id",
)
UPDATE_COLUMNS = tuple((name, name) for name in ("timestamp", "order_id", "status", "reason"))
TRADE_COLUMNS = tuple(
    (name, name)
    for name in (
        "strategy_id",
        "symbol",
        "direction",
        "quantity",
        "entry_time",
        "entry_price",
        "exit_time",
        "exit_price",
        "pnl",
        "commission",
        "holding_period",
    )
)
EQUITY_COLUMNS = tuple((name, name) for name in ("timestamp", "cash", "equity"))
LEDGER_COLUMNS = tuple(
    (name, name)
    for name in (
        "sequence",
        "timestamp",
        "type",
        "strategy_id",
        "symbol",
        "quantity",
        "price",
        "cash_flow",
        "commission",
        "ratio",
        "rate",
        "days",
        "position_after",
        "reference",
    )
)


def _table(
    records: Sequence[object],
    columns: Sequence[tuple[str, str]],
    stamps: _Stamps,
    with_header: bool = True,
) -> str:
    headers = tuple(header for header, _ in columns)
    values = _values(records, *(attribute for _, attribute in columns))
    return _csv(headers, values, stamps, with_header)


def result_tables(
    result: BacktestResult, trades: Sequence[RoundTrip] | None = None
) -> dict[str, str]:
    """The CSV files of a result, by file name (``trades``: its round trips, when the
    caller has them already)."""
    with _collection_paused():
        return _tables(result, round_trips(result.ledger) if trades is None else trades)


def _ledger_table(ledger: Sequence[LedgerEntry], stamps: _Stamps, with_header: bool = True) -> str:
    """``ledger.csv``: every ledger entry; ``lots_closed`` lists the lots it closed as
    ``fill_id:quantity`` (the opening fill and the signed shares), ``lots_named`` the lots
    an order named, both separated by ``;``."""
    headers = [header for header, _ in LEDGER_COLUMNS]
    columns = _values(ledger, *(attribute for _, attribute in LEDGER_COLUMNS))
    closed = [
        ";".join(f"{lot.fill_id}:{_fmt(lot.quantity)}" for lot in entry.lots_closed)
        for entry in ledger
    ]
    named = [";".join(entry.lots_named) for entry in ledger]
    return _csv(
        (*headers, "lots_closed", "lots_named"), (*columns, closed, named), stamps, with_header
    )


def _tables(result: BacktestResult, trades: Sequence[RoundTrip]) -> dict[str, str]:
    if result.records_streamed:
        raise ValueError("the result's records were streamed to a sink: it holds none")
    stamps = _Stamps()  # fills, orders, decisions and trades share the stamps of bars
    return {
        "fills.csv": _table(result.fills, FILL_COLUMNS, stamps),
        "orders.csv": _orders_table(order_rows(result.orders, result.rejections), stamps),
        "order_updates.csv": _table(result.order_updates, UPDATE_COLUMNS, stamps),
        "trades.csv": _table(trades, TRADE_COLUMNS, stamps),
        "ledger.csv": _ledger_table(result.ledger, stamps),
        "equity.csv": _table(result.equity, EQUITY_COLUMNS, stamps),
        "risk_decisions.csv": _decisions_table(result.decisions, stamps),
    }


DECISION_HEADERS = (
    "timestamp",
    "strategy_id",
    "symbol",
    "intent",
    "approved",
    "order_side",
    "order_quantity",
    "reason",
    "figures",
    "replaces",
)


def _decisions_table(
    decisions: Sequence[RiskDecision], stamps: _Stamps, with_header: bool = True
) -> str:
    timestamps, intents, approved, orders, reasons, figures, replaces = _values(
        decisions, "timestamp", "intent", "approved", "order", "reason", "figures", "replaces"
    )
    return _csv(
        DECISION_HEADERS,
        (
            timestamps,
            *_values(intents, "strategy_id", "symbol"),
            _intents(intents),
            ["true" if ok else "false" for ok in approved],
            [None if order is None else order.side for order in orders],  # type: ignore[attr-defined]
            [None if order is None else order.quantity for order in orders],  # type: ignore[attr-defined]
            reasons,
            _figures(figures),  # type: ignore[arg-type]
            replaces,
        ),
        stamps,
        with_header,
    )


def _orders_table(rows: Sequence[object], stamps: _Stamps, with_header: bool = True) -> str:
    """``orders.csv``: the order columns, then a trailing stop's distance, a GTD order's
    expiry, a bracket's exit prices, the lots it names (``;``-separated) and, for an exit
    the venue placed, its entry's id."""
    headers = [header for header, _ in ORDER_COLUMNS]
    columns = _values(rows, *(attribute for _, attribute in ORDER_COLUMNS))
    extras = [[getattr(row, name, None) for row in rows] for name in ORDER_EXTRA_COLUMNS]
    lots = [";".join(getattr(row, "close_lots", ())) for row in rows]
    return _csv(
        (*headers, *ORDER_EXTRA_COLUMNS[:-1], "close_lots", ORDER_EXTRA_COLUMNS[-1]),
        (*columns, *extras[:-1], lots, extras[-1]),
        stamps,
        with_header,
    )


def order_rows(
    orders: Sequence[Order], rejections: Sequence[OrderRejection]
) -> Sequence[Order | OrderRejection]:
    """The rows of ``orders.csv``: the venue's orders and the requests the strategies'
    contexts refused (under their ``R-`` ids), in time order; at one timestamp, the
    orders first."""
    if not rejections:
        return orders
    return list(heapq.merge(orders, rejections, key=attrgetter("created_at")))


def _figures(column: Sequence[Mapping[str, object]]) -> list[str]:
    """``key=value;...`` of each decision's figures, sorted by key. The figures that name
    the same keys are formatted as one table, a column per key."""
    rows_by_keys: dict[tuple[str, ...], list[int]] = {}
    for row, keys in enumerate(map(tuple, column)):
        rows_by_keys.setdefault(keys, []).append(row)
    out = [""] * len(column)
    for keys, rows in rows_by_keys.items():
        if not keys:
            continue
        group = [column[row] for row in rows]
        parts: list[Iterable[str]] = []  # "a=", values of a, ";b=", values of b, ...
        for name in sorted(keys):
            parts.append(repeat(f";{name}=" if parts else f"{name}="))
            parts.append(_column(list(map(itemgetter(name), group))))
        texts = map("".join, zip(*parts, strict=False))  # the repeated names never end
        for row, text in zip(rows, texts, strict=True):
            out[row] = text
    return out


def _intents(column: Sequence[object]) -> list[str]:
    """``_intent`` of each intent; orders of one side, quantity and type print alike."""
    memo: dict[tuple[object, Decimal, object], str] = {}
    out: list[str] = []
    for intent in column:
        side = getattr(intent, "side", None)
        quantity = getattr(intent, "quantity", None)
        if side is None or type(quantity) is not Decimal or not quantity:
            out.append(_intent(intent))
            continue
        key = (side, quantity, intent.type)  # type: ignore[attr-defined]
        text = memo.get(key)
        if text is None:
            text = memo[key] = _intent(intent)
        out.append(text)
    return out


def _intent(intent: object) -> str:
    side = getattr(intent, "side", None)
    if side is not None:
        return f"{_fmt(side)} {_fmt(getattr(intent, 'quantity', ''))} {_fmt(intent.type)}"  # type: ignore[attr-defined]
    return f"signal {_fmt(getattr(intent, 'direction', ''))}"


def metrics_json(metrics: Mapping[str, object]) -> str:
    return json.dumps(metrics, indent=2, sort_keys=True, allow_nan=False) + "\n"


def write_results(
    result: BacktestResult,
    directory: str | Path,
    extra: Mapping[str, str] | None = None,
    benchmark: Sequence[tuple[date, float]] | None = None,
    *,
    trades: Sequence[RoundTrip] | None = None,
    metrics: dict[str, float | int | None] | None = None,
) -> dict[str, float | int | None]:
    """Write every result file into ``directory`` as one step (``publish_folder``) and
    return the metrics. ``extra`` maps further file names to their text (e.g. the
    resolved config, the report); ``benchmark`` is the benchmark's daily returns (see
    ``compute_metrics``). ``trades`` and ``metrics``, when the caller computed them
    already, are written as given."""
    if trades is None:
        trades = round_trips(result.ledger)
    if metrics is None:
        metrics = compute_metrics(result, trades=trades, benchmark=benchmark)
    files = result_tables(result, trades)
    files.update(extra or {})
    files["metrics.json"] = metrics_json(metrics)
    publish_folder(Path(directory), files)
    return metrics
