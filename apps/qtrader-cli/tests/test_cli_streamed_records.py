"""`qtrader backtest` streams a run's records into its results folder as the run goes (so
memory does not grow with them). The folder it writes is byte for byte the one written from
the whole result at the end, however the records are cut into batches, and the console's
risk and refusal summaries are the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from qtrader.cli.bootstrap import RunOutcome, run_backtest
from qtrader.cli.config import BacktestConfig

EXAMPLES = Path(__file__).parents[3] / "examples"


def files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def both_ways(
    config: BacktestConfig, base_dir: Path, tmp_path: Path, batch: int
) -> tuple[RunOutcome, RunOutcome]:
    kept = run_backtest(config, base_dir, tmp_path / "kept")
    streamed = run_backtest(
        config, base_dir, tmp_path / "streamed", stream_records=True, records_per_batch=batch
    )
    return kept, streamed


def multi_strategy_with_costs() -> dict[str, Any]:
    """The multi-strategy example (two strategies, four symbols, five years) with a
    per-share commission and slippage, and a position limit that resizes and refuses."""
    config: dict[str, Any] = yaml.safe_load((EXAMPLES / "multi_strategy.yaml").read_text())
    config["execution"]["commission"] = {"model": "per_share", "rate": "0.005", "minimum": "1"}
    config["execution"]["slippage"] = {"model": "bps", "bps": 5}
    config["risk"]["max_position_pct"] = 0.02
    return config


@pytest.mark.parametrize(("batch", "breach"), [(1, "reject"), (7, "resize"), (1_000_000, "reject")])
def test_a_streamed_run_writes_the_same_folder_in_any_batches(
    tmp_path: Path, batch: int, breach: str
) -> None:
    config = multi_strategy_with_costs()
    config["risk"]["on_breach"] = breach
    kept, streamed = both_ways(BacktestConfig.model_validate(config), EXAMPLES, tmp_path, batch)
    # the run is rich enough to test anything: commissions, trips, resized or refused intents
    assert kept.metrics["num_trades"] > 50
    assert kept.metrics["total_commission"] > 0
    if breach == "resize":
        assert kept.decisions.resized > 0
    else:
        assert kept.decisions.rejected > 0
    assert files(tmp_path / "streamed") == files(tmp_path / "kept")
    assert streamed.metrics == kept.metrics
    assert streamed.decisions == kept.decisions
    assert streamed.refusals == kept.refusals
    # the streamed result keeps no record; its equity and final state are the run's
    assert streamed.result.records_streamed
    assert not kept.result.records_streamed
    assert streamed.result.fills == ()
    assert streamed.result.ledger == ()
    assert streamed.result.decisions == ()
    assert streamed.result.orders == ()
    assert streamed.result.equity == kept.result.equity
    assert streamed.result.final_state == kept.result.final_state
    # nothing is left beside the results folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept", "streamed"]


BAD_ORDERS = """
from decimal import Decimal

from qtrader.models import BaseStrategy


class Refused(BaseStrategy):
    def __init__(self) -> None:
        self.bars = 0

    def on_bar(self, ctx):
        self.bars += 1
        if self.bars == 1:
            ctx.buy("ZZZ", 1)  # the context refuses it
            ctx.buy("AAA", 5000)  # more than the cash: risk refuses it
            ctx.buy("AAA", 10)
        elif self.bars == 2:
            ctx.sell("AAA", 1, limit_price=Decimal("NaN"))  # the context refuses it
            ctx.sell("AAA", 10)
"""


def test_refusals_of_every_kind_are_the_same_when_streamed(tiny: Path) -> None:
    (tiny / "refused.py").write_text(BAD_ORDERS, encoding="utf-8")
    config: dict[str, Any] = yaml.safe_load((tiny / "config.yaml").read_text())
    config["strategy"] = {"name": "refused.py:Refused"}
    model = BacktestConfig.model_validate(config)
    kept, streamed = both_ways(model, tiny, tiny / "runs", batch=1)
    assert [r.by for r in kept.refusals] == ["context", "risk", "context"]
    assert streamed.refusals == kept.refusals
    assert streamed.decisions == kept.decisions
    assert files(tiny / "runs" / "streamed") == files(tiny / "runs" / "kept")


FAILS = """
from qtrader.models import BaseStrategy


class Fails(BaseStrategy):
    def __init__(self) -> None:
        self.bars = 0

    def on_bar(self, ctx):
        self.bars += 1
        ctx.buy("AAA", 1)
        if self.bars == 3:
            raise RuntimeError("boom")
"""


def test_a_streamed_run_that_fails_leaves_the_previous_results_untouched(tiny: Path) -> None:
    config: dict[str, Any] = yaml.safe_load((tiny / "config.yaml").read_text())
    out = tiny / "out"
    run_backtest(BacktestConfig.model_validate(config), tiny, out, stream_records=True)
    before = files(out)
    (tiny / "fails.py").write_text(FAILS, encoding="utf-8")
    config["strategy"] = {"name": "fails.py:Fails"}
    with pytest.raises(ValueError, match="boom"):
        run_backtest(
            BacktestConfig.model_validate(config),
            tiny,
            out,
            stream_records=True,
            records_per_batch=1,  # some records were written when it failed
        )
    assert files(out) == before
    assert not [p.name for p in tiny.iterdir() if p.name.startswith(".")]


def test_without_an_output_folder_the_records_are_only_added_up() -> None:
    config = BacktestConfig.model_validate(multi_strategy_with_costs())
    kept = run_backtest(config, EXAMPLES, None)
    streamed = run_backtest(config, EXAMPLES, None, stream_records=True, records_per_batch=5)
    assert streamed.result.records_streamed
    assert streamed.result.fills == ()
    assert streamed.metrics == kept.metrics
    assert streamed.decisions == kept.decisions
    assert streamed.refusals == kept.refusals
    assert kept.metrics["num_trades"] > 50  # type: ignore[operator]
