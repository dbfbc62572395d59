"""The ``portfolio`` block's financing and regulatory fees, from the YAML to metrics.json."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from qtrader.cli.bootstrap import build_portfolio
from qtrader.cli.config import load_config
from qtrader.cli.main import app
from qtrader.portfolio import LotPortfolioService

runner = CliRunner()


def with_portfolio(tiny: Path, block: str, cash: str = "10000") -> Path:
    path = tiny / "config.yaml"
    text = path.read_text().replace("initial_cash: 10000", f"initial_cash: {cash}")
    path.write_text(text + block)
    return path


def test_the_yaml_block_becomes_the_portfolio_config(tiny: Path) -> None:
    path = with_portfolio(
        tiny,
        """portfolio:
  lot_matching: lifo
  financing: {day_count: 365, borrow_rate: 0.0025, borrow_rates: {GME: 0.35}, margin_rate: 0.065}
  regulatory_fees:
    sec_fee_per_million: {2024-05-22: 27.80, 2025-05-14: 0}
""",
    )
    portfolio = build_portfolio(load_config(path))
    assert isinstance(portfolio, LotPortfolioService)
    config = portfolio.config
    assert config.financing.day_count == 365
    assert config.financing.borrow_rate_of("GME") == Decimal("0.35")
    assert config.financing.borrow_rate_of("AAA") == Decimal("0.0025")
    assert config.financing.margin_rate == Decimal("0.065")
    assert config.regulatory_fees is not None
    assert config.regulatory_fees.sec_fee_per_million == {
        date(2024, 5, 22): Decimal("27.80"),
        date(2025, 5, 14): Decimal(0),
    }


def test_bad_financing_keys_are_named(tiny: Path) -> None:
    path = with_portfolio(tiny, "portfolio: {financing: {borrow_rat: 0.03, day_count: 364}}\n")
    result = runner.invoke(app, ["backtest", str(path)])
    assert result.exit_code == 2
    output = result.output.replace("\n", " ")
    assert "portfolio.financing.borrow_rat: unknown key" in output
    assert "portfolio.financing.day_count" in output


def test_margin_interest_and_fees_of_the_hand_worked_run(tiny: Path) -> None:
    # conftest's run with 1,000 cash: buy 100 @ 11.75 on Thu 11 Jan at the open -> cash
    # -175; sell 100 @ 8.25 on Tue 16 Jan at the open. Margin 7.2% / 360 on the overnight
    # debit (exact accrual x 360 = balance x 0.072 x nights; charged: the increase of
    # the running total rounded half-even to the cent):
    #   12 Jan: 175 x 0.072 = 12.6 -> 0.035 -> 0.04                 (cash -175.04)
    #   15 Jan (3 nights): + 175.04 x 0.072 x 3 = 37.80864; 50.40864 / 360 = 0.14002
    #           -> 0.14, a charge of 0.10                             (cash -175.14)
    #   16 Jan (before the sale): + 175.14 x 0.072 = 12.61008; 63.01872 / 360 = 0.17505
    #           -> 0.18, a charge of 0.04                             (cash -175.18)
    # The sale: SEC 825 x 27.80 / 1e6 = 0.022935 -> 0.03; TAF 100 x 0.000166 -> 0.02.
    # Cash -175.18 + 825 - 0.05 = 649.77 = final equity; P&L -350 - 0.18 - 0.05 = -350.23
    path = with_portfolio(
        tiny,
        """risk: {preset: unconstrained}
portfolio:
  financing: {margin_rate: 0.072}
  regulatory_fees: {}
""",
        cash="1000",
    )
    out = tiny / "out"
    result = runner.invoke(app, ["backtest", str(path), "--output", str(out)])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["total_margin_interest"] == 0.18
    assert metrics["total_financing_costs"] == 0.18
    assert metrics["total_borrow_fees"] == 0.0
    assert metrics["total_fees"] == 0.05
    assert metrics["end_equity"] == 649.77
    assert metrics["total_pnl"] == -350.23
    equity = [line.split(",") for line in (out / "equity.csv").read_text().splitlines()]
    # days 8 to 11 (11, 12, 15 and 16 Jan), cash at the close
    assert [row[1] for row in equity[8:12]] == ["-175", "-175.04", "-175.14", "649.77"]
