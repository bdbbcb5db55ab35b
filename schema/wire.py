"""Inputs handed to resolvers in their wire form: the value GraphQL coerced, not dataclasses.

The resolvers take the same JSON a REST client sends and validate it once (resolvers/validation.py).
For an input type whose GraphQL field names are that JSON's names, Strawberry's default conversion
(the value into nested input dataclasses, which a `to_wire()` then turned back into the same dict)
is pure overhead: measured, 12% of proposeAction's CPU. GraphQL has already checked the value's
shape and scalar types against the schema by then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from strawberry.types.arguments import InputContext

T = TypeVar("T", bound=type)


@dataclass(frozen=True, slots=True)
class WireInput:
    """An input value keyed by its GraphQL field names, as graphql-core coerced it."""

    value: Mapping[str, Any]

    def to_wire(self) -> dict[str, Any]:
        """The REST body: fields left out or given as null are absent."""
        return {name: item for name, item in self.value.items() if item is not None}


def kept_in_wire_form(cls: T) -> T:
    """Apply under `@strawberry.input`: arguments of this type reach resolvers as a WireInput
    (annotate them `Annotated[WireInput, strawberry.argument(graphql_type=cls)]`)."""
    cls.__strawberry_definition__.from_input = _wire_input  # type: ignore[attr-defined]
    return cls


def _wire_input(_type: type, value: Mapping[str, Any], _context: InputContext) -> WireInput:
    return WireInput(value)
