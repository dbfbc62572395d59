"""The base every shared model derives from: frozen, strict about unknown fields."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class FrozenModel(BaseModel):
    """Immutable, hashable, and rejects fields it does not know.

    Contracts between services must not silently absorb a misspelt field.
    """

    # Not ``defer_build``: it would save a quarter of this package's import, but a model
    # first validated in several threads at once (the data service loads files in threads)
    # can be rebuilt concurrently, which pydantic does not make safe (pydantic#11849).
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    @classmethod
    def trusted(cls, values: dict[str, Any]) -> Self:
        """An instance of values that are valid by construction, without validating them.

        For the hot paths of services only (a fill built from an accepted order,
        a ledger entry from the book's own arithmetic): ``values`` must be
        exactly what validation would have kept. User input (strategies'
        requests, configs) is always validated by the normal constructor.

        ``values`` becomes the instance's ``__dict__`` as given (it must not be
        used afterwards) when it names every field in declaration order, as
        validation would lay them out; otherwise missing fields take their
        defaults and an unknown or missing required field is a ``TypeError``.
        The instance equals, hashes, prints and dumps like a validated one.
        """
        plan = _PLANS.get(cls)
        if plan is None:
            plan = _plan(cls)
        names, every_field = plan
        if list(values) == names:  # the hot paths name every field, in order
            given = every_field
        else:
            keys = tuple(values)
            # The set of fields given is shared by every instance given the same fields:
            # one set per instance was a third of a long run's memory (a set of 15 names
            # takes about 2 KB). Frozen models never add to it, and pydantic copies it
            # before it changes it (``model_copy(update=...)``).
            shared = _GIVEN.get((cls, keys))
            if shared is None:
                shared = _GIVEN[(cls, keys)] = set(keys)
            given = shared
            values = _complete(cls, values)
        # ``BaseModel``'s own slot and ``__dict__`` setters, called directly: faster than
        # ``object.__setattr__`` by name, which looks each one up (a long run builds millions).
        model = _new(cls)
        _set_dict(model, values)
        _set_fields_set(model, given)
        _set_extra(model, None)
        _set_private(model, None)
        return model


_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__

# Each class's fields in declaration order (as validation lays them out) and their set.
_PLANS: dict[type[BaseModel], tuple[list[str], set[str]]] = {}
_GIVEN: dict[tuple[type[BaseModel], tuple[str, ...]], set[str]] = {}


def _plan(cls: type[BaseModel]) -> tuple[list[str], set[str]]:
    if cls.__pydantic_post_init__ or cls.__private_attributes__ or cls.__new__ is not _new:
        raise TypeError(
            f"{cls.__name__} has post-init, private state or its own __new__: "
            "trusted() cannot build it"
        )
    names = list(cls.__pydantic_fields__)
    plan = _PLANS[cls] = (names, set(names))
    return plan


def _complete(cls: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` laid out in field order, with the defaults of the fields not given."""
    fields = cls.__pydantic_fields__
    unknown = values.keys() - fields.keys()
    if unknown:
        raise TypeError(f"{cls.__name__}.trusted() got unknown fields {sorted(unknown)}")
    complete: dict[str, Any] = {}
    for name, field in fields.items():
        if name in values:
            complete[name] = values[name]
        elif field.is_required():
            raise TypeError(f"{cls.__name__}.trusted() is missing the field {name!r}")
        else:
            complete[name] = field.get_default(call_default_factory=True, validated_data=complete)
    return complete


def to_decimal(value: float) -> Decimal:
    """Convert a float price from a columnar array to an exact Decimal.

    ``repr`` gives the shortest string that round-trips, so a price read as
    ``157.92`` from a file becomes ``Decimal("157.92")``, not the binary
    expansion ``157.919999999999987494...``.
    """
    return Decimal(repr(float(value)))
