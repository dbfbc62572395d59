"""The base every shared model derives from: frozen, strict about unknown fields."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Self

from pydantic import BaseModel, ConfigDict

_set = object.__setattr__


class FrozenModel(BaseModel):
    """Immutable, hashable, and rejects fields it does not know.

    Contracts between services must not silently absorb a misspelt field.
    """

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
        names = _FIELD_ORDER.get(cls)
        if names is None:
            names = _field_order(cls)
        keys = tuple(values)
        # The set of fields given is shared by every instance given the same fields: one
        # set per instance was a third of a long run's memory (a set of 15 names takes
        # about 2 KB). Frozen models never add to it, and pydantic copies it before it
        # changes it (``model_copy(update=...)``).
        given = _GIVEN.get((cls, keys))
        if given is None:
            given = _GIVEN[(cls, keys)] = set(keys)
        if keys != names:
            values = _complete(cls, values)
        model = cls.__new__(cls)
        _set(model, "__dict__", values)
        _set(model, "__pydantic_fields_set__", given)
        _set(model, "__pydantic_extra__", None)
        _set(model, "__pydantic_private__", None)
        return model


_FIELD_ORDER: dict[type[BaseModel], tuple[str, ...]] = {}
_GIVEN: dict[tuple[type[BaseModel], tuple[str, ...]], set[str]] = {}


def _field_order(cls: type[BaseModel]) -> tuple[str, ...]:
    if cls.__pydantic_post_init__ or cls.__private_attributes__:
        raise TypeError(f"{cls.__name__} has post-init or private state: trusted() cannot build it")
    names = _FIELD_ORDER[cls] = tuple(cls.__pydantic_fields__)
    return names


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
