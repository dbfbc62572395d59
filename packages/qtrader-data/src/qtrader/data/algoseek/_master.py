"""The Algoseek security master: which SecId a ticker named on which dates.

``Tickers`` holds the ticker history separated by ``;`` and
``TickersStartToEndDate`` one ``YYYYMMDD:YYYYMMDD`` range per ticker, in the
same order (``29991231``: still open). Each ticker of the history is its own
entry: matching the whole ``"FB;META"`` string as one ticker would lose every
renamed security.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from qtrader.data.errors import DataError

COLUMNS = ("SecId", "Tickers", "TickersStartToEndDate")


@dataclass(frozen=True, slots=True)
class TickerSpan:
    """``ticker`` named security ``sec_id`` on the session dates ``[first, last]``."""

    sec_id: str
    first: date
    last: date


def _day(text: str, path: Path, line: int) -> date:
    try:
        return datetime.strptime(text.strip(), "%Y%m%d").date()  # noqa: DTZ007 - a date only
    except ValueError:
        raise DataError(
            f"TickersStartToEndDate: {text!r} is not a YYYYMMDD date", path=path, line=line
        ) from None


def read_security_master(path: Path) -> dict[str, tuple[TickerSpan, ...]]:
    """Ticker -> the securities it named and when, sorted by first date."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise DataError("security master not found", path=path) from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"security master is not UTF-8 text: {exc.reason}", path=path) from exc
    reader = csv.DictReader(text.splitlines())
    header = [name.strip() for name in reader.fieldnames or ()]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}: expected a security master with "
            f"{','.join(COLUMNS)}",
            path=path,
            line=1,
        )
    reader.fieldnames = header
    spans: dict[str, list[TickerSpan]] = defaultdict(list)
    for row in reader:
        line = reader.line_num
        sec_id = (row.get("SecId") or "").strip()
        tickers = [t.strip() for t in (row.get("Tickers") or "").split(";")]
        ranges = [r.strip() for r in (row.get("TickersStartToEndDate") or "").split(";")]
        if not sec_id and tickers == [""]:
            continue  # a blank line
        if not sec_id:
            raise DataError("missing SecId", path=path, line=line)
        if len(tickers) != len(ranges) or "" in tickers:
            raise DataError(
                f"SecId {sec_id}: {len(tickers)} ticker(s) {';'.join(tickers)!r} but "
                f"{len(ranges)} range(s) {';'.join(ranges)!r}: expected one non-empty ticker "
                "per YYYYMMDD:YYYYMMDD range, in the same order",
                path=path,
                line=line,
            )
        for ticker, span in zip(tickers, ranges, strict=True):
            first_text, colon, last_text = span.partition(":")
            if not colon:
                raise DataError(
                    f"SecId {sec_id}: range {span!r} of {ticker} is not YYYYMMDD:YYYYMMDD",
                    path=path,
                    line=line,
                )
            first, last = _day(first_text, path, line), _day(last_text, path, line)
            if last < first:
                raise DataError(
                    f"SecId {sec_id}: range {span!r} of {ticker} ends before it starts",
                    path=path,
                    line=line,
                )
            spans[ticker].append(TickerSpan(sec_id, first, last))
    return {t: tuple(sorted(s, key=lambda x: x.first)) for t, s in spans.items()}
