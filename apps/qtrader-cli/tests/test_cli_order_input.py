"""Issue 7, the new-user order bugs, end to end through `qtrader backtest` and the real
services, on the hand-worked AAA data of conftest.py (days 1 to 3: open = close = 10;
each bar's low is 0.5 below, its high 0.5 above; cash 10,000)."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from qtrader.cli.main import app

runner = CliRunner()

STRATEGY = '''
from decimal import Decimal

from qtrader.models import BaseStrategy


class Newbie(BaseStrategy):
    """Does what a new user might, on the first bars."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.bars = 0

    def on_bar(self, ctx):
        self.bars += 1
        getattr(self, self.action)(ctx)

    def float_quantity(self, ctx):
        if self.bars == 1:
            ctx.buy("AAA", 10.3)

    def target_zero(self, ctx):
        if self.bars == 1:
            ctx.buy("AAA", 100, limit_price=Decimal(1))  # far below the market: rests
        elif self.bars == 2:
            ctx.order_target_quantity("AAA", 0)

    def grow_by_replace(self, ctx):
        if self.bars == 1:
            ctx.buy("AAA", 1, limit_price=Decimal(1))  # far below the market: rests
        elif self.bars == 2:
            (order,) = ctx.open_orders()
            ctx.replace(order.id, quantity=5000, limit_price=20)  # 100,000 of 10,000 cash
            ctx.replace(order.id, quantity=7.5)  # 7 whole shares

    def move_take_profit(self, ctx):
        if self.bars == 1:
            ctx.bracket("AAA", 100, stop_loss=5, take_profit=20)  # entry at day 2's open
        elif self.bars == 3:
            (take_profit,) = [o for o in ctx.open_orders() if o.limit_price is not None]
            ctx.replace(take_profit.id, limit_price=25)

    def at_the_close(self, ctx):
        if self.bars == 1:
            ctx.buy("AAA", 10, order_type="market_on_close")  # day 2's close, not day 1's

    def bad_orders(self, ctx):
        if self.bars == 1:
            ctx.buy("ZZZ", 1)
            ctx.buy("AAA", -5)
            ctx.sell("AAA", 1, limit_price=Decimal("NaN"))
            ctx.buy("AAA", 5000)  # 50,000 at 10: more than the cash, risk refuses it
        elif self.bars == 2:
            for _ in range(3):
                ctx.buy("AAA", 0.25)
'''


def run(tiny: Path, action: str) -> tuple[str, Path]:
    (tiny / "newbie.py").write_text(STRATEGY, encoding="utf-8")
    config = tiny / "newbie.yaml"
    config.write_text(
        (tiny / "config.yaml")
        .read_text(encoding="utf-8")
        .replace(
            "  name: sma_crossover\n  params: {fast: 2, slow: 3, quantity: 100}",
            f"  id: newbie\n  name: newbie.py:Newbie\n  params: {{action: {action}}}",
        ),
        encoding="utf-8",
    )
    out = tiny / "out"
    result = runner.invoke(app, ["backtest", str(config), "--output", str(out)])
    assert result.exit_code == 0, result.output
    return result.output, out


def test_a_float_quantity_is_one_order_of_whole_shares_and_one_fill(tiny: Path) -> None:
    _, out = run(tiny, "float_quantity")
    # 10.3 -> 10 shares (lot 1, toward zero), filled at day 2's open 10; before the fix the
    # order was for 10.3000000000000007105... shares and left a dust fill on every bar
    fills = (out / "fills.csv").read_text().splitlines()
    assert [line.split(",")[1:5] for line in fills[1:]] == [["AAA", "buy", "10", "10"]]
    orders = (out / "orders.csv").read_text().splitlines()
    assert [line.split(",")[5] for line in orders[1:]] == ["10"]


def test_target_zero_with_a_resting_buy_cancels_it_and_never_goes_short(tiny: Path) -> None:
    _, out = run(tiny, "target_zero")
    # day 2: flat, target 0 -> the resting buy O-000001 is cancelled, nothing is sold
    # (before the fix: a market sell of 100 at day 3's open 10, short 100 to the end)
    assert (out / "fills.csv").read_text().splitlines()[1:] == []
    updates = (out / "order_updates.csv").read_text().splitlines()
    assert [line.split(",")[1:3] for line in updates[1:]] == [
        ["O-000001", "accepted"],
        ["O-000001", "cancelled"],
    ]
    equity = (out / "equity.csv").read_text().splitlines()
    assert {line.split(",")[2] for line in equity[1:]} == {"10000"}


def test_bad_orders_are_refused_counted_and_shown_on_the_console(tiny: Path) -> None:
    output, out = run(tiny, "bad_orders")
    lines = output.splitlines()
    start = lines.index(
        "rejected: 7 orders (6 by the strategy context, 1 by risk, 0 by the venue); the first 5:"
    )
    day1, day2 = "2024-01-02T16:00:00-05:00", "2024-01-03T16:00:00-05:00"
    assert lines[start + 1 : start + 4] == [
        f"  {day1} newbie ZZZ: 'ZZZ' is not in the universe ['AAA']",
        f"  {day1} newbie AAA: quantity must be positive, got -5",
        f"  {day1} newbie AAA: limit_price must be a finite number, got NaN",
    ]
    assert lines[start + 4].startswith(f"  {day1} newbie AAA (risk): ")
    assert "cash" in lines[start + 4]
    assert lines[start + 5 : start + 7] == [
        f"  {day2} newbie AAA: quantity 0.25 rounds to 0 at the lot size of 1",
        "  ... and 2 more (in order_updates.csv and risk_decisions.csv)",
    ]
    updates = (out / "order_updates.csv").read_text().splitlines()
    assert [line.split(",")[1:3] for line in updates[1:4]] == [
        ["R-000001", "rejected"],
        ["R-000002", "rejected"],
        ["R-000003", "rejected"],
    ]
    orders = (out / "orders.csv").read_text().splitlines()
    assert [line.split(",")[1] for line in orders[1:]] == [f"R-{n:06d}" for n in range(1, 7)]


def test_no_rejection_line_when_nothing_was_refused(tiny: Path) -> None:
    output = runner.invoke(app, ["backtest", str(tiny / "config.yaml")]).output
    assert "rejected:" not in output  # (the risk line says "0 rejected")


def test_without_output_the_summary_does_not_point_to_files(tiny: Path) -> None:
    run(tiny, "bad_orders")
    output = runner.invoke(app, ["backtest", str(tiny / "newbie.yaml")]).output
    assert "  ... and 2 more\n" in output


def test_a_replace_passes_risk_and_whole_lots_like_a_new_order(tiny: Path) -> None:
    _, out = run(tiny, "grow_by_replace")
    # Before: the buy of 1 became 5,000 at a limit of 20 (100,000 against 10,000 of cash)
    # with no risk decision, and a replace to 7.5 shares left a fractional order.
    decisions = csv.DictReader((out / "risk_decisions.csv").read_text().splitlines())
    assert [(d["intent"], d["approved"], d["reason"], d["replaces"]) for d in decisions] == [
        ("buy 1 limit", "true", "", ""),
        (
            "buy 5000 limit",
            "false",
            "allow_margin is false: buy 5000 AAA at 20 costs 100000, above the budget 10000 "
            "(cash 10000 - committed 0 - buffer 0)",
            "O-000001",
        ),
        ("buy 7 limit", "true", "", "O-000001"),
    ]
    updates = (out / "order_updates.csv").read_text().splitlines()
    assert [line.split(",")[1:] for line in updates[1:]] == [
        ["O-000001", "accepted", "accepted"],
        ["O-000001", "replaced", "replaced: quantity 1 -> 7"],
    ]
    assert "replace of O-000001 not sent: risk rejected it" in (out / "log.txt").read_text()


def test_a_bracket_exit_replaced_is_checked_as_the_one_exit_it_is(tiny: Path) -> None:
    # Long 100 with a stop-loss and a take-profit selling 100 each (one cancels the other):
    # moving the take-profit is a sale of the 100 held, not of 200 with the stop-loss, so
    # risk with short sales barred approves it.
    config = tiny / "config.yaml"
    config.write_text(config.read_text() + "portfolio: {allow_short: false}\n")
    _, out = run(tiny, "move_take_profit")
    updates = (out / "order_updates.csv").read_text().splitlines()
    assert ["O-000003", "replaced", "replaced: limit_price 20 -> 25"] in [
        line.split(",")[1:] for line in updates[1:]
    ]


def test_a_strategy_can_buy_at_the_close(tiny: Path) -> None:
    # Decided at day 1's close: a market-on-close order fills at day 2's close (10), stamped
    # 16:00; buy() could not ask for one before.
    _, out = run(tiny, "at_the_close")
    (fill,) = csv.DictReader((out / "fills.csv").read_text().splitlines())
    assert (fill["timestamp"], fill["quantity"], fill["price"]) == (
        "2024-01-03T16:00:00-05:00",
        "10",
        "10",
    )
    (order,) = csv.DictReader((out / "orders.csv").read_text().splitlines())
    assert order["type"] == "market_on_close"
