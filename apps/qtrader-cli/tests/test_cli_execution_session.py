"""The simulated venue gets the data's instruments and, unless the execution block sets
its own, the data's session: DAY orders end where the data's daily bars are stamped."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from qtrader.cli import bootstrap as boot
from qtrader.cli.config import load_config
from qtrader.execution import SimulatedExecutionService
from qtrader.models import BarSlice, OrderRequest, OrderStatus, Side, TimeInForce

TOKYO = ZoneInfo("Asia/Tokyo")


def write_config(folder: Path, data_extra: str = "", execution: str = "") -> Path:
    (folder / "data").mkdir()
    (folder / "data" / "AAA.csv").write_text(
        "date,open,high,low,close,volume\n2024-01-04,10,10.5,9.5,10,1000\n", encoding="utf-8"
    )
    path = folder / "config.yaml"
    path.write_text(
        "start: 2024-01-04\nend: 2024-01-04\ninitial_cash: 1000\n"
        f"data:\n  source: csv\n  path: data\n  symbols: [AAA]\n{data_extra}"
        "strategy:\n  name: buy_and_hold\n  params: {quantity: 1}\n"
        f"{execution}",
        encoding="utf-8",
    )
    return path


def venue(folder: Path) -> SimulatedExecutionService:
    config = load_config(folder / "config.yaml")
    data = boot.build_data(config, folder)
    execution = boot.build_execution(config, data.instruments(list(config.data.symbols)))
    assert isinstance(execution, SimulatedExecutionService)
    return execution


def day_order_expires_after(svc: SimulatedExecutionService, stamp: datetime) -> bool:
    """Submit a DAY limit that never fills at the previous day's close and show it the bar
    stamped ``stamp``: whether it expired after that bar (the bar ends its session)."""
    svc.submit(
        OrderRequest(
            strategy_id="s1",
            symbol="AAA",
            side=Side.BUY,
            quantity=Decimal(1),
            type="limit",
            limit_price=Decimal(1),
            time_in_force=TimeInForce.DAY,
        ),
        at=datetime.combine(date(2024, 1, 3), time(15, 0), tzinfo=TOKYO),
    )
    bars = BarSlice(
        timestamp=stamp,
        opened_at=datetime.combine(stamp.date(), time(9, 0), tzinfo=TOKYO),
        symbols=("AAA",),
        open=np.array([10.0]),
        high=np.array([10.5]),
        low=np.array([9.5]),
        close=np.array([10.0]),
        volume=np.array([1000.0]),
    )
    # (``accepted`` is reported with the order's first bar: the app reports every state)
    statuses = [u.status for u in svc.process(bars).updates if u.status != OrderStatus.ACCEPTED]
    return statuses == [OrderStatus.EXPIRED]


def test_the_venue_follows_the_datas_session(tmp_path: Path) -> None:
    # Tokyo data stamps its daily bars at 15:00 JST: with the data's session the venue
    # sees the 15:00 bar as the session's last, and the DAY order expires after it.
    write_config(
        tmp_path,
        "  timezone: Asia/Tokyo\n  session_open: '09:00'\n  session_close: '15:00'\n",
    )
    svc = venue(tmp_path)
    assert svc.config.session.close == time(15, 0)
    assert day_order_expires_after(svc, datetime(2024, 1, 4, 15, 0, tzinfo=TOKYO))


def test_an_execution_session_block_wins(tmp_path: Path) -> None:
    # The execution block sets its own close (16:00): the 15:00 bar does not end the
    # session, the DAY order keeps working.
    write_config(
        tmp_path,
        "  timezone: Asia/Tokyo\n  session_close: '15:00'\n",
        "execution:\n  session: {timezone: Asia/Tokyo, open: '09:00', close: '16:00'}\n",
    )
    svc = venue(tmp_path)
    assert not day_order_expires_after(svc, datetime(2024, 1, 4, 15, 0, tzinfo=TOKYO))


def test_without_session_keys_the_defaults_hold(tmp_path: Path) -> None:
    write_config(tmp_path)
    svc = venue(tmp_path)
    assert (svc.config.session.open, svc.config.session.close) == (time(9, 30), time(16, 0))
