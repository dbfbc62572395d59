"""The risk policy from the config: inline or in its own file, validated all at once, and
the limits that need every bar (the engine shows risk each slice).

On the hand-worked dataset of conftest.py (AAA closes 10, 10, 10, 9, 8, ... volume 1000).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from qtrader.cli import bootstrap as boot
from qtrader.cli.config import ConfigError, load_config
from qtrader.cli.main import app
from qtrader.models import Instrument, Signal, SignalDirection
from qtrader.models.testing import FakePortfolioService, ny_close
from qtrader.risk import PreTradeRiskService

runner = CliRunner()


def add(tiny: Path, text: str) -> Path:
    config = tiny / "config.yaml"
    config.write_text(config.read_text() + text)
    return config


def run(config: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["backtest", str(config)])
    return result.exit_code, " ".join(result.output.split())


def test_a_policy_file_beside_the_config(tiny: Path) -> None:
    # as test_cli_risk_summary: both buys of 100 breach a 5% position limit
    (tiny / "risk.yaml").write_text("max_position_pct: 0.05\n")
    code, text = run(add(tiny, "risk: {policy: risk.yaml}\n"))
    assert code == 0, text
    assert "risk: 2 intents: 0 approved (0 resized), 2 rejected" in text


def test_keys_beside_the_file_override_it(tiny: Path) -> None:
    (tiny / "risk.yaml").write_text("max_position_pct: 0.05\non_breach: reject\n")
    code, text = run(add(tiny, "risk: {policy: risk.yaml, max_position_pct: 0.5}\n"))
    assert code == 0, text
    # the hand-worked run as without a policy: buy, sell, and the last buy that never fills
    assert "risk: 3 intents: 3 approved (0 resized), 0 rejected" in text


def test_every_problem_of_file_and_block_at_once(tiny: Path) -> None:
    (tiny / "risk.yaml").write_text(
        "max_position_pct: -1\ncolour: red\nsizing: {method: fixed_notional}\n"
    )
    code, text = run(add(tiny, "risk: {policy: risk.yaml, on_breach: clip}\n"))
    assert code == 2
    where = f"(in {(tiny / 'risk.yaml').resolve()})"
    for problem in (
        f"risk.max_position_pct {where}: max_position_pct must be a fraction of equity above 0",
        f"risk.colour {where}: unknown key; allowed: adv_window, allow_margin,",
        f"risk.sizing.notional {where}: Field required",
        "risk.on_breach: Input should be 'reject' or 'resize' (got 'clip')",
    ):
        assert problem in text, text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    ("block", "file_text", "message"),
    [
        ("{policy: nope.yaml}", None, "risk.policy: no such risk policy file"),
        ("{policy: risk.yaml}", "[1, 2]", "must hold a mapping of risk policy keys, got list"),
        ("{policy: risk.yaml}", "a: [", "is not valid YAML"),
        ("{policy: 3}", None, "risk.policy: expected the path of a YAML risk policy file, got 3"),
        (
            "{strategy_budgets: {nope: 0.5}}",
            None,
            "risk.strategy_budgets.nope: no strategy has the id 'nope'; the ids are "
            "['sma_crossover']",
        ),
    ],
)
def test_policy_file_and_budget_errors(
    tiny: Path, block: str, file_text: str | None, message: str
) -> None:
    if file_text is not None:
        (tiny / "risk.yaml").write_text(file_text)
    code, text = run(add(tiny, f"risk: {block}\n"))
    assert code == 2
    assert message in text, text


def test_an_empty_policy_file_is_the_default_policy(tiny: Path) -> None:
    (tiny / "risk.yaml").write_text("")
    config = load_config(add(tiny, "risk: {policy: risk.yaml}\n"))
    assert boot.risk_policy(config, tiny) == {}


def test_the_written_config_holds_the_policy_as_it_ran(tiny: Path) -> None:
    (tiny / "risk.yaml").write_text("preset: conservative\nmax_position_pct: 0.05\n")
    config = load_config(add(tiny, "risk: {policy: risk.yaml, on_breach: reject}\n"))
    written = yaml.safe_load(boot.resolved_config_yaml(config, tiny))
    assert written["risk"] == {
        "preset": "conservative",
        "max_position_pct": 0.05,
        "on_breach": "reject",
    }


def test_instruments_give_the_lot_sizes(tiny: Path) -> None:
    config = load_config(add(tiny, "risk: {sizing: {method: fixed_notional, notional: 1000}}\n"))
    service = boot.build_risk(config, tiny, [Instrument(symbol="AAA", lot_size=Decimal(50))])
    assert isinstance(service, PreTradeRiskService)
    long = Signal(strategy_id="s", symbol="AAA", direction=SignalDirection.LONG)
    view = FakePortfolioService(Decimal(10_000)).view()
    [d] = service.decide([long], view, {"AAA": Decimal(9)}, ny_close(date(2024, 1, 2)))
    # 1000 / 9 = 111.1 -> 2 lots of 50
    assert d.order is not None
    assert d.order.quantity == Decimal(100)


def test_a_bad_policy_is_a_config_error(tiny: Path) -> None:
    config = load_config(tiny / "config.yaml")
    config = config.model_copy(update={"risk": {"max_open_positions": "5"}})
    with pytest.raises(
        ConfigError, match=r"risk\.max_open_positions: Input should be a valid integer"
    ):
        boot.build_risk(config)


ALWAYS_LONG = """
from qtrader.models import BaseStrategy, SignalDirection


class AlwaysLong(BaseStrategy):
    def on_bar(self, ctx):
        if ctx.position("AAA") == 0 and not ctx.open_orders():
            ctx.signal("AAA", SignalDirection.LONG)
"""


def signal_run(tiny: Path, risk: str) -> list[tuple[bool, str, Decimal | None]]:
    (tiny / "always_long.py").write_text(ALWAYS_LONG)
    config_path = tiny / "config.yaml"
    text = config_path.read_text().replace(
        "  name: sma_crossover\n  params: {fast: 2, slow: 3, quantity: 100}",
        "  name: always_long.py:AlwaysLong",
    )
    config_path.write_text(text + f"risk: {risk}\n")
    outcome = boot.run_backtest(load_config(config_path), tiny, None)
    return [
        (d.approved, d.reason, None if d.order is None else d.order.quantity)
        for d in outcome.result.decisions
    ]


def test_volatility_targeting_reads_the_closes_of_every_bar(tiny: Path) -> None:
    decisions = signal_run(
        tiny,
        "{sizing: {method: volatility_target, target_volatility: 0.5, window: 3}}",
    )
    # 01-02..01-04: 0, 1 and 2 of the 3 returns needed. 01-05: closes 10, 10, 10, 9:
    # returns 0, 0, -0.1 (mean -1/30), sample stdev sqrt(0.00667 / 2) = 0.057735,
    # x sqrt(252) = 0.9165; weight 0.5 / 0.9165 = 0.5455 -> 5455.4 of 10000 at 9 -> 606.
    # The order fills at the next open; then the strategy holds and stops signalling.
    assert [(ok, qty) for ok, _, qty in decisions] == [
        (False, None),
        (False, None),
        (False, None),
        (True, Decimal(606)),
    ]
    assert decisions[2][1].startswith(
        "volatility_target: 2 of the 3 returns of AAA needed have been seen"
    )


def test_participation_reads_the_volume_of_every_bar(tiny: Path) -> None:
    decisions = signal_run(
        tiny,
        "{signal_quantity: 150, max_adv_participation: 0.1, adv_window: 2, on_breach: resize}",
    )
    # 01-02, 01-03: 0 and 1 completed sessions of 2. 01-04: 01-02 and 01-03 completed,
    # 1000 each: 0.1 x 1000 = 100 of the 150 asked.
    assert [(ok, qty) for ok, _, qty in decisions] == [
        (False, None),
        (False, None),
        (True, Decimal(100)),
    ]


def two_day_strategy(first: str, second: str) -> str:
    """A strategy file that does ``first`` at the 01-02 close and ``second`` at 01-03's."""
    return f"""
from qtrader.models import BaseStrategy


class TwoDays(BaseStrategy):
    def on_bar(self, ctx):
        day = ctx.timestamp.date().isoformat()
        if day == "2024-01-02":
            {first}
        elif day == "2024-01-03":
            {second}
"""


def two_day_config(tiny: Path, strategy: str, extra: str = "", execution: str = "") -> Path:
    """The tiny config running ``strategy`` (a ``two_day_strategy``), plus ``extra`` keys and
    ``execution`` keys."""
    (tiny / "two_days.py").write_text(strategy)
    config_path = tiny / "config.yaml"
    text = config_path.read_text().replace(
        "  name: sma_crossover\n  params: {fast: 2, slow: 3, quantity: 100}",
        "  name: two_days.py:TwoDays",
    )
    config_path.write_text(text.replace("execution:\n", f"execution:\n{execution}") + extra)
    return config_path


# 50 more than held on 01-03: a short sale.
OVERSELL = two_day_strategy('ctx.buy("AAA", 100)', 'ctx.sell("AAA", 150)')


def oversell_config(tiny: Path, extra: str) -> Path:
    return two_day_config(tiny, OVERSELL, extra)


def test_a_portfolio_that_may_not_short_makes_risk_refuse_short_sales(tiny: Path) -> None:
    # The portfolio refuses the fill of a short sale and that stops the run: risk, left at
    # its defaults (shorts allowed), used to approve the sell of 150 against 100 held.
    config = oversell_config(tiny, "portfolio: {allow_short: false}\n")
    outcome = boot.run_backtest(load_config(config), tiny, None)
    decisions = [(d.approved, d.reason) for d in outcome.result.decisions]
    assert decisions[0] == (True, "")
    assert decisions[1][0] is False
    assert "allow_short" in decisions[1][1]
    # The buy of 100 fills at the open of 01-03 (10); nothing else does.
    assert [(f.side.value, f.quantity, f.price) for f in outcome.result.fills] == [
        ("buy", Decimal(100), Decimal(10))
    ]


def test_risk_that_allows_shorts_against_such_a_portfolio_is_refused(tiny: Path) -> None:
    config = oversell_config(tiny, "portfolio: {allow_short: false}\nrisk: {allow_short: true}\n")
    code, text = run(config)
    assert code == 2
    assert "risk.allow_short: true, but portfolio.allow_short is false" in text


def test_risk_counts_a_partly_filled_working_order_at_what_is_left_to_fill(tiny: Path) -> None:
    # Participation 5% of 1000 shares a bar: the buy of 300 fills 50 at the 01-03 open (10)
    # and keeps working for 250. At the 01-03 close (10) the cash is 10000 - 500 = 9500, of
    # which 250 x 10 = 2500 is spoken for: 7000 is left, exactly the buy of 700 x 10. Risk
    # used to count the working order at its full 300 (3000) and refuse it.
    strategy = two_day_strategy('ctx.buy("AAA", 300)', 'ctx.buy("AAA", 700)')
    config_path = two_day_config(tiny, strategy, execution="  fill: {participation: 0.05}\n")
    outcome = boot.run_backtest(load_config(config_path), tiny, None)
    assert [(d.approved, None if d.order is None else d.order.quantity) for d in
            outcome.result.decisions] == [(True, Decimal(300)), (True, Decimal(700))]  # fmt: skip
    figures = outcome.result.decisions[1].figures
    assert (figures["cash"], figures["committed_cash"], figures["budget"]) == (
        Decimal(9500),
        Decimal(2500),
        Decimal(7000),
    )
