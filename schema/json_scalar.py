"""The JSON scalar, as Strawberry defines it, except that a literal number JSON cannot write is refused.

A GraphQL literal such as `params: {a: 1e999}` reads as Python's inf, which no JSON document can
carry: orjson wrote it as null, so the action stored and answered `{"a": null}` while the call
succeeded (and a policy could have judged inf). Variables come in JSON, which has no such number.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, ValueNode, value_from_ast_untyped
from strawberry.scalars import JSON
from strawberry.schema.types.scalar import DEFAULT_SCALAR_REGISTRY
from strawberry.types.scalar import ScalarDefinition, scalar

from resolvers.validation import non_finite

NON_FINITE_REFUSED = "JSON numbers must be finite (1e999 reads as infinity)"
_STRAWBERRY_JSON = DEFAULT_SCALAR_REGISTRY[JSON]


def parse_json_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
    value = value_from_ast_untyped(node, variables)
    if non_finite(value):
        raise GraphQLError(NON_FINITE_REFUSED)
    return value


FINITE_JSON: ScalarDefinition = scalar(  # type: ignore[assignment]
    name=_STRAWBERRY_JSON.name,
    description=_STRAWBERRY_JSON.description,
    specified_by_url=_STRAWBERRY_JSON.specified_by_url,
    serialize=lambda v: v,
    parse_value=lambda v: v,
    parse_literal=parse_json_literal,
)
