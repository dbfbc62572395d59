"""``${VAR}`` and ``${VAR:-default}`` references in the string values of a config file.

Substitution happens after the YAML is parsed, in every string value at any depth
(mappings and lists; never in keys), so a reference cannot change the file's
structure. A string may hold several references and text around them. Rules, as in
a POSIX shell: ``${VAR}`` is the variable's value and an error when it is unset;
``${VAR:-default}`` is the default when the variable is unset or empty (the default
is plain text up to the first ``}``). ``$${`` writes a literal ``${``; any other
``${`` that is not a well-formed reference is an error, so a typo never slips
through as text.

Which values were rewritten is recorded with their text as written: the copy of
the config saved with the results writes that text back, so it shows
``${SCHWAB_APP_SECRET}`` and never the secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qtrader.models import QTraderError

KeyPath = tuple[str | int, ...]
"""Where a value sits in the document: mapping keys and list positions from the top."""

_REFERENCE = re.compile(
    r"(?P<escape>\$\$\{)"
    r"|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"
    r"|(?P<broken>\$\{)"
)


class EnvVarError(QTraderError):
    """A reference that cannot be substituted; the message names the key and the variable."""


@dataclass(frozen=True, slots=True)
class Substituted:
    """The document with references replaced, and the text as written of what changed."""

    document: Any
    as_written: dict[KeyPath, str]


def dotted(path: KeyPath) -> str:
    """``("data", "symbols", 1)`` -> ``"data.symbols.1"``, as validation errors name keys."""
    return ".".join(str(part) for part in path) or "(top level)"


def _substitute_text(text: str, path: KeyPath, environ: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match["escape"] is not None:
            return "${"
        if match["broken"] is not None:
            raise EnvVarError(
                f"{dotted(path)}: {text!r} has a '${{' that is not ${{NAME}} or "
                "${NAME:-default} (write $${ for a literal ${)"
            )
        name, default = match["name"], match["default"]
        value = environ.get(name)
        if default is not None and not value:
            return default
        if value is None:
            raise EnvVarError(
                f"{dotted(path)}: environment variable {name} is not set "
                f"(set it, or write ${{{name}:-default}} to give a default)"
            )
        return value

    return _REFERENCE.sub(replace, text)


def substitute_env(document: Any, environ: Mapping[str, str]) -> Substituted:
    """Replace the references in every string value of ``document`` (a parsed YAML tree)."""
    as_written: dict[KeyPath, str] = {}

    def walk(node: Any, path: KeyPath) -> Any:
        if isinstance(node, str):
            value = _substitute_text(node, path, environ) if "${" in node else node
            if value != node:
                as_written[path] = node
            return value
        if isinstance(node, dict):
            return {key: walk(value, (*path, key)) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value, (*path, i)) for i, value in enumerate(node)]
        return node

    return Substituted(walk(document, ()), as_written)


def restore_as_written(document: Any, as_written: Mapping[KeyPath, str]) -> Any:
    """Put the text as written back at each recorded key of a dumped document (in place).

    A key the dump does not have (a value that became ``None`` and was left out) is
    skipped: what is not in the document cannot leak.
    """
    for path, text in as_written.items():
        parent = document
        for part in path[:-1]:
            parent = _child(parent, part)
            if parent is None:
                break
        else:
            if path and _child(parent, path[-1]) is not None:
                parent[path[-1]] = text
    return document


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None
