"""Result files written as the run goes: a ``RecordSink`` for the engine.

A long run keeps none of its records to the end. Each batch the engine hands over is
appended to the record tables of a ``ResultFolder`` (fills, orders, updates, risk
decisions, ledger, and the round trips the batch's ledger entries closed), and what the
metrics need of them is added up: the fills' totals, the trips' tally and how often each
symbol traded. Every table is byte for byte what ``result_tables`` writes from the whole
result: a field prints the same in any part, and a batch never splits a timestamp, so the
orders and refused requests of one batch merge into place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from qtrader.analytics.files import (
    EQUITY_COLUMNS,
    FILL_COLUMNS,
    TRADE_COLUMNS,
    UPDATE_COLUMNS,
    ResultFolder,
    _collection_paused,
    _decisions_table,
    _ledger_table,
    _orders_table,
    _Stamps,
    _table,
    metrics_json,
    order_rows,
)
from qtrader.analytics.metrics import FillTotals, HoldingTally, TradeTally
from qtrader.analytics.trades import RoundTrip, RoundTripBuilder
from qtrader.models import BacktestResult, RecordBatch


def _headers() -> dict[str, str]:
    """The header line of each record table: the table of no records."""
    stamps = _Stamps()
    return {
        "fills.csv": _table((), FILL_COLUMNS, stamps),
        "orders.csv": _orders_table((), stamps),
        "order_updates.csv": _table((), UPDATE_COLUMNS, stamps),
        "trades.csv": _table((), TRADE_COLUMNS, stamps),
        "ledger.csv": _ledger_table((), stamps),
        "risk_decisions.csv": _decisions_table((), stamps),
    }


class RecordTally:
    """What the metrics need of a run's records, added up a batch at a time and nothing
    kept: the fills' totals, the round trips' tally, when positions were held and how often
    each symbol traded. A
    ``RecordSink`` by itself (a run that writes no files), and part of ``ResultFileStream``."""

    def __init__(self) -> None:
        self._trips = RoundTripBuilder()
        self.trades = TradeTally()
        """The round trips so far, as the metrics need them."""
        self.fills = FillTotals()
        """The fills' number, notional and commission so far."""
        self.holding = HoldingTally()
        """When positions were held so far (``exposure``)."""
        self.fills_by_symbol: Counter[str] = Counter()

    def write(self, batch: RecordBatch) -> None:
        self.add(batch)

    def add(self, batch: RecordBatch) -> list[RoundTrip]:
        """Add up ``batch``; the round trips its ledger entries closed."""
        trips = self._trips.add(batch.ledger) if batch.ledger else []
        self.holding.add(batch.ledger)
        self.trades.add(trips)
        self.fills.add(batch.fills)
        self.fills_by_symbol.update(fill.symbol for fill in batch.fills)
        return trips


class ResultFileStream:
    """Writes a run's record tables into ``directory`` as the records come (``write``),
    then the rest of its files and the folder as one step (``publish``); ``discard``
    leaves no trace. Until ``publish``, the files are in a temporary folder beside
    ``directory`` (see ``ResultFolder``)."""

    def __init__(self, directory: Path) -> None:
        self._folder = ResultFolder(directory)
        self._files: dict[str, TextIO] = {}
        try:
            for name, header in _headers().items():
                handle = self._files[name] = self._folder.open(name)
                handle.write(header)
        except BaseException:
            self.discard()
            raise
        self.tally = RecordTally()
        """What the metrics need of the records written so far."""

    @property
    def path(self) -> Path:
        """The temporary folder the files are written into until ``publish``."""
        return self._folder.path

    def write(self, batch: RecordBatch) -> None:
        """Append ``batch`` to the tables (``RecordSink``)."""
        files = self._files
        with _collection_paused():
            stamps = _Stamps()
            if batch.fills:
                files["fills.csv"].write(_table(batch.fills, FILL_COLUMNS, stamps, False))
            rows = order_rows(batch.orders, batch.rejections)
            if rows:
                files["orders.csv"].write(_orders_table(rows, stamps, False))
            if batch.order_updates:
                updates = _table(batch.order_updates, UPDATE_COLUMNS, stamps, False)
                files["order_updates.csv"].write(updates)
            if batch.decisions:
                files["risk_decisions.csv"].write(_decisions_table(batch.decisions, stamps, False))
            if batch.ledger:
                files["ledger.csv"].write(_ledger_table(batch.ledger, stamps, False))
            trips = self.tally.add(batch)
            if trips:
                files["trades.csv"].write(_table(trips, TRADE_COLUMNS, stamps, False))

    def close(self) -> None:
        """Finish the record tables (the engine has handed over its last batch)."""
        for handle in self._files.values():
            handle.close()

    def publish(
        self,
        result: BacktestResult,
        metrics: Mapping[str, float | int | None],
        extra: Mapping[str, str] | None = None,
    ) -> None:
        """Write ``equity.csv`` (``result``'s), ``metrics.json`` and the ``extra`` files
        (name -> text), and put the folder in place as one step."""
        self.close()
        folder = self._folder
        with _collection_paused():
            folder.write_text("equity.csv", _table(result.equity, EQUITY_COLUMNS, _Stamps()))
        folder.write_text("metrics.json", metrics_json(metrics))
        for name, text in (extra or {}).items():
            folder.write_text(name, text)
        folder.publish()

    def discard(self) -> None:
        """Remove the temporary folder (a run that failed leaves no half-written files)."""
        self.close()
        self._folder.discard()
