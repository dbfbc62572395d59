"""Regulatory fees on sales (SEC section 31 fee, FINRA TAF), worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from qtrader.models import Fill, Side
from qtrader.models.testing import ny_close
from qtrader.portfolio import (
    LedgerEntryType,
    LotPortfolioService,
    PortfolioConfig,
    PortfolioError,
    RegulatoryFeesConfig,
    replay,
)

D = Decimal
DAY = date(2024, 6, 3)
_ids = iter(range(1, 100_000))


def fill(side: Side, quantity: int, price: str, commission: str = "0",
         *, day: date = DAY) -> Fill:  # fmt: skip
    n = next(_ids)
    return Fill(
        id=f"F-{n}",
        order_id=f"O-{n}",
        strategy_id="s1",
        symbol="AAA",
        side=side,
        quantity=D(quantity),
        price=D(price),
        commission=D(commission),
        timestamp=ny_close(day),
    )


def with_fees(**fees: object) -> LotPortfolioService:
    return LotPortfolioService(
        PortfolioConfig(
            initial_cash=D(1_000_000), regulatory_fees=RegulatoryFeesConfig.model_validate(fees)
        )
    )


def charged(p: LotPortfolioService) -> list[tuple[str, Decimal]]:
    return [(e.type.value, e.cash_flow) for e in p.ledger() if e.type is not LedgerEntryType.FILL]


def test_a_sale_pays_the_sec_fee_and_the_taf_a_buy_pays_neither() -> None:
    # defaults: $27.80 per million of proceeds; $0.000166 a share, at most $8.30 a trade
    # sell 1,000 @ 50.00: SEC 50,000 x 27.80 / 1,000,000 = 1.39; TAF 1,000 x 0.000166
    # = 0.166, rounded up to 0.17
    p = with_fees()
    p.apply_fill(fill(Side.BUY, 1000, "40.00"))
    assert charged(p) == []
    sale = fill(Side.SELL, 1000, "50.00")
    p.apply_fill(sale)
    assert charged(p) == [("sec_fee", D("-1.39")), ("finra_taf", D("-0.17"))]
    sec, taf = p.ledger()[2:]
    assert (sec.reference, sec.quantity, sec.price, sec.rate) == (
        sale.id,
        D(-1000),
        D("50.00"),
        D("0.0000278"),
    )
    assert (taf.reference, taf.rate, taf.strategy_id, taf.symbol) == (
        sale.id,
        D("0.000166"),
        "s1",
        "AAA",
    )


def test_fees_round_up_to_the_cent_and_the_taf_is_capped_per_trade() -> None:
    p = with_fees()
    # sell 10 @ 10: SEC 100 x 0.0000278 = 0.00278 -> 0.01; TAF 10 x 0.000166 = 0.00166 -> 0.01
    p.apply_fill(fill(Side.SELL, 10, "10"))
    # sell 100,000 @ 1: SEC 2.78; TAF 100,000 x 0.000166 = 16.60, capped at 8.30
    p.apply_fill(fill(Side.SELL, 100_000, "1"))
    assert charged(p) == [
        ("sec_fee", D("-0.01")),
        ("finra_taf", D("-0.01")),
        ("sec_fee", D("-2.78")),
        ("finra_taf", D("-8.30")),
    ]
    # both sales opened shorts (nothing was held): short sales pay too
    # 0.01 + 0.01 + 2.78 + 8.30 = 11.10
    assert p.snapshot().fees == p.pnl_summary("s1").fees == D("11.10")


def test_fees_are_netted_from_realized_pnl_like_commissions() -> None:
    # buy 1,000 @ 40 (1.00 commission), sell 1,000 @ 50 (1.00): realized 10,000,
    # commissions 2.00, fees 1.39 + 0.17 = 1.56, net realized 10,000 - 2 - 1.56 = 9,996.44
    p = with_fees()
    p.apply_fill(fill(Side.BUY, 1000, "40", "1"))
    p.apply_fill(fill(Side.SELL, 1000, "50", "1"))
    summary = p.pnl_summary("s1")
    assert (summary.realized_pnl, summary.commissions, summary.fees) == (
        D(10000),
        D(2),
        D("1.56"),
    )
    assert summary.net_realized_pnl == summary.total_pnl == D("9996.44")
    state = p.snapshot()
    assert (state.fees, state.total_pnl) == (D("1.56"), D("9996.44"))
    assert p.cash == D(1_000_000) + D("9996.44")


def test_a_dated_schedule_charges_the_rate_in_effect_on_the_sale_date() -> None:
    p = with_fees(sec_fee_per_million={"2024-05-22": "27.80", "2025-05-14": "0"})
    p.apply_fill(fill(Side.SELL, 1000, "50", day=date(2024, 5, 22)))  # 1.39
    p.apply_fill(fill(Side.SELL, 1000, "50", day=date(2025, 5, 14)))  # 0: no SEC entry
    assert charged(p) == [
        ("sec_fee", D("-1.39")),
        ("finra_taf", D("-0.17")),
        ("finra_taf", D("-0.17")),
    ]
    before = (p.snapshot(), p.ledger())
    with pytest.raises(
        PortfolioError, match=r"sold on 2024-05-21, before the first effective date.*2024-05-22"
    ):
        p.apply_fill(fill(Side.SELL, 1, "50", day=date(2024, 5, 21)))
    assert (p.snapshot(), p.ledger()) == before


def test_fees_off_by_default() -> None:
    p = LotPortfolioService(PortfolioConfig(initial_cash=D(1000)))
    p.apply_fill(fill(Side.SELL, 1000, "50"))
    assert charged(p) == []
    assert p.snapshot().fees == 0


def test_replay_with_fees() -> None:
    live = with_fees(finra_taf_max="5")
    live.apply_fill(fill(Side.BUY, 1000, "40", "1"))
    live.apply_fill(fill(Side.SELL, 50_000, "50", "1"))  # TAF 8.30 capped at 5.00
    assert charged(live)[-1] == ("finra_taf", D("-5.00"))
    rebuilt = replay(live.config, live.ledger())
    assert rebuilt.snapshot() == live.snapshot()
    assert rebuilt.pnl_summary() == live.pnl_summary()
    off = PortfolioConfig(initial_cash=D(1_000_000))
    with pytest.raises(PortfolioError, match=r"#3 \(sec_fee .* comes to 0"):
        replay(off, live.ledger())
    other_cap = live.config.model_copy(update={"regulatory_fees": RegulatoryFeesConfig()})
    with pytest.raises(PortfolioError, match=r"#4 \(finra_taf .* replays differently"):
        replay(other_cap, live.ledger())
    no_price = live.ledger()[2].model_copy(update={"price": None})
    with pytest.raises(PortfolioError, match="needs a price"):
        replay(live.config, (*live.ledger()[:2], no_price))


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"sec_fee_per_million": {}}, "at least one"),
        ({"sec_fee_per_million": "-1"}, "between 0 and 10000"),
        ({"sec_fee_per_million": {"2024-05-22": "20000"}}, "between 0 and 10000"),
        ({"finra_taf_per_share": "-0.1"}, "finra_taf_per_share"),
        ({"finra_taf": "0.1"}, "finra_taf"),  # unknown key
    ],
)
def test_regulatory_fees_config_refuses_bad_values(
    options: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        PortfolioConfig.model_validate({"initial_cash": 1, "regulatory_fees": options})


def test_a_fee_at_a_rate_of_zero_posts_nothing() -> None:
    p = with_fees(finra_taf_per_share="0")
    p.apply_fill(fill(Side.SELL, 1000, "50"))
    assert charged(p) == [("sec_fee", D("-1.39"))]
    taf_only = with_fees(sec_fee_per_million="0")
    taf_only.apply_fill(fill(Side.SELL, 1000, "50"))
    assert charged(taf_only) == [("finra_taf", D("-0.17"))]
    with pytest.raises(PortfolioError, match=r"#2 \(finra_taf .* comes to 0"):
        replay(PortfolioConfig(initial_cash=D(1_000_000)), taf_only.ledger())
