"""Smoke test of the benchmark without any peer (no network): a tiny dataset, the QTrader
runner through the real CLI, the fill comparison against the exact reference, the report."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from qtrader.bench import cli, envs, qtrader_child
from qtrader.bench.data import (
    Size,
    business_days,
    ensure_dataset,
    generate_series,
    micro_text,
    remove_ties,
    symbol_names,
    tie_gaps,
)
from qtrader.bench.fills import (
    Fill,
    FillsMismatchError,
    check_fills,
    diff_fills,
    make_fill,
    read_fills,
    read_qtrader_fills,
    write_fills,
)
from qtrader.bench.memory import peak_rss_kib
from qtrader.bench.reference import reference_fills, symbol_fills, to_micro
from qtrader.bench.report import Row, markdown_table
from qtrader.bench.runner import (
    RunFailedError,
    qtrader_command,
    qtrader_config,
    run_child,
)

TINY = Size(3, 80)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_dataset(tmp_path_factory.mktemp("data"), TINY, seed=7)


def test_data_is_deterministic_valid_and_without_ties(tiny: Path) -> None:
    first = (tiny / "S0001.csv").read_text()
    again = ensure_dataset(tiny.parent / "again", TINY, seed=7)
    assert (again / "S0001.csv").read_text() == first
    assert ensure_dataset(tiny.parent, TINY, seed=7) == tiny  # manifest matches: reused
    # S0001 does not depend on how many symbols there are
    bigger = ensure_dataset(tiny.parent / "bigger", Size(5, 80), seed=7)
    assert (bigger / "S0001.csv").read_text() == first
    lines = first.splitlines()
    assert lines[0] == "date,open,high,low,close,volume"
    assert len(lines) == 81
    for line in lines[1:]:
        day, o, h, lo, c, v = line.split(",")
        assert date.fromisoformat(day).weekday() < 5
        assert all(len(x.split(".")[1]) == 6 for x in (o, h, lo, c))
        assert float(lo) <= min(float(o), float(c)) <= max(float(o), float(c)) <= float(h)
        assert float(lo) > 0
        assert int(v) > 0
    closes = np.array([to_micro(line.split(",")[4]) for line in lines[1:]], dtype=np.int64)
    assert np.count_nonzero(tie_gaps(closes) == 0) == 0


def test_ties_are_removed_exactly() -> None:
    flat = np.full(40, 10 * 1_000_000, dtype=np.int64)
    assert np.count_nonzero(tie_gaps(flat) == 0) == 11
    fixed = remove_ties(flat)
    assert np.count_nonzero(tie_gaps(fixed) == 0) == 0
    assert int(np.abs(fixed - flat).max()) <= 2


def test_sizes_and_helpers() -> None:
    assert Size.parse("100x5000") == Size(100, 5000)
    assert Size.parse("3X80").label == "3x80"
    assert Size(3, 80).bars == 240
    for bad in ("100", "ax5", "1x10", "0x100"):
        with pytest.raises(ValueError, match="size"):
            Size.parse(bad)
    assert business_days(3, date(2024, 1, 5)) == [date(2024, 1, 5), date(2024, 1, 8),
                                                  date(2024, 1, 9)]  # fmt: skip
    assert micro_text(12_000_345) == "12.000345"
    assert symbol_names(2) == ["S0000", "S0001"]
    assert generate_series(4, 40, 1).symbol == "S0004"
    with pytest.raises(ValueError, match="6 decimals"):
        to_micro("1.0000001")
    assert peak_rss_kib() > 0
    assert peak_rss_kib(Path("/nonexistent/status")) > 0


def test_reference_follows_the_rules_by_hand() -> None:
    # SMA(2)/SMA(3): the hand-worked example of the CLI's tests (ties are no cross; an
    # order decided on the last bar never fills)
    closes = [10, 10, 10, 9, 8, 9, 11, 12, 11, 9, 8, 7, 10]
    opens = dict(enumerate(closes)) | {7: 11.75, 10: 8.25}
    dates = [d.isoformat() for d in business_days(13, date(2024, 1, 2))]
    fills, ties = symbol_fills(
        "AAA", dates, [to_micro(str(opens[i])) for i in range(13)],
        [c * 1_000_000 for c in closes], fast=2, slow=3,
    )  # fmt: skip
    assert ties == 1
    assert fills == [
        ("2024-01-11", "AAA", "buy", 100, 11_750_000),
        ("2024-01-16", "AAA", "sell", 100, 8_250_000),
    ]
    assert symbol_fills("AAA", dates[:3], [1, 2, 3], [1, 2, 3], fast=2, slow=3) == ([], 0)


def test_fill_normalisation_and_diff(tmp_path: Path) -> None:
    a = make_fill("2024-01-02T09:30:00-05:00", "AAA", "BUY", "100.0", "12.3400000001")
    assert a == Fill("2024-01-02", "AAA", "buy", 100, "12.340000")
    assert make_fill("2024-01-02", "AAA", "sell", 100, 12.34) == a._replace(side="sell")
    with pytest.raises(ValueError, match="fractional"):
        make_fill("2024-01-02", "AAA", "buy", "0.5", "1")
    with pytest.raises(ValueError, match="side"):
        make_fill("2024-01-02", "AAA", "short", "1", "1")
    b = a._replace(date="2024-01-03")
    assert diff_fills([a], [a]) == []
    lines = diff_fills([a, b], [b, b])
    assert lines[0] == "expected 2 fills, got 2"
    assert any("missing 2024-01-02,AAA" in line for line in lines)
    assert diff_fills([a, a], [a]) == ["expected 2 fills, got 1", "same fills, different "
                                       "multiplicities"]  # fmt: skip
    many = [a._replace(quantity=q) for q in range(1, 15)]
    assert any("4 more missing" in line for line in diff_fills(many, []))
    assert any("4 more extra" in line for line in diff_fills([], many))
    with pytest.raises(FillsMismatchError, match="fills of peer differ from QTrader") as err:
        check_fills("QTrader", [a], "peer", [b])
    assert err.value.lines
    write_fills(tmp_path / "f.csv", [b, a])
    assert read_fills(tmp_path / "f.csv") == [a, b]


def test_qtrader_runner_matches_the_reference(tiny: Path, tmp_path: Path) -> None:
    reference = reference_fills(tiny, symbol_names(TINY.symbols))
    assert reference.fills
    assert reference.ties == 0
    assert reference.min_cash > 900_000
    config = tmp_path / "config.yaml"
    config.write_text(qtrader_config(tiny, TINY.symbols, TINY.days))
    report = tmp_path / "phases.json"
    fills = tmp_path / "out" / "fills.csv"
    run = run_child(
        "QTrader", qtrader_command(config, tmp_path / "out", report), report, fills, 120
    )
    assert run.wall_seconds > 0
    assert run.peak_rss_mib > 10
    assert run.load_seconds > 0
    assert run.backtest_seconds > 0
    check_fills("the reference", reference.fills, "QTrader", read_qtrader_fills(fills))


def test_qtrader_child_in_process(tiny: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(qtrader_config(tiny, TINY.symbols, TINY.days))
    report = tmp_path / "phases.json"
    code = qtrader_child.main(
        ["--json", str(report), "--", "backtest", str(config), "--output", str(tmp_path / "o")]
    )
    phases = json.loads(report.read_text())
    assert code == 0
    assert phases["exit_code"] == 0
    assert phases["load_seconds"] > 0
    assert phases["peak_rss_kib"] > 0
    assert (tmp_path / "o" / "fills.csv").exists()
    code = qtrader_child.main(["--json", str(report), "backtest", str(tmp_path / "missing")])
    assert code != 0


def test_a_failing_child_is_reported(tmp_path: Path) -> None:
    with pytest.raises(RunFailedError, match="exit code 3"):
        run_child("x", [sys.executable, "-c", "import sys; sys.exit(3)"],
                  tmp_path / "r.json", tmp_path / "f.csv", 30)  # fmt: skip
    with pytest.raises(RunFailedError, match="killed"):
        run_child("x", [sys.executable, "-c", "import time; time.sleep(5)"],
                  tmp_path / "r.json", tmp_path / "f.csv", 0.2)  # fmt: skip


def test_report_table() -> None:
    rows = [
        Row("10x5000", 50_000, "QTrader", 3, 2.0, 0.5, 1.0, 100.0, 7),
        Row("10x5000", 50_000, "backtrader", 3, 8.0, 1.0, 6.0, 50.0, 7),
        Row("10x5000", 50_000, "NautilusTrader", 0, 0, 0, 0, 0, 0, "skipped: too slow"),
    ]
    table = markdown_table(rows).splitlines()
    assert table[0].startswith("| size | library | QTrader speed-up (wall) |")
    assert table[2].startswith("| 10x5000 | QTrader | - | - | - | 2.00 | 0.50 | 1.00 | 25,000 |")
    assert table[3].startswith("| 10x5000 | backtrader | 4.00x | 6.00x | 2.00x | 8.00 |")
    assert "skipped: too slow" in table[4]
    assert rows[0].bars_per_second == 25_000
    assert Row("s", 1, "QTrader", 1, 1.0, 0.0, 0.0, 1.0, 0).backtest_bars_per_second == float("inf")


def test_cli_without_peers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rows.json"
    code = cli.main(["--sizes", "3x80", "--peers", "none", "--repeat", "2",
                     "--work-dir", str(tmp_path), "--json", str(out)])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert "| 3x80 | QTrader | - | - | - |" in printed
    assert "run 2/2 QTrader" in printed
    assert "fills" in printed
    rows = json.loads(out.read_text())
    assert rows[0]["library"] == "QTrader"
    assert rows[0]["runs"] == 2


def test_cli_stops_loudly_on_different_fills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = reference_fills

    def wrong(folder: Path, symbols: list[str]) -> object:
        result = real(folder, symbols)
        return type(result)(result.fills[1:], result.min_cash, result.ties)

    monkeypatch.setattr(cli, "reference_fills", wrong)
    code = cli.main(["--sizes", "3x80", "--peers", "none", "--repeat", "1",
                     "--work-dir", str(tmp_path)])  # fmt: skip
    assert code == 1
    assert "FILLS DIFFER" in capsys.readouterr().out


def test_cli_reports_a_failing_qtrader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "qtrader_config", lambda *a: "start: [\n")
    code = cli.main(["--sizes", "3x80", "--peers", "none", "--repeat", "1",
                     "--work-dir", str(tmp_path)])  # fmt: skip
    assert code == 2
    assert "QTrader FAILED" in capsys.readouterr().out


def test_cli_arguments() -> None:
    args = cli.parse_args(["--sizes", "3x80,4x90", "--peers", "backtrader"])
    assert args.sizes == [Size(3, 80), Size(4, 90)]
    assert args.peers == ["backtrader"]
    assert cli.parse_args([]).peers == list(envs.PEERS)
    for bad in (["--repeat", "0"], ["--sizes", "3"], ["--peers", "zipline"]):
        with pytest.raises(SystemExit):
            cli.parse_args(bad)


def test_peers_skip_and_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A peer whose environment cannot be made is skipped with its reason; a peer that is
    ready runs side by side (here a stand-in script), and one estimated too slow is skipped."""
    monkeypatch.setattr(envs, "uv_command", lambda: None)
    assert cli.prepare_peers(["backtrader"], tmp_path / "none") == {}
    assert "SKIPPED" in capsys.readouterr().out
    with pytest.raises(envs.PeerUnavailableError, match="unknown peer"):
        envs.ensure_env("zipline", tmp_path)

    data = ensure_dataset(tmp_path / "data", TINY, seed=7)
    stand_in = tmp_path / "peer.py"
    stand_in.write_text(
        "import json, shutil, sys\n"
        "a = dict(zip(sys.argv[1::2], sys.argv[2::2]))\n"
        f"shutil.copy({str(tmp_path / 'expected.csv')!r}, a['--fills'])\n"
        "json.dump({'load_seconds': 0.1, 'backtest_seconds': 0.2, 'peak_rss_kib': 2048},"
        " open(a['--json'], 'w'))\n"
    )
    write_fills(tmp_path / "expected.csv", reference_fills(data, symbol_names(3)).fills)
    peer = envs.PeerEnv("backtrader", Path(sys.executable), stand_in)
    broken = envs.PeerEnv("nautilus", Path(sys.executable), tmp_path / "missing.py")
    args = cli.parse_args(["--repeat", "1", "--work-dir", str(tmp_path), "--max-seconds", "5"])
    previous = {"backtesting": [(1, 10.0)]}
    peers = {"backtrader": peer, "backtesting": peer, "nautilus": broken}
    rows = cli.run_size(TINY, args, peers, previous)
    by_library = {row.library: row for row in rows}
    assert by_library["backtrader"].peak_rss_mib == 2.0
    assert by_library["backtrader"].runs == 1
    assert by_library["backtesting.py"].note.startswith("skipped: estimated")
    assert by_library["NautilusTrader"].note.startswith("skipped: NautilusTrader: exit code")
    assert "backtrader" in previous


def test_peer_environment_is_reused_when_stamped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "backtrader"
    (folder / "bin").mkdir(parents=True)
    (folder / "bin" / "python").write_text("")
    (folder / ".qtrader-bench-stamp").write_text(envs.stamp_of("backtrader"))
    env = envs.ensure_env("backtrader", tmp_path)
    assert env.python == folder / "bin" / "python"
    assert env.script.name == "backtrader_peer.py"
    assert env.script.exists()
    assert envs.requirements("nautilus").read_text().count("nautilus-trader==") == 1
    # a stale stamp remakes it; here "uv" is a command that fails, so the peer is unavailable
    (folder / ".qtrader-bench-stamp").write_text("stale")
    monkeypatch.setattr(envs, "uv_command", lambda: "false")
    with pytest.raises(envs.PeerUnavailableError, match="uv venv failed"):
        envs.ensure_env("backtrader", tmp_path)


def test_the_skip_estimate_follows_the_growth_the_smaller_sizes_showed() -> None:
    # One size: linear in the bars. 10 s at 50,000 bars -> 100 s at 500,000.
    assert cli.estimate_seconds([(50_000, 10.0)], 500_000) == pytest.approx(100.0)
    # Two sizes: 2.5 s at 50,000 and 34.7 s at 500,000 bars is t ~ bars**k with
    # k = log10(34.7 / 2.5) = 1.1424; at 2,500,000 bars: 34.7 * 5**1.1424 = 218.5 s, over
    # a 180 s budget (a linear estimate would have said 173.5 s and run it).
    estimate = cli.estimate_seconds([(50_000, 2.5), (500_000, 34.7)], 2_500_000)
    assert estimate == pytest.approx(34.7 * 5 ** (np.log10(34.7 / 2.5)), rel=1e-12)
    assert 218 < estimate < 219
    # Never less than linear, even when the smaller sizes grew slower (start-up cost).
    assert cli.estimate_seconds([(50_000, 1.0), (500_000, 2.0)], 1_000_000) == pytest.approx(4.0)


def test_qtrader_sources_get_their_bytecode_whatever_the_environment_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The peers are installed with --compile-bytecode; QTrader's modules, installed
    # editable here, get theirs from compile_qtrader_sources even when writing bytecode
    # at import is switched off.
    import importlib.util  # noqa: PLC0415

    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    source = Path(envs.__file__)
    cached = Path(importlib.util.cache_from_source(str(source)))
    cached.unlink(missing_ok=True)  # so that only the call below can have written it
    folders = envs.compile_qtrader_sources()
    assert any(source.is_relative_to(folder) for folder in folders)
    assert cached.exists()
    assert cached.stat().st_mtime >= source.stat().st_mtime
