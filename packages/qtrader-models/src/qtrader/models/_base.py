"""The base every shared model derives from: frozen, strict about unknown fields."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class FrozenModel(BaseModel):
    """Immutable, hashable, and rejects fields it does not know.

    Contracts between services must not silently absorb a misspelt field.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


def to_decimal(value: float) -> Decimal:
    """Convert a float price from a columnar array to an exact Decimal.

    ``repr`` gives the shortest string that round-trips, so a price read as
    ``157.92`` from a file becomes ``Decimal("157.92")``, not the binary
    expansion ``157.919999999999987494...``.
    """
    return Decimal(repr(float(value)))
