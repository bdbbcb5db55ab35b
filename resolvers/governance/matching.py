"""Pure predicates behind policy conditions: globs on names and operators on action params.

Promise: nothing here raises on odd input. A value of the wrong type for an operator, a missing
path or an incomparable pair simply does not match, so one malformed action can never break the
decision for everybody else.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Mapping
from fnmatch import translate
from typing import Any, Final

GLOB_CHARS: Final = frozenset("*?[")


class Missing(enum.Enum):
    """What a dotted path resolves to when some step of it is absent (distinct from JSON null)."""

    MISSING = enum.auto()


MISSING: Final = Missing.MISSING


def is_glob(pattern: str) -> bool:
    """A pattern is a glob when it uses any fnmatch wildcard; everything else is an exact name."""
    return any(char in GLOB_CHARS for char in pattern)


def compile_glob(pattern: str) -> re.Pattern[str]:
    """fnmatch semantics, but case-sensitive on every OS (``fnmatch.fnmatch`` folds case on Windows)."""
    return re.compile(translate(pattern))


def lookup(params: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """Walk a dotted path through nested objects (and list indexes such as ``items.0``).

    Returns MISSING as soon as a step is absent; a key that itself contains a dot is not reachable.
    """
    current: Any = params
    for key in path:
        current = _step(current, key)
        if current is MISSING:
            break
    return current


def _step(container: Any, key: str) -> Any:
    if isinstance(container, Mapping):
        return container.get(key, MISSING)
    if isinstance(container, list | tuple) and key.isascii() and key.isdigit():
        index = int(key)
        return container[index] if index < len(container) else MISSING
    return MISSING


def is_number(value: Any) -> bool:
    """JSON numbers: int or float, but never bool (``True`` is an int to Python, not to JSON)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def json_equal(left: Any, right: Any) -> bool:
    """Equality with JSON's types: ``true`` is not ``1``, ``1`` equals ``1.0``, containers compare deeply."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if is_number(left) and is_number(right):
        return bool(left == right)
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(map(json_equal, left, right))
    return type(left) is type(right) and bool(left == right)


def _ne(value: Any, operand: Any) -> bool:
    return not json_equal(value, operand)


def _gt(value: Any, operand: Any) -> bool:
    return is_number(value) and bool(value > operand)


def _gte(value: Any, operand: Any) -> bool:
    return is_number(value) and bool(value >= operand)


def _lt(value: Any, operand: Any) -> bool:
    return is_number(value) and bool(value < operand)


def _lte(value: Any, operand: Any) -> bool:
    return is_number(value) and bool(value <= operand)


def _in(value: Any, operand: Any) -> bool:
    return any(json_equal(value, item) for item in operand)


def _contains(value: Any, operand: Any) -> bool:
    """Substring for strings, membership for lists; anything else contains nothing."""
    if isinstance(value, str):
        return isinstance(operand, str) and operand in value
    if isinstance(value, list | tuple):
        return any(json_equal(item, operand) for item in value)
    return False


def _matches(value: Any, operand: Any) -> bool:
    """``re.search`` semantics: anchor with ``^``/``$`` in the pattern to match the whole string."""
    return isinstance(value, str) and operand.search(value) is not None


OPERATORS: Final[Mapping[str, Callable[[Any, Any], bool]]] = {
    "eq": json_equal,
    "ne": _ne,
    "gt": _gt,
    "gte": _gte,
    "lt": _lt,
    "lte": _lte,
    "in": _in,
    "contains": _contains,
    "matches": _matches,
}


def operator_holds(name: str, argument: Any, value: Any) -> bool:
    """Evaluate one operator against a looked-up value; never raises.

    A MISSING value satisfies only ``ne``: an absent field is not equal to anything, so
    ``{"env": {"ne": "prod"}}`` matches an action that has no ``env`` at all.
    """
    if value is MISSING:
        return name == "ne"
    try:
        return OPERATORS[name](value, argument)
    except (TypeError, ValueError, RecursionError):
        return False


def is_finite_number(value: Any) -> bool:
    """Operands of ordering operators must be real, finite numbers."""
    return is_number(value) and math.isfinite(value)
