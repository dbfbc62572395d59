"""``IdSet``: the ids of the fills a portfolio applied, in a bit each where it can.

A portfolio remembers every fill it applied, to refuse one applied twice and to accept a
lot named after its opening fill. Kept as strings, that is about 90 bytes a fill for the
whole run (8 MiB at 96,000 fills). A venue's ids are usually a prefix and a number
(``F-000123``): those are kept as one bit per number, under their prefix and the number's
width (so ``F-000123`` and ``F-123`` stay different ids); any other id is kept as is.
"""

from __future__ import annotations

from collections.abc import Iterable

_DIGITS = "0123456789"
_MAX_NUMBER = 1 << 24
"""Numbers above this are kept as strings (a bit array grows to the largest number seen)."""


class IdSet:
    """A set of string ids (``add``, ``in``, ``len``) with the memory described above."""

    __slots__ = ("_bits", "_count", "_other")

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._bits: dict[tuple[str, int], bytearray] = {}
        self._other: set[str] = set()
        self._count = 0
        for id_ in ids:
            self.add(id_)

    def add(self, id_: str) -> None:
        key, number = _split(id_)
        if key is None:
            if id_ not in self._other:
                self._other.add(id_)
                self._count += 1
            return
        bits = self._bits.get(key)
        if bits is None:
            bits = self._bits[key] = bytearray()
        byte, mask = number >> 3, 1 << (number & 7)
        if byte >= len(bits):
            bits.extend(bytes(max(byte + 1 - len(bits), len(bits))))  # doubles: amortised
        if not bits[byte] & mask:
            bits[byte] |= mask
            self._count += 1

    def __contains__(self, id_: object) -> bool:
        if not isinstance(id_, str):
            return False
        key, number = _split(id_)
        if key is None:
            return id_ in self._other
        bits = self._bits.get(key)
        byte = number >> 3
        return bits is not None and byte < len(bits) and bool(bits[byte] & (1 << (number & 7)))

    def __len__(self) -> int:
        return self._count


def _split(id_: str) -> tuple[tuple[str, int] | None, int]:
    """``((prefix, width of the number), number)``, or ``(None, 0)`` for an id kept as is."""
    prefix = id_.rstrip(_DIGITS)
    digits = id_[len(prefix) :]
    if not digits:
        return None, 0
    number = int(digits)
    if number > _MAX_NUMBER:
        return None, 0
    return (prefix, len(digits)), number
