"""Walk-forward: windows by months, the best in-sample point run out of sample, stitched."""

from __future__ import annotations

import csv
import itertools
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from qtrader.cli.api import run_backtest
from qtrader.cli.config import load_config
from qtrader.cli.sweep import SerialExecutor, SweepError, SweepSpec, parse_axis
from qtrader.cli.sweep.walkforward import add_months, walk_forward, windows

ROOT = Path(__file__).resolve().parents[3]


def test_months_are_added_to_the_last_day_of_short_months() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 11, 15), 3) == date(2024, 2, 15)


def test_windows_from_a_month_end_leave_no_session_out() -> None:
    # From 31 January, one month in sample and one out: the out-of-sample periods sit end
    # to end. Each used to end a month after its own start, already cut to a short month
    # (28 February -> 27 March), then the next began on 31 March: 28-30 March were in none.
    found = windows(date(2019, 1, 31), date(2019, 7, 31), 1, 1, anchored=False)
    assert [(w.out_start, w.out_end) for w in found] == [
        (date(2019, 2, 28), date(2019, 3, 30)),
        (date(2019, 3, 31), date(2019, 4, 29)),
        (date(2019, 4, 30), date(2019, 5, 30)),
        (date(2019, 5, 31), date(2019, 6, 29)),
        (date(2019, 6, 30), date(2019, 7, 30)),
        (date(2019, 7, 31), date(2019, 7, 31)),
    ]
    for before, after in itertools.pairwise(found):
        assert after.out_start == before.out_end + timedelta(days=1)
        assert after.in_end == after.out_start - timedelta(days=1)


def test_rolling_and_anchored_windows() -> None:
    rolling = windows(date(2020, 1, 1), date(2021, 3, 31), 12, 2, anchored=False)
    assert [(w.in_start, w.in_end, w.out_start, w.out_end) for w in rolling] == [
        (date(2020, 1, 1), date(2020, 12, 31), date(2021, 1, 1), date(2021, 2, 28)),
        (date(2020, 3, 1), date(2021, 2, 28), date(2021, 3, 1), date(2021, 3, 31)),  # cut
    ]
    anchored = windows(date(2020, 1, 1), date(2021, 3, 31), 12, 2, anchored=True)
    assert [w.in_start for w in anchored] == [date(2020, 1, 1), date(2020, 1, 1)]
    assert anchored[1].in_end == date(2021, 2, 28)
    with pytest.raises(SweepError, match="no walk-forward window"):
        windows(date(2020, 1, 1), date(2020, 6, 30), 12, 2, anchored=False)


def test_walk_forward_on_the_sample_data(tmp_path: Path) -> None:
    config = ROOT / "examples" / "sma_crossover.yaml"
    spec = SweepSpec(
        config,
        (parse_axis("strategy.params.fast=5,10"), parse_axis("strategy.params.slow=20,40")),
        tmp_path / "wf",
        metric="total_return",
    )
    result = walk_forward(spec, SerialExecutor(), train_months=24, test_months=12)
    base = load_config(config)
    assert [w.window.out_start for w in result.windows] == [
        date(2021, 1, 2), date(2022, 1, 2), date(2023, 1, 2),
    ]  # fmt: skip
    for w in result.windows:
        assert w.point is not None
        # Independently: every point in sample, the best by total return, then out of sample.
        scores = {}
        for fast in (5, 10):
            for slow in (20, 40):
                document = base.model_dump(mode="json", exclude_none=True)
                document.update(start=str(w.window.in_start), end=str(w.window.in_end))
                document["strategy"]["params"].update(fast=fast, slow=slow)
                run = run_backtest(document, base_dir=config.parent)
                scores[(fast, slow)] = run.metrics["total_return"]
        best = max(scores.items(), key=lambda kv: (kv[1], -list(scores).index(kv[0])))[0]
        assert (w.point["strategy.params.fast"], w.point["strategy.params.slow"]) == best
        assert w.in_sample == scores[best]
    rows = list(csv.DictReader((tmp_path / "wf" / "walkforward.csv").read_text().splitlines()))
    assert len(rows) == 3
    assert float(rows[0]["gap"]) == pytest.approx(
        float(rows[0]["out_of_sample_total_return"]) - float(rows[0]["in_sample_total_return"])
    )
    # Stitched: window 1 starts at the initial cash; each next window starts where the last
    # ended; the whole curve's growth is the product of the windows' growths.
    curve = result.equity
    assert curve[0][1] == Decimal(1_000_000)
    growth = Decimal(1)
    for w in result.windows:
        equity = (tmp_path / "wf" / "windows" / f"{w.window.number:03d}" / "equity.csv").read_text()
        values = [Decimal(line.split(",")[2]) for line in equity.splitlines()[1:]]
        growth *= values[-1] / values[0]
    assert curve[-1][1] == pytest.approx(Decimal(1_000_000) * growth)
    page = (tmp_path / "wf" / "walkforward.html").read_text()
    assert page.count("<tr>") == 4  # the header and three windows
    assert '<path d="M10.0,' in page


def test_window_folders_keep_references_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The window runs wrote the data path a ${VAR} gave, not the reference.
    monkeypatch.setenv("QT_SAMPLE", str(ROOT / "examples" / "data" / "sample"))
    config = tmp_path / "c.yaml"
    text = (ROOT / "examples" / "sma_crossover.yaml").read_text()
    config.write_text(text.replace("path: data/sample", "path: ${QT_SAMPLE}"))
    spec = SweepSpec(config, (parse_axis("strategy.params.fast=5,10"),), tmp_path / "wf")
    result = walk_forward(spec, SerialExecutor(), train_months=36, test_months=24)
    assert result.windows
    for w in result.windows:
        text = (tmp_path / "wf" / "windows" / f"{w.window.number:03d}" / "config.yaml").read_text()
        assert "path: ${QT_SAMPLE}" in text
        assert str(ROOT / "examples") not in text


def test_a_walk_forward_that_chose_nothing_is_an_error_not_an_empty_success(
    tmp_path: Path,
) -> None:
    # Every in-sample run fails (fast=abc): it exited 0 with an empty oos_equity.csv, and
    # walkforward.html showed the errors escaped twice (&amp;#x27;).
    config = ROOT / "examples" / "sma_crossover.yaml"
    spec = SweepSpec(config, (parse_axis("strategy.params.fast=abc"),), tmp_path / "wf")
    with pytest.raises(SweepError, match="no window could choose parameters"):
        walk_forward(spec, SerialExecutor(), train_months=36, test_months=24)
    page = (tmp_path / "wf" / "walkforward.html").read_text()
    assert "&amp;#x27;" not in page
    assert "strategy &#x27;sma_crossover&#x27;" in page
    # A misspelt metric stops at the first window, naming the one meant.
    spec = SweepSpec(
        config, (parse_axis("strategy.params.fast=5"),), tmp_path / "wf2", metric="sharpee"
    )
    with pytest.raises(SweepError, match="did you mean 'sharpe'"):
        walk_forward(spec, SerialExecutor(), train_months=36, test_months=24)
