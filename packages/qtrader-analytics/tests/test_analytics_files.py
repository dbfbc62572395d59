"""Result files of a hand-made result: the ledger and trades tables, the folder published
in one step, atomic writes, the umask."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from qtrader.analytics import (
    RESULT_FILES,
    FillTotals,
    ResultFileStream,
    RoundTripBuilder,
    RunFigures,
    TradeTally,
    compute_metrics,
    metrics_from,
    result_tables,
    round_trips,
    write_results,
)
from qtrader.analytics.files import OutputFolderError, atomic_write_text
from qtrader.analytics.metrics import trade_stats
from qtrader.models import (
    BacktestResult,
    ClosedLot,
    EquityRow,
    Fill,
    LedgerEntry,
    LedgerEntryType,
    PortfolioState,
    RecordBatch,
    Side,
)
from qtrader.models.testing import ny_close

D = Decimal
DAY1, DAY2 = ny_close(date(2024, 7, 1)), ny_close(date(2024, 7, 2))


def result() -> BacktestResult:
    """Bought 10 at 10 (commission 1), sold 10 at 12 (commission 1), margin interest 0.25."""
    buy = Fill(
        id="F1",
        order_id="O1",
        strategy_id="s1",
        symbol="AAA",
        side=Side.BUY,
        quantity=D(10),
        price=D(10),
        commission=D(1),
        timestamp=DAY1,
    )
    sell = Fill(
        id="F2",
        order_id="O2",
        strategy_id="s1",
        symbol="AAA",
        side=Side.SELL,
        quantity=D(10),
        price=D(12),
        commission=D(1),
        timestamp=DAY2,
    )
    closed = ClosedLot(
        fill_id="F1",
        opened_at=DAY1,
        quantity=D(10),
        cost_basis=D(100),
        exit_price=D(12),
        realized_pnl=D(20),
        opening_commission=D(1),
        closing_commission=D(1),
    )
    ledger = (
        LedgerEntry(
            sequence=1,
            timestamp=DAY1,
            type=LedgerEntryType.FILL,
            strategy_id="s1",
            symbol="AAA",
            quantity=D(10),
            price=D(10),
            cash_flow=D(-101),
            commission=D(1),
            position_after=D(10),
            reference="F1",
        ),
        LedgerEntry(
            sequence=2,
            timestamp=DAY2,
            type=LedgerEntryType.MARGIN_INTEREST,
            strategy_id=None,
            symbol=None,
            quantity=D(-50),
            price=None,
            cash_flow=D("-0.25"),
            position_after=None,
            reference="margin",
            rate=D("0.05"),
            days=1,
        ),
        LedgerEntry(
            sequence=3,
            timestamp=DAY2,
            type=LedgerEntryType.FILL,
            strategy_id="s1",
            symbol="AAA",
            quantity=D(-10),
            price=D(12),
            cash_flow=D(119),
            commission=D(1),
            position_after=D(0),
            reference="F2",
            lots_closed=(closed,),
        ),
    )
    z = D(0)
    state = PortfolioState(
        timestamp=DAY2,
        cash=D("1017.75"),
        equity=D("1017.75"),
        market_value=z,
        long_exposure=z,
        short_exposure=z,
        gross_exposure=z,
        net_exposure=z,
        leverage=z,
        realized_pnl=D(20),
        unrealized_pnl=z,
        commissions=D(2),
    )
    return BacktestResult(
        fills=(buy, sell),
        orders=(),
        order_updates=(),
        decisions=(),
        equity=(EquityRow(DAY1, D(899), D(999)), EquityRow(DAY2, D("1017.75"), D("1017.75"))),
        final_state=state,
        open_orders=(),
        ledger=ledger,
    )


def run(tmp_path: Path, folder: str = "out", as_str: bool = False) -> Path:
    out = tmp_path / folder
    write_results(result(), str(out) if as_str else out, {"config.yaml": "a: 1\n"})
    return out


def test_every_result_file_is_written_and_no_temp_file_is_left(tmp_path: Path) -> None:
    out = run(tmp_path)
    assert sorted(p.name for p in out.iterdir()) == sorted([*RESULT_FILES, "config.yaml"])


def test_ledger_and_trades_tables(tmp_path: Path) -> None:
    out = run(tmp_path)
    assert (out / "ledger.csv").read_text() == (
        "sequence,timestamp,type,strategy_id,symbol,quantity,price,cash_flow,commission,ratio,"
        "rate,days,position_after,reference,lots_closed,lots_named\n"
        "1,2024-07-01T16:00:00-04:00,fill,s1,AAA,10,10,-101,1,,,,10,F1,,\n"
        "2,2024-07-02T16:00:00-04:00,margin_interest,,,-50,,-0.25,0,,0.05,1,,margin,,\n"
        "3,2024-07-02T16:00:00-04:00,fill,s1,AAA,-10,12,119,1,,,,0,F2,F1:10,\n"
    )
    # one long trip: 10 x (12 - 10) = 20 gross, 2 of commission: 18
    assert (out / "trades.csv").read_text().splitlines()[1] == (
        "s1,AAA,long,10,2024-07-01T16:00:00-04:00,10,2024-07-02T16:00:00-04:00,12,18,2,"
        "1 day, 0:00:00"
    ).replace("1 day, 0:00:00", '"1 day, 0:00:00"')
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["num_trades"], metrics["strategy.s1.pnl"]) == (1, 18.0)
    assert metrics["total_return"] == pytest.approx(1017.75 / 999 - 1)


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "metrics.json"
    target.write_text("old")
    # a lone surrogate cannot be encoded as UTF-8: the write fails half-way
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(target, "new \udcff")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_atomic_write_cleans_up_its_temp_file_on_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "fills.csv"
    target.write_text("old")

    def fail(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("qtrader.analytics.files.os.replace", fail)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["fills.csv"]


def test_results_replace_a_previous_run_in_one_step(tmp_path: Path) -> None:
    out = run(tmp_path)
    (out / "config.yaml").write_text("previous run\n")
    run(tmp_path)  # into the same folder: replaced whole
    assert (out / "config.yaml").read_text() == "a: 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folder left


def test_a_failed_write_leaves_the_previous_complete_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = run(tmp_path)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    written: list[str] = []
    real = Path.write_text

    def fail_on_the_third(self: Path, text: str, *args: object, **kwargs: object) -> int:
        written.append(self.name)
        if len(written) == 3:
            raise OSError("disk full")
        return real(self, text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", fail_on_the_third)
    with pytest.raises(OSError, match="disk full"):
        run(tmp_path)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # never a mix
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_folder_of_other_files_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(
        ValueError, match=r"holds files that are not results of a run \(notes.txt\)"
    ):
        run(tmp_path)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["notes.txt"]


def test_result_files_respect_the_umask_and_a_str_path_is_accepted(tmp_path: Path) -> None:
    import os  # noqa: PLC0415

    old = os.umask(0o027)
    try:
        out = run(tmp_path)
        atomic_write_text(tmp_path / "single.txt", "x")
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o750
    assert {p.stat().st_mode & 0o777 for p in out.iterdir()} == {0o640}
    assert (tmp_path / "single.txt").stat().st_mode & 0o777 == 0o640
    run(tmp_path, folder="as_str", as_str=True)
    assert (tmp_path / "as_str" / "metrics.json").is_file()


def test_orders_csv_shows_trailing_gtd_bracket_lots_and_parent_columns() -> None:
    from qtrader.analytics import result_tables  # noqa: PLC0415
    from qtrader.models import Order, OrderType, TimeInForce  # noqa: PLC0415

    common = {"strategy_id": "s1", "symbol": "AAA", "created_at": DAY1}
    orders = (
        Order(id="O1", side=Side.BUY, quantity=D(10), type=OrderType.LIMIT,
              limit_price=D(10), stop_loss_price=D(9), take_profit_price=D(12), **common),
        Order(id="O2", side=Side.SELL, quantity=D(10), type=OrderType.TRAILING_STOP,
              trail_percent=D(2), time_in_force=TimeInForce.GTD, expire_at=DAY2,
              close_lots=("F1",), **common),
        Order(id="O3", side=Side.SELL, quantity=D(10), type=OrderType.STOP, stop_price=D(9),
              parent_id="O1", **common),
    )  # fmt: skip
    lines = result_tables(replace(result(), orders=orders))["orders.csv"].splitlines()
    assert lines[0].split(",")[11:] == [
        "trail_amount", "trail_percent", "expire_at", "stop_loss_price", "take_profit_price",
        "close_lots", "parent_id",
    ]  # fmt: skip
    assert [line.split(",")[11:] for line in lines[1:]] == [
        ["", "", "", "9", "12", "", ""],
        ["", "2", "2024-07-02T16:00:00-04:00", "", "", "F1", ""],
        ["", "", "", "", "", "", "O1"],
    ]


# Result files written as a run goes (``ResultFileStream``, the engine's ``RecordSink``):
# the same bytes as the files of the whole result, trips and totals added up in parts, and
# nothing left behind when the run fails.

STREAMED_FILES = {
    "fills.csv", "orders.csv", "order_updates.csv", "trades.csv", "ledger.csv",
    "risk_decisions.csv", "equity.csv", "metrics.json", "config.yaml",
}  # fmt: skip


def batches() -> list[RecordBatch]:
    """The records of ``result()`` in two batches, cut between its two days."""
    whole = result()
    day = [
        RecordBatch(
            fills=tuple(f for f in whole.fills if (f.timestamp == DAY1) is first),
            ledger=tuple(e for e in whole.ledger if (e.timestamp == DAY1) is first),
        )
        for first in (True, False)
    ]
    return [day[0], RecordBatch(), day[1]]


def test_the_streamed_tables_are_the_tables_of_the_whole_result(tmp_path: Path) -> None:
    whole = result()
    metrics = compute_metrics(whole)
    stream = ResultFileStream(tmp_path / "out")
    for batch in batches():
        stream.write(batch)
    assert stream.path.parent == tmp_path
    assert stream.path.name.startswith(".out.")
    streamed = replace(whole, fills=(), ledger=(), records_streamed=True)
    tally = stream.tally
    figures = RunFigures.of(streamed, tally.fills, tally.holding)
    assert metrics_from(figures, tally.trades) == metrics
    assert tally.fills_by_symbol == {"AAA": 2}
    stream.publish(streamed, metrics, {"config.yaml": "a: 1\n"})
    written = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "out").iterdir()}
    assert set(written) == STREAMED_FILES
    for name, text in result_tables(whole).items():
        assert written[name] == text, name
    # the trip, by hand: bought 10 at 10, sold 10 at 12, commissions 1 + 1
    assert written["trades.csv"].splitlines()[1].startswith("s1,AAA,long,10,")
    assert ",12,18,2," in written["trades.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_discarded_stream_leaves_nothing_and_a_foreign_folder_is_refused(
    tmp_path: Path,
) -> None:
    stream = ResultFileStream(tmp_path / "out")
    stream.write(batches()[0])
    stream.discard()
    assert list(tmp_path.iterdir()) == []
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(OutputFolderError, match=r"holds files that are not results.*notes\.txt"):
        ResultFileStream(mine)
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]


def test_parts_add_up_to_the_whole() -> None:
    whole = result()
    builder = RoundTripBuilder()
    trips = [trip for batch in batches() for trip in builder.add(batch.ledger)]
    assert tuple(trips) == round_trips(whole.ledger)
    tally = TradeTally()
    tally.add(trips[:0])
    tally.add(trips)
    assert tally.stats() == trade_stats(trips)
    assert tally.by_strategy == {"s1": (1, Decimal(18))}
    totals = FillTotals()
    for batch in batches():
        totals.add(batch.fills)
    assert (totals.count, totals.notional, totals.commission) == (2, Decimal(220), Decimal(2))


def test_a_streamed_result_is_refused_where_its_records_are_needed() -> None:
    streamed = replace(result(), fills=(), ledger=(), records_streamed=True)
    with pytest.raises(ValueError, match="streamed"):
        compute_metrics(streamed)
    with pytest.raises(ValueError, match="streamed"):
        RunFigures.of(streamed)
    with pytest.raises(ValueError, match="streamed"):
        result_tables(streamed)


def test_a_relative_folder_is_published_where_it_was_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    stream = ResultFileStream(Path("out"))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # e.g. a strategy changed the working folder
    stream.publish(result(), {})
    assert (tmp_path / "out" / "fills.csv").is_file()
    assert list((tmp_path / "elsewhere").iterdir()) == []
