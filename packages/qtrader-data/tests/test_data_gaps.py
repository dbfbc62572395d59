"""Overnight gaps that look like an unrecorded split are reported, never silent or fixed."""

from __future__ import annotations

from pathlib import Path

import pytest

from qtrader.data import AnomalyAction, CsvDataConfig, CsvDataService

HEADER = "date,open,high,low,close,volume\n"


def write(folder: Path, rows: list[tuple[str, float, float]], name: str = "AAA") -> None:
    """Rows of (day, open, close); high/low bracket them."""
    text = "".join(f"{d},{o},{max(o, c) + 1},{min(o, c) - 0.5},{c},100\n" for d, o, c in rows)
    (folder / f"{name}.csv").write_text(HEADER + text)


def reported(folder: Path, **options: object) -> list[tuple[int | None, str, str]]:
    svc = CsvDataService(CsvDataConfig.model_validate({"path": folder, **options}))
    svc.load("AAA")
    return [
        (a.line, a.date, a.problem) for a in svc.anomalies if a.action is AnomalyAction.REPORTED
    ]


def test_a_four_for_one_gap_without_a_split_is_reported_with_file_and_line(
    tmp_path: Path,
) -> None:
    # Close 500 on Friday, open 125.5 on Monday: 500 / 125.5 = 3.984, within 3% of 4.
    write(
        tmp_path, [("2020-08-27", 498, 499), ("2020-08-28", 499, 500), ("2020-08-31", 125.5, 127)]
    )
    ((line, day, problem),) = reported(tmp_path)
    assert (line, day) == (4, "2020-08-31")
    assert problem.startswith("overnight gap of 3.984x (close 500 on 2020-08-28, open 125.5)")
    assert "unrecorded 4-for-1 split" in problem


def test_a_reverse_split_gap_and_an_ordinary_move_are_told_apart(tmp_path: Path) -> None:
    # 2.0 -> 20.2 is 1/10.1 (within 3% of 1/10); 20.2 -> 19 is an ordinary 6% move.
    write(tmp_path, [("2024-01-02", 2, 2), ("2024-01-03", 20.2, 20.2), ("2024-01-04", 19, 19)])
    ((_, day, problem),) = reported(tmp_path)
    assert day == "2024-01-03"
    assert "1-for-10 reverse split" in problem


def test_a_recorded_split_explains_the_gap(tmp_path: Path) -> None:
    write(tmp_path, [("2020-08-28", 499, 500), ("2020-08-31", 125.5, 127)])
    actions = tmp_path / "actions.csv"
    # Recorded on the ex-date, or on a day without a bar between the two sessions.
    for ex_date in ("2020-08-31", "2020-08-29"):
        actions.write_text(f"date,symbol,type,value\n{ex_date},AAA,split,4\n")
        assert reported(tmp_path, actions=actions) == []


@pytest.mark.parametrize("adjustment", ["split_adjusted", "total_return"])
def test_adjusted_feeds_are_not_checked(tmp_path: Path, adjustment: str) -> None:
    write(tmp_path, [("2020-08-28", 499, 500), ("2020-08-31", 125.5, 127)])
    assert reported(tmp_path, price_adjustment=adjustment) == []


def test_only_the_first_bar_of_a_session_is_compared_on_intraday_data(tmp_path: Path) -> None:
    rows = [
        ("2024-01-02 10:00", 100.0, 100.0),
        ("2024-01-02 10:01", 50.0, 50.0),  # within a session: a crash, not a split
        ("2024-01-03 10:00", 25.2, 25.0),  # 50 / 25.2 = 1.984 across sessions: a 2-for-1
        ("2024-01-03 10:01", 25.0, 25.0),
    ]
    write(tmp_path, rows)
    ((line, day, problem),) = reported(tmp_path)
    assert (line, day) == (4, "2024-01-03")
    assert "2-for-1 split" in problem


def test_a_single_bar_or_a_single_session_has_no_gap(tmp_path: Path) -> None:
    write(tmp_path, [("2024-01-02", 100, 100)])
    assert reported(tmp_path) == []
    write(tmp_path, [("2024-01-02 10:00", 100, 100), ("2024-01-02 10:01", 50, 50)])
    assert reported(tmp_path) == []
