"""With a ``RecordSink``, the engine hands the records over in batches between two bar
slices and keeps none: the batches hold, in order, exactly the records a run without a
sink returns (AAA opens 10, 12, 14, 16 and closes 11, 13, 15, 17)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from qtrader.engine import BacktestEngine, EngineConfig, EngineError
from qtrader.models import LedgerEntry, RecordBatch, SignalDirection, StrategyContext
from qtrader.models.testing import (
    FakeDataService,
    FakeExecutionService,
    FakePortfolioService,
    FakeRiskService,
    ScriptedStrategy,
    daily_slices,
    ny_close,
)

DAYS = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4), date(2024, 1, 5)]
AAA = [(10.0, 11.0), (12.0, 13.0), (14.0, 15.0), (16.0, 17.0)]


class ListSink:
    def __init__(self) -> None:
        self.batches: list[RecordBatch] = []

    def write(self, batch: RecordBatch) -> None:
        self.batches.append(batch)


class DrainingPortfolio(FakePortfolioService):
    """The fake portfolio, with a ledger drain that counts its calls."""

    def __init__(self) -> None:
        super().__init__(Decimal(1000))
        self.drains = 0

    def drain_ledger(self) -> tuple[LedgerEntry, ...]:
        self.drains += 1
        return ()


def trade_every_bar(ctx: StrategyContext) -> None:
    ctx.buy("AAA", 1)  # fills at the next open
    if ctx.timestamp == ny_close(DAYS[1]):
        ctx.signal("AAA", SignalDirection.LONG)  # the fake risk refuses signals


def engine(
    sink: ListSink | None, per_batch: int = 8192, portfolio: FakePortfolioService | None = None
) -> BacktestEngine:
    return BacktestEngine(
        EngineConfig(start=DAYS[0], end=DAYS[-1], symbols=("AAA",)),
        data=FakeDataService(daily_slices(DAYS, {"AAA": AAA})),
        portfolio=portfolio or FakePortfolioService(Decimal(1000)),
        execution=FakeExecutionService(),
        risk=FakeRiskService(),
        strategies={"s1": ScriptedStrategy(trade_every_bar)},
        sink=sink,
        records_per_batch=per_batch,
    )


def joined(batches: list[RecordBatch], kind: str) -> tuple[object, ...]:
    return tuple(record for batch in batches for record in getattr(batch, kind))


@pytest.mark.parametrize("per_batch", [1, 3, 8192])
def test_the_batches_hold_the_records_of_a_run_without_a_sink(per_batch: int) -> None:
    kept = engine(None).run()
    sink = ListSink()
    streamed = engine(sink, per_batch).run()
    assert len(kept.fills) == 3
    assert len(kept.decisions) == 5
    for kind in ("fills", "orders", "order_updates", "decisions", "rejections"):
        assert joined(sink.batches, kind) == getattr(kept, kind), kind
        assert getattr(streamed, kind) == ()
    assert streamed.records_streamed
    assert not kept.records_streamed
    assert streamed.equity == kept.equity
    assert streamed.final_state == kept.final_state
    assert all(len(batch) for batch in sink.batches)  # no empty batch


def test_a_batch_is_cut_between_two_slices_never_inside_one() -> None:
    sink = ListSink()
    engine(sink, per_batch=1).run()
    # each bar records at least its order and decision: one batch a bar, its own time
    stamps = [{d.timestamp for d in batch.decisions} for batch in sink.batches]
    assert stamps == [{ny_close(day)} for day in DAYS]
    # the fill of each order comes with the next bar's batch
    assert [len(batch.fills) for batch in sink.batches] == [0, 1, 1, 1]


def test_the_portfolio_ledger_is_drained_at_each_batch_and_at_the_end() -> None:
    portfolio = DrainingPortfolio()
    engine(ListSink(), per_batch=1, portfolio=portfolio).run()
    assert portfolio.drains == 4 + 1
    engine(None, portfolio=(kept := DrainingPortfolio())).run()
    assert kept.drains == 0  # without a sink the ledger is kept, and read at the end


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(EngineError, match="records_per_batch must be at least 1, got 0"):
        engine(ListSink(), per_batch=0)
