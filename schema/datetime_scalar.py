"""The DateTime scalar, as Strawberry defines it, except that it writes the wire contract's form.

DESIGN.md's timestamps are ISO-8601 UTC with `Z` (REST, webhooks and event envelopes write them with
`app.core.clock.isoformat_z`); Strawberry's default wrote `datetime.isoformat()`, so the same
`createdAt` read `...T10:00:00.123Z` over REST and `...T10:00:00.123456+00:00` over GraphQL.
Input is parsed as before: any ISO-8601 form, `Z` or an offset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from strawberry.schema.types.scalar import DEFAULT_SCALAR_REGISTRY
from strawberry.types.scalar import ScalarDefinition, scalar

from app.core.clock import isoformat_z

_STRAWBERRY_DATETIME = DEFAULT_SCALAR_REGISTRY[datetime]


def serialize_datetime(value: Any) -> str:
    if not isinstance(value, datetime):
        raise TypeError(f"DateTime cannot represent {value!r}")
    return isoformat_z(value)  # type: ignore[return-value]  # never None for a datetime


WIRE_DATETIME: ScalarDefinition = scalar(  # type: ignore[assignment]
    name=_STRAWBERRY_DATETIME.name,
    description="Date with time: ISO-8601 UTC with `Z`, to the millisecond, as REST writes it (any ISO-8601 "
                "form is read)",
    specified_by_url=_STRAWBERRY_DATETIME.specified_by_url,
    serialize=serialize_datetime,
    parse_value=_STRAWBERRY_DATETIME.parse_value,
    parse_literal=_STRAWBERRY_DATETIME.parse_literal,
)
