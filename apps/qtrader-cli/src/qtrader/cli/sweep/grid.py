"""What a sweep runs: axes from ``--grid KEY=V1,V2``, their product (or a random sample of
it), and a user's constraint that skips invalid combinations."""

from __future__ import annotations

import ast
import itertools
import operator
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from qtrader.models import QTraderError


class SweepError(QTraderError):
    """A sweep that cannot run as asked (a bad axis, constraint or option)."""


@dataclass(frozen=True, slots=True)
class Axis:
    """One swept key (dotted, as on the command line) and its values, in order."""

    key: str
    values: tuple[Any, ...]


def parse_axis(text: str) -> Axis:
    """``strategy.params.fast=5,10,20``: each value read as YAML (5 is an int, 0.5 a float,
    true a bool, anything else text)."""
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise SweepError(f"--grid {text!r}: expected KEY=VALUE1,VALUE2,... (a dotted key)")
    if any(not part for part in key.split(".")):
        raise SweepError(f"--grid {text!r}: {key!r} is not a dotted key like strategy.params.fast")
    parsed = []
    for item in _top_level_items(values):
        try:
            parsed.append(yaml.safe_load(item.strip()) if item.strip() else item)
        except yaml.YAMLError as exc:
            raise SweepError(f"--grid {text!r}: value {item!r} is not readable: {exc}") from exc
    if len(set(map(repr, parsed))) != len(parsed):
        raise SweepError(f"--grid {text!r}: a value is repeated")
    return Axis(key, tuple(parsed))


def _top_level_items(values: str) -> list[str]:
    """``values`` split at the commas outside brackets and quotes: ``[AAA, BBB],[AAA]`` is
    two lists, ``'a,b',c`` two strings."""
    items, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(values):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            items.append(values[start:i])
            start = i + 1
    items.append(values[start:])
    return items


def combinations(axes: Sequence[Axis]) -> list[dict[str, Any]]:
    """Every combination, the first axis varying slowest (as nested loops in that order)."""
    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        raise SweepError(f"a key is swept twice: {keys}")
    return [
        dict(zip(keys, values, strict=True))
        for values in itertools.product(*(a.values for a in axes))
    ]


def sample(points: list[dict[str, Any]], count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` distinct points drawn without replacement (seeded), kept in grid order."""
    if count < 1:
        raise SweepError(f"--random must be at least 1, got {count}")
    if count >= len(points):
        return points
    chosen = sorted(random.Random(seed).sample(range(len(points)), count))
    return [points[i] for i in chosen]


_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_ARITHMETIC: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}


class Constraint:
    """A condition on swept keys (``strategy.params.fast < strategy.params.slow``).

    Only comparisons, ``and``/``or``/``not``, arithmetic, numbers, strings and the swept
    keys are allowed (no calls, no other names): it is checked when the sweep starts, so a
    misspelt key is an error before any run, never a silently empty sweep.
    """

    def __init__(self, text: str, keys: Sequence[str]) -> None:
        self.text = text
        # A key with a list index (``strategies.1.params.fast``) is no Python name: each
        # swept key is parsed as a stand-in name and read back as itself.
        self._stand_ins: dict[str, str] = {}
        source = text
        for number, key in enumerate(sorted(keys, key=len, reverse=True)):
            pattern = rf"(?<![\w.]){re.escape(key)}(?![\w.])"
            named = all(part.isidentifier() for part in key.split("."))
            if not named and re.search(pattern, source):
                stand_in = f"__swept_{number}"
                source = re.sub(pattern, stand_in, source)
                self._stand_ins[stand_in] = key
        try:
            self._tree = ast.parse(source, mode="eval").body
        except SyntaxError as exc:
            for token in re.findall(r"[A-Za-z_]\w*(?:\.\w+)+", source):
                if any(part[:1].isdigit() for part in token.split(".")):  # a list index
                    raise SweepError(
                        f"--where {text!r}: {token!r} is not a swept key "
                        f"(swept: {', '.join(sorted(keys))})"
                    ) from exc
            raise SweepError(f"--where {text!r}: not an expression: {exc.msg}") from exc
        self._keys = set(keys)
        self._check(self._tree)

    def _key(self, node: ast.AST) -> str | None:
        name = _dotted(node)
        return None if name is None else self._stand_ins.get(name, name)

    def _check(self, node: ast.AST) -> None:
        name = self._key(node)
        if name is not None:
            if name not in self._keys:
                raise SweepError(
                    f"--where {self.text!r}: {name!r} is not a swept key "
                    f"(swept: {', '.join(sorted(self._keys))})"
                )
            return
        allowed = (ast.Compare, ast.BoolOp, ast.UnaryOp, ast.BinOp, ast.Constant)
        if not isinstance(node, allowed):
            raise SweepError(
                f"--where {self.text!r}: {type(node).__name__} is not allowed (use "
                "comparisons, and/or/not, arithmetic, numbers and swept keys)"
            )
        if isinstance(node, ast.Compare) and not all(type(o) in _COMPARE for o in node.ops):
            raise SweepError(f"--where {self.text!r}: only <, <=, >, >=, ==, != compare")
        if isinstance(node, ast.BinOp) and type(node.op) not in _ARITHMETIC:
            raise SweepError(f"--where {self.text!r}: only + - * / // % are allowed")
        if isinstance(node, ast.UnaryOp) and not isinstance(node.op, ast.Not | ast.USub):
            raise SweepError(f"--where {self.text!r}: only 'not' and '-' are allowed")
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.cmpop | ast.boolop | ast.operator | ast.unaryop):
                self._check(child)

    def __call__(self, point: Mapping[str, Any]) -> bool:
        try:
            return bool(self._eval(self._tree, point))
        except (ArithmeticError, TypeError) as exc:  # 1 / 0, "abc" < 5
            shown = ", ".join(f"{k}={v!r}" for k, v in point.items())
            raise SweepError(
                f"--where {self.text!r} cannot be worked out for {shown}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def _eval(self, node: ast.AST, point: Mapping[str, Any]) -> Any:
        name = self._key(node)
        if name is not None:
            return point[name]
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.UnaryOp):
            value = self._eval(node.operand, point)
            return (not value) if isinstance(node.op, ast.Not) else -value
        if isinstance(node, ast.BinOp):
            arithmetic = _ARITHMETIC[type(node.op)]
            return arithmetic(self._eval(node.left, point), self._eval(node.right, point))
        if isinstance(node, ast.BoolOp):
            values = (self._eval(v, point) for v in node.values)
            return all(values) if isinstance(node.op, ast.And) else any(values)
        assert isinstance(node, ast.Compare)
        left = self._eval(node.left, point)
        for comparison, right_node in zip(node.ops, node.comparators, strict=True):
            right = self._eval(right_node, point)
            if not _COMPARE[type(comparison)](left, right):
                return False
            left = right
        return True


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of attribute lookups on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None
