"""Root fields that list the API's closed sets, so clients and code generators can read them."""

from __future__ import annotations

import strawberry

from schema.enums import ErrorCode, Scope


@strawberry.type(description="A scope an API key may carry, in both spellings.")
class ScopeInfo:
    scope: Scope = strawberry.field(description="The scope as an enum value.")
    value: str = strawberry.field(description="The scope as API keys show and take it, e.g. `actions:write`.")
    description: str = strawberry.field(description="What it allows.")


def _scopes() -> list[ScopeInfo]:
    described = {v.name: v.description or "" for v in Scope.__strawberry_definition__.values}  # type: ignore[attr-defined]
    return [ScopeInfo(scope=s, value=str(s.value), description=described[s.name]) for s in Scope]


SCOPES = _scopes()
ERROR_CODES = list(ErrorCode)


@strawberry.type
class ReferenceQueries:
    @strawberry.field(description="The codes errors carry in `extensions.code`.")
    def error_codes(self) -> list[ErrorCode]:
        return ERROR_CODES

    @strawberry.field(description="Every scope an API key may carry.")
    def known_scopes(self) -> list[ScopeInfo]:
        return SCOPES
