"""``FrozenModel.trusted``: an instance of already-valid values, equal to a validated one."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from qtrader.models import (
    Fill,
    FrozenModel,
    OrderRequest,
    OrderStatus,
    OrderUpdate,
    RiskDecision,
    Side,
)

AT = datetime(2024, 1, 2, 16, tzinfo=UTC)
FILL = {
    "id": "F-1",
    "order_id": "O-1",
    "strategy_id": "s1",
    "symbol": "AAA",
    "side": Side.BUY,
    "quantity": Decimal(100),
    "price": Decimal("10.5"),
    "commission": Decimal(0),
    "timestamp": AT,
}


def test_a_trusted_instance_is_indistinguishable_from_a_validated_one() -> None:
    validated = Fill(**FILL)
    trusted = Fill.trusted(dict(FILL))
    assert type(trusted) is Fill
    assert trusted == validated
    assert hash(trusted) == hash(validated)
    assert repr(trusted) == repr(validated)
    assert trusted.model_dump() == validated.model_dump()
    assert trusted.model_fields_set == validated.model_fields_set
    assert trusted.cash_flow == Decimal(-1050)
    with pytest.raises(ValueError, match="frozen"):
        trusted.price = Decimal(1)  # type: ignore[misc]
    assert Fill.model_validate(trusted.model_dump()) == trusted


def test_missing_fields_take_their_defaults_and_the_order_is_the_declared_one() -> None:
    given = {"symbol": "AAA", "strategy_id": "s1", "quantity": Decimal(5), "side": Side.SELL}
    trusted = OrderRequest.trusted(given)
    validated = OrderRequest(**given)
    assert trusted == validated
    assert list(trusted.__dict__) == list(OrderRequest.model_fields)
    assert repr(trusted) == repr(validated)
    assert trusted.model_fields_set == validated.model_fields_set == set(given)
    update = OrderUpdate.trusted(
        {"order_id": "O-1", "status": OrderStatus.CANCELLED, "timestamp": AT}
    )
    assert update.reason == ""
    rejected = {"timestamp": AT, "intent": validated, "order": None, "approved": False}
    decision = RiskDecision.trusted(dict(rejected))
    assert decision.figures == {}
    assert decision.figures is not RiskDecision.trusted(dict(rejected)).figures  # a fresh default


def test_unknown_or_missing_required_fields_are_refused() -> None:
    with pytest.raises(TypeError, match=r"unknown fields \['colour'\]"):
        Fill.trusted({**FILL, "colour": "red"})
    without_price = {k: v for k, v in FILL.items() if k != "price"}
    with pytest.raises(TypeError, match="missing the field 'price'"):
        Fill.trusted(without_price)


def test_a_model_with_private_state_cannot_be_built_trusted() -> None:
    class WithPrivate(FrozenModel):
        x: int
        _cache: int = 0

    assert WithPrivate(x=1).x == 1
    with pytest.raises(TypeError, match="WithPrivate has post-init, private state"):
        WithPrivate.trusted({"x": 1})


def test_instances_share_the_set_of_fields_given_and_a_copy_never_changes_it() -> None:
    # One set per layout of given fields, not one per instance (memory); model_copy with
    # an update copies it first, so no other instance sees the update's fields.
    given = {"symbol": "AAA", "strategy_id": "s1", "quantity": Decimal(5), "side": Side.SELL}
    first, second = OrderRequest.trusted(dict(given)), OrderRequest.trusted(dict(given))
    assert first.model_fields_set is second.model_fields_set
    changed = first.model_copy(update={"tag": "x"})
    assert changed.model_fields_set == {*given, "tag"}
    assert first.model_fields_set == second.model_fields_set == set(given)
    assert changed.model_dump(exclude_unset=True)["tag"] == "x"
    assert "tag" not in second.model_dump(exclude_unset=True)


def test_every_field_given_out_of_order_is_laid_out_in_the_declared_order() -> None:
    in_order = dict(FILL, slippage_per_share=Decimal(0), slippage_cost=Decimal(0), close_lots=())
    shuffled = dict(reversed(list(in_order.items())))
    trusted = Fill.trusted(shuffled)
    assert list(trusted.__dict__) == list(Fill.model_fields)
    assert repr(trusted) == repr(Fill(**FILL))
    assert trusted.model_fields_set == set(in_order)
    # given in order, the dict itself is kept and the set of fields is shared
    kept = dict(in_order)
    first, second = Fill.trusted(kept), Fill.trusted(dict(in_order))
    assert first.__dict__ is kept
    assert first.model_fields_set is second.model_fields_set


def test_a_model_with_its_own_constructor_cannot_be_built_trusted() -> None:
    class Counted(FrozenModel):
        x: int

        def __new__(cls, *args: object, **kwargs: object) -> Counted:
            return super().__new__(cls)

    assert Counted(x=1).x == 1
    with pytest.raises(TypeError, match="Counted has post-init, private state or its own __new__"):
        Counted.trusted({"x": 1})
