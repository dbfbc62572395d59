"""The CSV reader's two paths: a plain file is read in one pyarrow pass, anything else by
the precise path; where the plain path answers, its table equals the precise path's."""

from __future__ import annotations

import codecs
import io
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from pandas._libs.parsers import STR_NA_VALUES  # read_csv's documented default na_values

from qtrader.data._rows import RawTable
from qtrader.data._timestamps import iso_days, parse_stamps
from qtrader.data.csv.config import CsvColumns
from qtrader.data.csv.reader import PANDAS_NA_CELLS, read_plain, read_precise, read_table
from qtrader.data.errors import DataError

HEADER = "date,open,high,low,close,volume\n"
ROW1 = "2024-01-02,10,11,9,10.5,100\n"
ROW2 = "2024-01-03,10.5,12,10,11,200\n"

# Files the plain path reads (its table must equal the precise path's).
PLAIN = {
    "clean": HEADER + ROW1 + ROW2,
    "crlf": (HEADER + ROW1 + ROW2).replace("\n", "\r\n"),
    "no final newline": HEADER + ROW1 + ROW2.rstrip("\n"),
    "extra columns, reordered, padded header": (
        "volume, close ,x,date,low,high,open\n100,10.5,a,2024-01-02,9,11,10\n"
    ),
    "unpadded and spaced dates are text here": (
        HEADER + "2024-1-2,10,11,9,10.5,100\n 2024-01-03 ,10,11,9,10.5,100\n"
    ),
    "number forms": HEADER + "2024-01-02,+10,1.1e1, 9 ,10.50,100.\n",
    "long decimals": HEADER + "2024-01-02,10.123456789012345678,11,9,10.5,100\n",
}
# Files the plain path leaves to the precise path (which words any problem).
NOT_PLAIN = {
    "quoted cell": HEADER + '2024-01-02,10,11,9,10.5,"100"\n',
    "blank line": HEADER + ROW1 + "\n" + ROW2,
    "final blank line": HEADER + ROW1 + ROW2 + "\n",
    "lone carriage return": HEADER + ROW1 + "\r" + ROW2,
    "NUL byte": HEADER + "2024-01-02\0,10,11,9,10.5,100\n",
    "duplicate header": "date,open,high,low,close,volume,open\n" + ROW1.rstrip("\n") + ",1\n",
    "empty header cell": "date,open,high,low,close,volume,\n" + ROW1.rstrip("\n") + ",1\n",
    "missing column": "date,open,high,low,close\n2024-01-02,10,11,9,10.5\n",
    "too many fields": HEADER + ROW1 + "2024-01-03,10.5,12,10,11,1,234\n",
    "too few fields": HEADER + ROW1 + "2024-01-03,10.5,12,10,11\n",
    "NA date": HEADER + "NA,10,11,9,10.5,100\n",
    "empty date": HEADER + ",10,11,9,10.5,100\n",
    "word for a number": HEADER + "2024-01-02,10,11,9,abc,100\n",
    "None for a number": HEADER + "2024-01-02,10,11,9,None,100\n",
    "missing number": HEADER + "2024-01-02,10,11,9,,100\n",
    "NaN": HEADER + "2024-01-02,NaN,11,9,10.5,100\n",
    "infinity": HEADER + "2024-01-02,10,inf,9,10.5,100\n",
    "header only": HEADER,
    "empty": "",
}


def tables(text: str) -> tuple[RawTable | None, RawTable]:
    path = Path("A.csv")
    data = text.encode()
    return read_plain(data, path, CsvColumns()), read_precise(data, path, CsvColumns())


def assert_same(plain: RawTable, precise: RawTable) -> None:
    assert plain.lines.tolist() == precise.lines.tolist()
    assert plain.date_series().dtype == precise.date_series().dtype
    assert plain.date_series().tolist() == precise.date_series().tolist()
    assert plain.values.tobytes() == precise.values.tobytes()  # bit for bit, signed zeros too
    assert plain.values.flags.c_contiguous
    assert plain.bad_cells == precise.bad_cells == {}


@pytest.mark.parametrize("text", PLAIN.values(), ids=PLAIN.keys())
def test_a_plain_file_reads_as_the_precise_path_reads_it(text: str) -> None:
    plain, precise = tables(text)
    assert plain is not None
    assert_same(plain, precise)


@pytest.mark.parametrize("text", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_anything_unusual_is_left_to_the_precise_path(text: str) -> None:
    assert read_plain(text.encode(), Path("A.csv"), CsvColumns()) is None


def test_a_byte_order_mark_is_not_part_of_the_first_name(tmp_path: Path) -> None:
    path = tmp_path / "A.csv"
    path.write_bytes(codecs.BOM_UTF8 + (HEADER + ROW1).encode())
    plain = read_plain(path.read_bytes(), path, CsvColumns())
    assert plain is not None
    assert_same(plain, read_precise(path.read_bytes(), path, CsvColumns()))
    assert read_table(path, CsvColumns()).date_series().tolist() == ["2024-01-02"]


def test_numbers_are_the_bits_pandas_reads() -> None:
    # Seeded decimals of every length and magnitude: both parsers round correctly.
    rng = np.random.default_rng(5)
    magnitudes, decimals = rng.lognormal(2, 4, 3000), rng.integers(0, 20, 3000)
    cells = [f"{x:.{d}f}" for x, d in zip(magnitudes, decimals, strict=True)]
    rows = "".join(f"2024-01-02,{c},{c},{c},{c},{c}\n" for c in cells)
    plain, precise = tables(HEADER + rows)
    assert plain is not None
    assert_same(plain, precise)


def test_the_missing_cells_are_pandas_defaults() -> None:
    assert set(PANDAS_NA_CELLS) == STR_NA_VALUES
    read = pd.read_csv(io.StringIO("x\n" + "\n".join(PANDAS_NA_CELLS[1:])), dtype="str")
    assert read["x"].isna().all()


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["2024-01-02", "1999-12-31"], ["2024-01-02", "1999-12-31"]),
        ([], []),
        (["1678-01-01", "2261-12-31"], ["1678-01-01", "2261-12-31"]),
    ],
)
def test_iso_days_reads_zero_padded_dates(dates: list[str], expected: list[str]) -> None:
    for dtype in ("str", object):
        days = iso_days(pd.Series(dates, dtype=dtype))
        assert days is not None
        assert days.dtype == np.dtype("datetime64[D]")
        assert days.tolist() == np.array(expected, dtype="datetime64[D]").tolist()


@pytest.mark.parametrize(
    "dates",
    [
        ["2024-1-2"],  # unpadded: pandas reads it
        ["2024-02-30"],
        ["2024-01-02 16:00"],
        [" 2024-01-02"],
        [""],
        ["2024-01-02", None],
        ["1677-12-31"],  # too close to the nanosecond range's ends for a session time
        ["2262-01-01"],
        [20240102],
    ],
)
def test_iso_days_leaves_anything_else_to_pandas(dates: list[object]) -> None:
    assert iso_days(pd.Series(dates, dtype=object)) is None


def test_sessions_before_1970_are_the_local_day() -> None:
    utc = ZoneInfo("UTC")
    stamps = parse_stamps(
        pd.Series(["1969-12-31 23:00:00", "1969-12-31 23:30"], dtype="str"),
        utc,
        time(9, 30),
        time(16),
    )
    assert stamps.intraday
    assert stamps.sessions.tolist() == np.array(["1969-12-31"] * 2, "datetime64[D]").tolist()
    daily = parse_stamps(pd.Series(["1969-12-31"], dtype="str"), utc, time(9, 30), time(16))
    assert daily.sessions.tolist() == np.array(["1969-12-31"], "datetime64[D]").tolist()
    assert daily.timestamps.tolist() == [-8 * 3600 * 10**9]  # 16:00 UTC, 8 h before 1970
    assert daily.opened_at.tolist() == [-(14 * 3600 + 1800) * 10**9]


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        read_table(tmp_path / "A.csv", CsvColumns())


def test_a_file_without_line_breaks_is_not_quoted_whole_in_the_error(tmp_path: Path) -> None:
    # Written with a literal "\n" instead of line breaks: one line of 6 + 400 x 5 = 2,006 cells.
    path = tmp_path / "AAA.csv"
    path.write_text("date,open,high,low,close,volume" + "\\n2024-01-02,1,2,0.5,1.5,100" * 400)
    with pytest.raises(DataError) as caught:
        read_table(path, CsvColumns())
    message = str(caught.value)
    assert "missing column(s) 'volume'" in message
    assert "... (2006 columns)" in message
    assert len(message) < 400


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (HEADER + ROW1 + "2024-01-03,10.5,12\r,10,11,200\n", 3),  # inside a row
        (HEADER + ROW1 + "\r" + ROW2, 3),  # starting a row
        ((HEADER + ROW1 + ROW2).replace("\n", "\r"), 1),  # old Mac line ends
    ],
)
def test_a_lone_carriage_return_is_named_with_its_line(text: str, line: int) -> None:
    # pandas ends a row at a lone "\r", lines end at "\n": the rows could not be numbered,
    # and the error named neither the line nor the cause.
    with pytest.raises(DataError) as caught:
        read_precise(text.encode(), Path("A.csv"), CsvColumns())
    assert (caught.value.line, caught.value.message) == (
        line,
        "a carriage return (\\r) not followed by a line feed: expected each line to end "
        "with \\n or \\r\\n (convert the file's line ends)",
    )


def test_a_quoted_header_cell_holding_a_comma_is_one_field() -> None:
    # The header has 7 fields, one of them "note, free text": every row used to be
    # "malformed: expected 8 fields, saw 7".
    text = HEADER.rstrip("\n") + ',"note, free text"\n' + ROW1.rstrip("\n") + ",x\n"
    table = read_precise(text.encode(), Path("A.csv"), CsvColumns())
    assert table.bad_cells == {}
    assert table.values.tolist() == [[10.0, 11.0, 9.0, 10.5, 100.0]]
