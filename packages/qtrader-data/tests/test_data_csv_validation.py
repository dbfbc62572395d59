"""Bad input at the boundary: every error names the file, the line, the date and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from qtrader.data import AnomalyAction, CsvDataConfig, CsvDataService, DataError, ValidationPolicy

HEADER = "date,open,high,low,close,volume\n"
GOOD1 = "2024-01-02,10,11,9,10.5,100"  # line 2
GOOD2 = "2024-01-03,10.5,12,10,11,200"  # line 3


def load_error(folder: Path, text: str, **options: object) -> DataError:
    (folder / "A.csv").write_text(text)
    svc = CsvDataService(CsvDataConfig.model_validate({"path": folder, **options}))
    with pytest.raises(DataError) as caught:
        svc.load("A")
    return caught.value


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (
            "2024-13-01,10,11,9,10,1",
            "2024-13-01: unparsable date '2024-13-01': expected YYYY-MM-DD",
        ),
        (
            "2024-02-30,10,11,9,10,1",
            "2024-02-30: unparsable date '2024-02-30': expected YYYY-MM-DD",
        ),
        (
            "01/04/2024,10,11,9,10,1",
            "01/04/2024: unparsable date '01/04/2024': expected YYYY-MM-DD",
        ),
        (",10,11,9,10,1", "(no date): missing date"),
        ("2024-01-04,10,11,9,,1", "2024-01-04: missing value for close"),
        ("2024-01-04,NaN,11,9,10,", "2024-01-04: missing value for open, volume"),
        ("2024-01-04,10,11,9,10", "2024-01-04: malformed row: expected 6 fields, saw 5"),
        # A thousands separator shifts the row: refused, never read as volume 1.
        ("2024-01-04,10,11,9,10,1,234", "2024-01-04: malformed row: expected 6 fields, saw 7"),
        ('2024-01-04,10,11,9,10,"1,234"', "2024-01-04: volume '1,234' is not a number"),
        ("2024-01-04,10,11,9,abc,1", "2024-01-04: close 'abc' is not a number"),
        ("2024-01-04,10,inf,9,10,1", "2024-01-04: high is not a finite number"),
        ("2024-01-04,10,11,0,10,1", "2024-01-04: low 0.0 is not a positive price"),
        ("2024-01-04,-10,11,9,10,1", "2024-01-04: open -10.0 is not a positive price"),
        ("2024-01-04,10,9,11,10,1", "2024-01-04: high 9.0 is below low 11.0"),
        ("2024-01-04,11.5,11,9,10,1", "2024-01-04: open 11.5 is outside [low 9.0, high 11.0]"),
        ("2024-01-04,10,11,9,8.99,1", "2024-01-04: close 8.99 is outside [low 9.0, high 11.0]"),
        ("2024-01-04,10,11,9,10,-1", "2024-01-04: volume -1.0 is negative"),
        ("2024-01-03,10,11,9,10,1", "2024-01-03: duplicate date (already on line 3)"),
        (
            "2024-01-01,10,11,9,10,1",
            "2024-01-01: date out of order: not after 2024-01-03 on line 3",
        ),
    ],
)
def test_each_bad_row_is_named_by_file_line_date_and_problem(
    tmp_path: Path, bad_row: str, message: str
) -> None:
    # Header is line 1, two good rows are lines 2-3, the bad row is line 4, a good one follows.
    err = load_error(tmp_path, HEADER + f"{GOOD1}\n{GOOD2}\n{bad_row}\n2024-01-05,1,1,1,1,1\n")
    assert (err.path, err.line, err.message) == (tmp_path / "A.csv", 4, message)
    assert str(err) == f"{tmp_path / 'A.csv'}, line 4: {message}"


def test_strict_reports_the_first_bad_line(tmp_path: Path) -> None:
    # Line 3 has high < low, line 4 a negative volume: line 3 is reported.
    err = load_error(tmp_path, HEADER + f"{GOOD1}\n2024-01-03,1,1,2,1,1\n2024-01-04,1,1,1,1,-1\n")
    assert err.line == 3


def test_file_level_problems(tmp_path: Path) -> None:
    assert str(load_error(tmp_path, "")) == (
        f"{tmp_path / 'A.csv'}: file is empty: expected a header line "
        "date,open,high,low,close,volume"
    )
    assert load_error(tmp_path, HEADER).message == (
        "no data rows: expected one row per bar after the header (date,open,high,low,close,volume)"
    )
    assert load_error(tmp_path, HEADER + "\n\n").message.startswith("no data rows")
    err = load_error(tmp_path, "date,open,high,low\n2024-01-02,1,1,1\n")
    assert (err.line, err.message) == (
        1,
        "missing column(s) 'close', 'volume': expected date,open,high,low,close,volume "
        "(found date,open,high,low)",
    )
    err = load_error(tmp_path, HEADER + f'{GOOD1}\n2024-01-03,1,1,1,"1\n')
    assert (err.line, err.message) == (3, "malformed row: EOF inside string starting at row 2")
    (tmp_path / "A.csv").write_bytes(HEADER.encode() + b"2024-01-02,\xff,1,1,1,1\n")
    with pytest.raises(DataError) as caught:
        CsvDataService(CsvDataConfig(path=tmp_path)).load("A")
    assert (caught.value.line, caught.value.message) == (
        2,
        "not UTF-8 text: invalid start byte at byte 43",
    )


def test_renamed_columns_are_named_in_the_missing_column_error(tmp_path: Path) -> None:
    err = load_error(tmp_path, HEADER + GOOD1 + "\n", columns={"date": "Date"})
    assert err.message == (
        "missing column(s) 'Date': expected Date,open,high,low,close,volume "
        "(found date,open,high,low,close,volume)"
    )


def test_repair_drops_bad_rows_and_reports_each(tmp_path: Path) -> None:
    text = HEADER + "\n".join(
        [
            GOOD1,  # line 2, kept
            "2024-01-03,1,1,2,1,1",  # line 3, high < low
            "2024-01-04,10,12,9,11,50",  # line 4, kept
            "2024-01-04,10,12,9,11,50",  # line 5, duplicate of line 4
            "2024-01-05,x,12,9,11,50",  # line 6, not a number
            "2024-01-08,11,13,10,12,70",  # line 7, kept
        ]
    )
    (tmp_path / "A.csv").write_text(text + "\n")
    svc = CsvDataService(CsvDataConfig(path=tmp_path, validation=ValidationPolicy.REPAIR))
    series = svc.series("A")
    assert series.close.tolist() == [10.5, 11.0, 12.0]
    assert [str(d) for d in series.sessions] == ["2024-01-02", "2024-01-04", "2024-01-08"]
    assert [(a.line, a.date, a.problem, a.action) for a in svc.anomalies] == [
        (3, "2024-01-03", "high 1.0 is below low 2.0", AnomalyAction.DROPPED),
        (5, "2024-01-04", "duplicate date (already on line 4)", AnomalyAction.DROPPED),
        (6, "2024-01-05", "open 'x' is not a number", AnomalyAction.DROPPED),
    ]
    assert str(svc.anomalies[0]) == (
        f"{tmp_path / 'A.csv'}, line 3: A 2024-01-03: high 1.0 is below low 2.0 [dropped]"
    )
    assert svc.anomalies[0].symbol == "A"


def test_repair_keeps_the_first_of_unsorted_rows_and_refuses_a_file_of_nothing(
    tmp_path: Path,
) -> None:
    # Line 3 goes back before line 2; line 4 is after line 2: lines 2 and 4 are kept.
    (tmp_path / "A.csv").write_text(
        HEADER + "2024-01-05,1,1,1,1,1\n2024-01-03,2,2,2,2,1\n2024-01-08,3,3,3,3,1\n"
    )
    svc = CsvDataService(CsvDataConfig(path=tmp_path, validation=ValidationPolicy.REPAIR))
    assert svc.series("A").close.tolist() == [1.0, 3.0]
    dropped = [a for a in svc.anomalies if a.action is AnomalyAction.DROPPED]
    assert [(a.line, a.problem) for a in dropped] == [
        (3, "date out of order: not after 2024-01-05 on line 2")
    ]
    err = load_error(
        tmp_path, HEADER + "2024-01-02,0,1,1,1,1\n", validation=ValidationPolicy.REPAIR
    )
    assert err.message == (
        "every data row is invalid (1 rows); first: line 2: open 0.0 is not a positive price"
    )


def test_tolerance_lets_open_and_close_lie_slightly_outside_and_reports_it(tmp_path: Path) -> None:
    # tolerance 0.1%: the range may stretch to [99.9 * 0.999, 100 * 1.001] = [99.8001, 100.1].
    # Line 2: open 100.05 > high 100 by 0.05% -> kept, high raised to 100.05.
    # Line 3: close 99.85 < low 99.9 by 0.05005% -> kept, low lowered to 99.85; open 100.08 is
    #         above high by 0.08% -> high raised to 100.08 as well.
    # Line 4: inside the range: untouched, not reported.
    (tmp_path / "A.csv").write_text(
        HEADER
        + "2024-01-02,100.05,100,99.9,99.95,10\n"
        + "2024-01-03,100.08,100,99.9,99.85,10\n"
        + "2024-01-04,99.95,100,99.9,99.95,10\n"
    )
    svc = CsvDataService(CsvDataConfig(path=tmp_path, tolerance=0.001))
    series = svc.series("A")
    assert series.ohlcv.tolist() == [
        [100.05, 100.05, 99.9, 99.95, 10.0],
        [100.08, 100.08, 99.85, 99.85, 10.0],
        [99.95, 100.0, 99.9, 99.95, 10.0],
    ]
    assert [(a.line, a.problem, a.action) for a in svc.anomalies] == [
        (
            2,
            "open 100.05 is above high 100.0 by 0.05% (within tolerance): high raised to 100.05",
            AnomalyAction.WIDENED,
        ),
        (
            3,
            "open 100.08 is above high 100.0 by 0.08%; close 99.85 is below low 99.9 by "
            "0.05005% (within tolerance): high raised to 100.08, low lowered to 99.85",
            AnomalyAction.WIDENED,
        ),
    ]


def test_beyond_tolerance_is_still_an_error(tmp_path: Path) -> None:
    # 99.8 < 99.9 * (1 - 0.001) = 99.8001: beyond the tolerance.
    err = load_error(tmp_path, HEADER + "2024-01-02,100,100,99.9,99.8,10\n", tolerance=0.001)
    assert (err.line, err.message) == (
        2,
        "2024-01-02: close 99.8 is outside [low 99.9, high 100.0] beyond the tolerance of 0.001",
    )


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        # Clocks jump from 02:00 to 03:00 in New York on 2024-03-10: 02:30 never happened.
        (
            ["2024-03-10 02:30,1,1,1,1,1"],
            2,
            "2024-03-10 02:30: bar time 2024-03-10 02:30:00 does not exist or is ambiguous in "
            "America/New_York (daylight-saving change)",
        ),
        (
            ["2024-03-11 10:00,1,1,1,1,1", "2024-03-11,1,1,1,1,1"],
            3,
            "2024-03-11: unparsable date '2024-03-11': expected YYYY-MM-DD HH:MM[:SS] like "
            "the first row",
        ),
        (
            ["2024-03-11 00:00:00,1,1,1,1,1", "2024-03-12 00:00:00,1,1,1,1,1"],
            2,
            "every time of day is 00:00: write daily bars as YYYY-MM-DD (they are then "
            "stamped at session_close); a midnight stamp would date each bar before its session",
        ),
        (
            ["2024-03-11 10:00,1,1,1,1,1", "2024-03-11 10:00,1,1,1,1,1"],
            3,
            "2024-03-11 10:00: duplicate timestamp (already on line 2)",
        ),
    ],
)
def test_intraday_time_problems(tmp_path: Path, rows: list[str], line: int, message: str) -> None:
    err = load_error(tmp_path, HEADER + "".join(r + "\n" for r in rows))
    assert (err.line, err.message) == (line, message)


def test_a_daily_session_time_that_does_not_exist_is_reported(tmp_path: Path) -> None:
    err = load_error(
        tmp_path, HEADER + "2024-03-10,1,1,1,1,1\n", session_open="02:30", session_close="16:00"
    )
    assert (err.line, err.message) == (
        2,
        "2024-03-10: session open 2024-03-10 02:30:00 does not exist or is ambiguous in "
        "America/New_York (daylight-saving change)",
    )


def test_quoted_fields_spanning_lines_keep_true_line_numbers(tmp_path: Path) -> None:
    # Extra column "note" holds a quoted newline: the row of 2024-01-03 starts on line 3,
    # so the next row (bad volume) is on line 5, not 4.
    err = load_error(
        tmp_path,
        "date,open,high,low,close,volume,note\n"
        "2024-01-02,1,1,1,1,1,ok\n"
        '2024-01-03,1,1,1,1,1,"two\nlines"\n'
        "2024-01-04,1,1,1,1,-1,\n",
    )
    assert (err.line, err.message) == (5, "2024-01-04: volume -1.0 is negative")


def test_unpadded_dates_are_read_the_same_on_the_fast_and_the_careful_path(
    tmp_path: Path,
) -> None:
    # Clean file: parsed in one go. With a bad row (line 3) the careful per-row path runs;
    # 2024-1-5 must mean 5 January on both.
    (tmp_path / "A.csv").write_text(HEADER + "2024-1-5,1,1,1,1,1\n")
    assert [str(d) for d in CsvDataService(CsvDataConfig(path=tmp_path)).series("A").sessions] == [
        "2024-01-05"
    ]
    (tmp_path / "A.csv").write_text(HEADER + "2024-1-5,1,1,1,1,1\nbad,1,1,1,1,1\n")
    svc = CsvDataService(CsvDataConfig(path=tmp_path, validation=ValidationPolicy.REPAIR))
    assert [str(d) for d in svc.series("A").sessions] == ["2024-01-05"]
    assert [(a.line, a.problem) for a in svc.anomalies] == [
        (3, "unparsable date 'bad': expected YYYY-MM-DD")
    ]
