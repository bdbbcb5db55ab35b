"""The Strawberry ASGI view: context from the authenticated request, GraphiQL only in dev."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from app.context import build_context
from schema.context import GraphQLContext


class GatehouseGraphQL(GraphQL[GraphQLContext, None]):
    """Builds the same resolvers.Context as REST does, so both doors share one service layer."""

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Any:
        return GraphQLContext(ctx=build_context(request))

    async def process_result(self, request: Request | WebSocket, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Syntax errors never reach the schema's extensions: give them their code here."""
        response = await super().process_result(request, result)  # type: ignore[arg-type]
        for error in response.get("errors") or []:
            extensions: dict[str, Any] = error.setdefault("extensions", {})  # type: ignore[attr-defined]
            extensions.setdefault("code", "BAD_REQUEST")
        return response
