"""Selectors: where in an answer a field is, as a JMESPath expression.

Terms:
- *selector*: a JMESPath expression (https://jmespath.org/specification.html) such as
  ``recommendations``, ``metadata.context_decision.is_followup`` or
  ``recommendations[?source=='primary']``. A missing field selects ``None``, never raises.
- *plain path*: dotted identifiers only (``a.b.c``), or ``@`` (the whole value). Parsing
  runs per request in the harness's hot loop, so a plain path is answered by direct dict
  look-ups instead of the JMESPath interpreter; the result is the same (JMESPath also gives
  null for a field of a non-object).

Why JMESPath: it is a specified language with a compliance suite, so one expression means
one thing everywhere (the AWS CLI uses it); JSONPath's Python packages disagree with each
other on filters and on what a missing field gives.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


class SelectorError(ValueError):
    """An expression that is not JMESPath; the message says why."""


@dataclass(frozen=True, slots=True)
class Selector:
    expression: str
    search: Callable[[Any], Any]     # answer -> the selected value, or None
    plain: bool                      # answered by the fast path


def _identity(value: Any) -> Any:
    return value


# JMESPath's field lookup is ``value.get(name)``, null when the value has no ``get``: the
# same here, so that anything mapping-like answers alike on both paths.
def _one_key(key: str) -> Callable[[Any], Any]:
    def search(value: Any) -> Any:
        try:
            return value.get(key)
        except AttributeError:
            return None
    return search


def _path(keys: tuple[str, ...]) -> Callable[[Any], Any]:
    def search(value: Any) -> Any:
        try:
            for key in keys:
                value = value.get(key)
        except AttributeError:
            return None
        return value
    return search


def compile_selector(expression: str) -> Selector:
    """Compile once, search per answer. Raises ``SelectorError`` for a bad expression."""
    expression = expression.strip()
    if expression == "@":
        return Selector(expression, _identity, True)
    if _PLAIN.fullmatch(expression):
        keys = tuple(expression.split("."))
        return Selector(expression, _one_key(keys[0]) if len(keys) == 1 else _path(keys), True)
    try:
        compiled = jmespath.compile(expression)
    except JMESPathError as exc:
        raise SelectorError(f"not a JMESPath expression: {_first_line(exc)}") from None
    return Selector(expression, compiled.search, False)


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


__all__ = ["Selector", "SelectorError", "compile_selector"]
