"""`qtrader data list | info | validate | update | sources` on small CSV folders.

The `tiny` fixture (conftest.py) is AAA.csv with 13 weekday bars, 2024-01-02 to
2024-01-18, and no gap near a split ratio (its largest close-to-open jump is 7 -> 10,
a ratio of 0.7, 5% from 2:3). Every expected count and date below is read off the
rows written here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel, ConfigDict
from rich.console import Console
from typer.testing import CliRunner, Result

from qtrader.cli import bootstrap
from qtrader.cli import data_commands as commands
from qtrader.cli.config import load_config
from qtrader.cli.main import app
from qtrader.cli.output import warn_anomalies
from qtrader.data import (
    Anomaly,
    AnomalyAction,
    DataError,
    HistoricalDataService,
    SourceSpec,
    SymbolData,
    UpdateReport,
    register_source,
)
from qtrader.models import PriceAdjustment

runner = CliRunner()

# AAA as traded with a 2-for-1 gap on 2024-01-04 (line 4): close 100, next open 50, and
# no split recorded -> one REPORTED anomaly, "overnight gap of 2x".
GAP_ROWS = """date,open,high,low,close,volume
2024-01-02,100,101,99,100,1000
2024-01-03,100,101,99,100,1000
2024-01-04,50,51,49,50,1000
2024-01-05,50,51,49,50,1000
"""
# BBB: 3 clean bars.
BBB_ROWS = """date,open,high,low,close,volume
2024-01-02,10,11,9,10,500
2024-01-03,10,11,9,10,500
2024-01-04,10,11,9,10,500
"""


def invoke(*args: str) -> Result:
    return runner.invoke(app, ["data", *args])


def cells(output: str, symbol: str) -> list[str]:
    """The cells of the table row of ``symbol`` (tables with or without vertical rules)."""
    for line in output.splitlines():
        tokens = line.replace("│", " ").split()
        if tokens and tokens[0] == symbol:
            return tokens
    raise AssertionError(f"no row for {symbol} in:\n{output}")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def set_line(path: Path, number: int, text: str) -> None:
    lines = path.read_text().splitlines()
    lines[number - 1] = text  # 1-based, header = line 1
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def gap(tiny: Path) -> Path:
    """The tiny config over AAA with an unrecorded 2-for-1 gap, and BBB outside the universe."""
    (tiny / "data" / "AAA.csv").write_text(GAP_ROWS)
    (tiny / "data" / "BBB.csv").write_text(BBB_ROWS)
    edit(tiny / "config.yaml", "end: 2024-01-18", "end: 2024-01-05")
    return tiny


# -- list ---------------------------------------------------------------------------------


def test_list_shows_every_symbol_of_the_source_and_marks_the_universe(tiny: Path) -> None:
    (tiny / "data" / "BBB.csv").write_text(BBB_ROWS)
    result = invoke("list", str(tiny / "config.yaml"))
    assert result.exit_code == 0, result.output
    assert f"source csv: {tiny / 'data'} (unadjusted prices)" in result.stdout
    assert cells(result.stdout, "AAA") == ["AAA", "2024-01-02", "2024-01-18", "13", "yes"]
    assert cells(result.stdout, "BBB") == ["BBB", "2024-01-02", "2024-01-04", "3"]
    assert "2 symbols, 1 in the config's universe" in result.stdout
    assert result.stderr == ""


def test_list_warns_about_universe_symbols_the_source_lacks(tiny: Path) -> None:
    edit(tiny / "config.yaml", "symbols: [AAA]", "symbols: [AAA, ZZZ]")
    result = invoke("list", str(tiny / "config.yaml"))
    assert result.exit_code == 0, result.output
    assert "1 symbol, 1 in the config's universe" in result.stdout
    assert "warning: in the universe but not in the source: ZZZ" in result.stderr


def test_list_marks_a_file_that_fails_and_exits_2(tiny: Path) -> None:
    (tiny / "data" / "BBB.csv").write_text(BBB_ROWS)
    set_line(tiny / "data" / "BBB.csv", 3, "2024-01-03,10,9,11,10,500")  # high 9 < low 11
    result = invoke("list", str(tiny / "config.yaml"))
    assert result.exit_code == 2
    assert cells(result.stdout, "AAA")[3] == "13"
    assert cells(result.stdout, "BBB") == ["BBB", "-", "-", "failed"]
    error = result.stderr.strip()
    assert error.startswith(f"error: BBB: {tiny / 'data' / 'BBB.csv'}, line 3:")
    assert len(error.splitlines()) == 1
    assert "Traceback" not in result.output


def test_list_reports_a_source_that_cannot_list(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: HistoricalDataService) -> list[str]:
        raise DataError("cannot list the folder", path=tiny / "data")

    monkeypatch.setattr(HistoricalDataService, "symbols", refuse)
    result = invoke("list", str(tiny / "config.yaml"))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {tiny / 'data'}: cannot list the folder"


# -- info ---------------------------------------------------------------------------------


def test_info_shows_range_actions_and_no_anomalies(tiny: Path) -> None:
    (tiny / "data" / "BBB.csv").write_text(BBB_ROWS)
    (tiny / "actions.csv").write_text(
        "date,symbol,type,value\n2024-01-08,AAA,split,4\n2024-01-12,AAA,dividend,0.25\n"
        "2024-01-10,BBB,split,1:10\n"
    )
    edit(tiny / "config.yaml", "  path: data\n", "  path: data\n  actions: actions.csv\n")
    result = invoke("info", str(tiny / "config.yaml"), "AAA")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"AAA: source csv: {tiny / 'data'} (unadjusted prices)"
    assert lines[1] == "sessions: 2024-01-02 to 2024-01-18, 13 bars"
    assert lines[2] == "in the config's universe: yes"
    assert "corporate actions (2)" in result.stdout
    assert cells(result.stdout, "2024-01-08") == ["2024-01-08", "split", "4-for-1", "(ratio", "4)"]
    assert cells(result.stdout, "2024-01-12") == ["2024-01-12", "dividend", "0.25", "per", "share"]
    assert "2024-01-10" not in result.stdout  # BBB's split is not AAA's
    assert lines[-1] == "anomalies: none"


def test_info_of_a_symbol_outside_the_universe_with_a_reverse_split(gap: Path) -> None:
    (gap / "actions.csv").write_text("date,symbol,type,value\n2024-01-03,BBB,split,1:10\n")
    edit(gap / "config.yaml", "  path: data\n", "  path: data\n  actions: actions.csv\n")
    result = invoke("info", str(gap / "config.yaml"), "BBB")
    assert result.exit_code == 0, result.output
    assert "sessions: 2024-01-02 to 2024-01-04, 3 bars" in result.stdout
    assert "in the config's universe: no" in result.stdout
    # 1:10 is 1 new share per 10 old: ratio 0.1
    row = cells(result.stdout, "2024-01-03")
    assert row == ["2024-01-03", "reverse", "split", "1-for-10", "(ratio", "0.1)"]


def test_info_lists_anomalies_up_to_the_limit(tiny: Path) -> None:
    edit(tiny / "config.yaml", "  path: data\n", "  path: data\n  validation: repair\n")
    for line in (5, 7, 9):  # 2024-01-05, 01-09, 01-11 get a negative volume: dropped
        fields = (tiny / "data" / "AAA.csv").read_text().splitlines()[line - 1].split(",")
        set_line(tiny / "data" / "AAA.csv", line, ",".join([*fields[:5], "-1"]))
    result = invoke("info", str(tiny / "config.yaml"), "AAA", "--limit", "2")
    assert result.exit_code == 0, result.output
    assert "sessions: 2024-01-02 to 2024-01-18, 10 bars" in result.stdout  # 13 - 3
    assert "anomalies: 3" in result.stdout
    assert "AAA.csv, line 5: AAA 2024-01-05:" in result.stdout
    assert "AAA.csv, line 7: AAA 2024-01-09:" in result.stdout
    assert "line 9" not in result.stdout
    assert "  ... and 1 more" in result.stdout


def test_info_of_an_unknown_symbol_is_a_one_line_error(tiny: Path) -> None:
    result = invoke("info", str(tiny / "config.yaml"), "ZZZ")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: {tiny / 'data'}: unknown symbol(s) ZZZ: no ZZZ.csv in the folder"
    )
    assert result.stdout == ""


# -- validate -----------------------------------------------------------------------------


def test_validate_clean_data(tiny: Path) -> None:
    result = invoke("validate", str(tiny / "config.yaml"))
    assert result.exit_code == 0, result.output
    # symbol, bars, first, last, actions, dropped, widened, reported
    assert cells(result.stdout, "AAA") == [
        "AAA", "13", "2024-01-02", "2024-01-18", "0", "0", "0", "0",
    ]  # fmt: skip
    assert "warning" not in result.output
    assert result.stdout.splitlines()[-1] == "ok: 1 symbol loaded, no anomalies"


def test_validate_highlights_a_gap_that_looks_like_an_unrecorded_split(gap: Path) -> None:
    result = invoke("validate", str(gap / "config.yaml"))
    assert result.exit_code == 0, result.output  # anomalies are warnings
    assert cells(result.stdout, "AAA") == [
        "AAA", "4", "2024-01-02", "2024-01-05", "0", "0", "0", "1",
    ]  # fmt: skip
    assert "warning: 1 overnight gap looks like an unrecorded split:" in result.stdout
    # close 100 on 01-03 / open 50 on 01-04 = 2, line 4 of the file
    assert (
        f"  {gap / 'data' / 'AAA.csv'}, line 4: AAA 2024-01-04: overnight gap of 2x "
        "(close 100 on 2024-01-03, open 50) with no split recorded: looks like an "
        "unrecorded 2-for-1 split" in result.stdout
    )
    assert result.stdout.splitlines()[-1] == "ok: 1 symbol loaded, 1 anomaly (warnings above)"


def test_validate_checks_the_benchmark_too(tiny: Path) -> None:
    # SPY is only the benchmark: its unrecorded split moves alpha and beta, and validate
    # never looked at it.
    (tiny / "data" / "SPY.csv").write_text(GAP_ROWS)
    edit(tiny / "config.yaml", "initial_cash: 10000", "initial_cash: 10000\nbenchmark: SPY")
    result = invoke("validate", str(tiny / "config.yaml"))
    assert result.exit_code == 0, result.output
    assert cells(result.stdout, "SPY") == [
        "SPY", "4", "2024-01-02", "2024-01-05", "0", "0", "0", "1",
    ]  # fmt: skip
    assert "warning: 1 overnight gap looks like an unrecorded split:" in result.stdout


def test_validate_a_recorded_split_is_no_warning(gap: Path) -> None:
    (gap / "actions.csv").write_text("date,symbol,type,value\n2024-01-04,AAA,split,2\n")
    edit(gap / "config.yaml", "  path: data\n", "  path: data\n  actions: actions.csv\n")
    result = invoke("validate", str(gap / "config.yaml"))
    assert result.exit_code == 0, result.output
    assert cells(result.stdout, "AAA")[4:] == ["1", "0", "0", "0"]
    assert "warning" not in result.output


def test_validate_counts_dropped_and_widened_rows(tiny: Path) -> None:
    edit(
        tiny / "config.yaml",
        "  path: data\n",
        "  path: data\n  validation: repair\n  tolerance: 0.01\n",
    )
    path = tiny / "data" / "AAA.csv"
    set_line(path, 5, "2024-01-05,9.0,9.5,8.5,-9.0,1000")  # negative close: dropped
    # 2024-01-08: open 8.55 above high 8.5 by 0.05 / 8.5 = 0.6% <= 1%: widened
    set_line(path, 6, "2024-01-08,8.55,8.5,7.5,8.0,1000")
    result = invoke("validate", str(tiny / "config.yaml"))
    assert result.exit_code == 0, result.output
    assert cells(result.stdout, "AAA") == [
        "AAA", "12", "2024-01-02", "2024-01-18", "0", "1", "1", "0",
    ]  # fmt: skip
    assert "warning: 2 data rows were dropped or widened while loading" in result.stdout
    assert "AAA.csv, line 5: AAA 2024-01-05:" in result.stdout
    assert "AAA.csv, line 6: AAA 2024-01-08:" in result.stdout
    assert "ok: 1 symbol loaded, 2 anomalies (warnings above)" in result.stdout


def test_validate_a_bad_file_names_file_and_line_and_exits_2(gap: Path) -> None:
    edit(gap / "config.yaml", "symbols: [AAA]", "symbols: [AAA, BBB]")
    set_line(gap / "data" / "BBB.csv", 4, "2024-01-04,10,11,9,,500")  # no close
    result = invoke("validate", str(gap / "config.yaml"))
    assert result.exit_code == 2
    assert cells(result.stdout, "AAA")[1] == "4"  # the others are still checked
    assert cells(result.stdout, "BBB") == ["BBB", "failed", "-", "-", "-", "-", "-", "-"]
    (error,) = result.stderr.strip().splitlines()
    assert error.startswith(f"error: BBB: {gap / 'data' / 'BBB.csv'}, line 4:")
    assert "close" in error
    assert "ok:" not in result.stdout
    assert "Traceback" not in result.output


def test_validate_an_unknown_symbol(tiny: Path) -> None:
    edit(tiny / "config.yaml", "symbols: [AAA]", "symbols: [AAA, ZZZ]")
    result = invoke("validate", str(tiny / "config.yaml"))
    assert result.exit_code == 2
    assert "error: ZZZ: " in result.stderr
    assert "no ZZZ.csv in the folder" in result.stderr


# -- the backtest console -----------------------------------------------------------------


def test_backtest_warns_about_a_gap_that_looks_like_an_unrecorded_split(gap: Path) -> None:
    edit(gap / "config.yaml", "name: sma_crossover", "name: buy_and_hold")
    edit(gap / "config.yaml", "{fast: 2, slow: 3, quantity: 100}", "{quantity: 10}")
    out = gap / "out"
    result = runner.invoke(app, ["backtest", str(gap / "config.yaml"), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(
        "warning: 1 overnight gap looks like an unrecorded split: the prices are not adjusted "
        "for it and no split action records it, so positions book the gap as profit or loss "
        "(all in data_anomalies.csv)\n"
    )
    assert "AAA 2024-01-04: overnight gap of 2x" in result.stderr
    assert "dropped or widened" not in result.stderr
    rows = (out / "data_anomalies.csv").read_text().splitlines()
    assert rows[0] == "symbol,source,line,date,problem,action"
    assert rows[1].startswith('AAA,AAA.csv,4,2024-01-04,"overnight gap of 2x (close 100 on')
    assert rows[1].endswith(",reported")


def test_backtest_shows_each_kind_of_anomaly_separately(gap: Path) -> None:
    edit(gap / "config.yaml", "  path: data\n", "  path: data\n  validation: repair\n")
    set_line(gap / "data" / "AAA.csv", 5, "2024-01-05,50,51,49,-50,1000")  # dropped
    result = runner.invoke(app, ["backtest", str(gap / "config.yaml")])
    assert result.exit_code == 0, result.output
    assert "warning: 1 overnight gap looks like an unrecorded split" in result.stderr
    assert "warning: 1 data rows were dropped or widened while loading\n" in result.stderr
    assert "data_anomalies.csv" not in result.stderr  # nothing written without --output


def test_other_reported_rows_are_their_own_warning() -> None:
    screen = io.StringIO()
    reported = AnomalyAction.REPORTED
    tick = Anomaly("AAA", "2024-01-03", "low 9.5 is 90% under the close", reported)
    split = Anomaly("AAA", "2024-01-04", "looks like an unrecorded 2-for-1 split", reported)
    warn_anomalies(Console(file=screen, width=80), [tick, split, tick], written=True)
    assert screen.getvalue().splitlines() == [
        "warning: 1 overnight gap looks like an unrecorded split: the prices are not adjusted "
        "for it and no split action records it, so positions book the gap as profit or loss "
        "(all in data_anomalies.csv)",
        "  AAA 2024-01-04: looks like an unrecorded 2-for-1 split [reported]",
        "warning: 2 data rows look suspicious and were kept as they are (all in "
        "data_anomalies.csv)",
        "  AAA 2024-01-03: low 9.5 is 90% under the close [reported]",
        "  AAA 2024-01-03: low 9.5 is 90% under the close [reported]",
    ]


# -- update and a fetching source ---------------------------------------------------------


def test_update_of_local_files_has_nothing_to_fetch(tiny: Path) -> None:
    result = invoke("update", str(tiny / "config.yaml"))
    assert result.exit_code == 0, result.output
    assert result.stdout == "nothing to fetch: source 'csv' reads local files\n"


class FakeApiConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    rows: int = 5
    fail: bool = False


@dataclass
class FakeApiSource:
    """A fetching adapter that records what it is asked for and fetches ``rows`` rows."""

    config: FakeApiConfig
    calls: list[tuple[str, date, date]] = field(default_factory=list)

    location = "https://api.example.test/v1"
    price_adjustment = PriceAdjustment.SPLIT_ADJUSTED
    zone = ZoneInfo("America/New_York")

    def __post_init__(self) -> None:
        SOURCES.append(self)  # so a test can see what the command asked for

    def symbols(self) -> list[str]:
        return []

    def check_symbols(self, symbols: object) -> None:
        return None

    def load(self, symbol: str, start: date | None = None, end: date | None = None) -> SymbolData:
        self.calls.append((f"load {symbol}", start or date.min, end or date.max))
        raise DataError(f"nothing of {symbol} is cached")

    def update(self, symbol: str, start: date, end: date) -> UpdateReport:
        if self.config.fail:
            raise DataError(f"GET /pricehistory symbol={symbol}: 401 unauthorized")
        self.calls.append((symbol, start, end))
        return UpdateReport(symbol, self.config.rows, self.config.rows + 1, start, end)


SOURCES: list[FakeApiSource] = []
register_source(SourceSpec(name="fake-api", config=FakeApiConfig, build=FakeApiSource))


def api_config(folder: Path, extra: str = "") -> Path:
    config = folder / "api.yaml"
    config.write_text(
        f"""
start: 2024-01-02
end: 2024-01-18
initial_cash: 10000
warmup_bars: 10
data:
  source: fake-api
  symbols: [AAA, BBB]{extra}
strategy: {{name: buy_and_hold}}
"""
    )
    return config


def test_update_fetches_the_universe_over_the_window_with_warmup_room(tmp_path: Path) -> None:
    SOURCES.clear()
    result = invoke("update", str(api_config(tmp_path)))
    assert result.exit_code == 0, result.output
    # 10 warmup bars -> 10 * 3 // 2 + 14 = 29 calendar days before 2024-01-02: 2023-12-04
    window = (date(2023, 12, 4), date(2024, 1, 18))
    assert SOURCES[-1].calls == [("AAA", *window), ("BBB", *window)]
    assert (
        "updating 2 symbols from https://api.example.test/v1, 2023-12-04 to 2024-01-18"
        in result.stdout
    )
    assert cells(result.stdout, "AAA") == ["AAA", "5", "6", "2023-12-04", "2024-01-18"]
    assert cells(result.stdout, "BBB") == ["BBB", "5", "6", "2023-12-04", "2024-01-18"]
    assert result.stdout.splitlines()[-1] == "fetched 10 rows for 2 symbols"


def test_update_failure_is_a_one_line_error(tmp_path: Path) -> None:
    result = invoke("update", str(api_config(tmp_path, "\n  fail: true")))
    assert result.exit_code == 2
    assert result.stderr == "error: GET /pricehistory symbol=AAA: 401 unauthorized\n"


def test_validate_of_a_fetching_source_reads_the_cache_and_fetches_nothing(
    tmp_path: Path,
) -> None:
    SOURCES.clear()
    result = invoke("validate", str(api_config(tmp_path)))
    assert result.exit_code == 2
    assert "cached data only: `qtrader data update` fetches what is missing" in result.stdout
    # load without dates (the cache only), never update
    assert SOURCES[-1].calls == [
        ("load AAA", date.min, date.max),
        ("load BBB", date.min, date.max),
    ]
    assert result.stderr == (
        "error: AAA: nothing of AAA is cached\nerror: BBB: nothing of BBB is cached\n"
    )


def test_update_shows_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    SOURCES.clear()
    config = load_config(api_config(tmp_path))
    data = bootstrap.build_data(config, tmp_path)
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=80)
    window = (date(2024, 1, 2), date(2024, 1, 5))
    reports = commands.run_update(data, ("AAA", "BBB"), window, terminal)
    assert [r.symbol for r in reports] == ["AAA", "BBB"]
    assert "2/2" in screen.getvalue()  # the bar's last state: both symbols done


# -- errors and the list of sources -------------------------------------------------------


@pytest.mark.parametrize("command", ["list", "validate", "update"])
def test_a_bad_config_is_an_error_without_traceback(tmp_path: Path, command: str) -> None:
    result = invoke(command, str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path / 'nope.yaml'}: no such config file\n"


def test_an_adapter_that_cannot_be_imported_is_a_config_error(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing(*args: object, **kwargs: object) -> HistoricalDataService:
        raise ModuleNotFoundError("No module named 'httpx'")

    monkeypatch.setattr(bootstrap, "open_data_service", missing)
    result = invoke("list", str(tiny / "config.yaml"))
    assert result.exit_code == 2
    assert result.stderr == (
        "error: data.source: cannot load the 'csv' adapter: No module named 'httpx'\n"
    )


def test_sources_lists_the_adapters_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("qtrader.data.source_names", lambda: ["csv", "nosuch"])
    result = invoke("sources")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "csv        a folder of SYMBOL.csv files (+ optional actions file)"
    assert lines[1].startswith("nosuch     (unavailable: unknown data source 'nosuch'")
