"""What Strawberry resolvers get as `info.context`: the domain Context plus per-request loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from resolvers.context import Context


@dataclass(slots=True)
class GraphQLContext:
    ctx: Context
    loaders: dict[str, Any] = field(default_factory=dict)
