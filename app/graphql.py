"""The Strawberry ASGI view: context from the authenticated request, GraphiQL only in dev."""

from __future__ import annotations

import json
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from app.context import build_context
from app.core.outages import RETRY_AFTER_SECONDS
from app.errors import STATUS_BY_CODE
from resolvers.validation import WIDE_REFUSED, loses_integers
from schema.context import GraphQLContext

# The code of a status Strawberry refuses a request with before any GraphQL runs (404: GraphiQL asked
# for while it is off; 405: a method other than GET and POST), as REST names it; 400s are BAD_REQUEST.
CODE_BY_STATUS: dict[int, str] = {status: code for code, status in reversed(STATUS_BY_CODE.items())}
IDE_OFF = "GraphiQL is served in development only: send a query (POST, or GET with ?query=)"


class RefusedBody(HTTPException):
    """A request body refused before any GraphQL is run, with the code its error carries."""

    def __init__(self, status_code: int, reason: str, code: str) -> None:
        super().__init__(status_code, reason)
        self.code = code


class GatehouseGraphQL(GraphQL[GraphQLContext, None]):
    """Builds the same resolvers.Context as REST does, so both doors share one service layer."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's, but a request refused before any GraphQL runs (a body that is not JSON, a
        batch, no query) is answered as GraphQL errors are, JSON with `extensions.code`, not a line
        of text/plain that a client's JSON parser fails on."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as exc:
            code = exc.code if isinstance(exc, RefusedBody) else CODE_BY_STATUS.get(exc.status_code, "BAD_REQUEST")
            reason = IDE_OFF if exc.status_code == 404 else exc.reason
            error = {"message": reason, "extensions": {"code": code}}
            response = Response(orjson.dumps({"errors": [error]}), status_code=exc.status_code,
                                media_type="application/json")
        await response(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Any:
        request.state.graphql_response = response  # process_result may set its status (503)
        return GraphQLContext(ctx=build_context(request))

    async def parse_http_body(self, request: Any) -> Any:
        """Strawberry's, but a JSON body that is not an object (`null`, `5`, `"x"`) is a 400: its
        parser calls `.get` on whatever the body was, and the AttributeError was a 500. Catching it
        here costs nothing on the hot path (a second parse to check first would, on every POST)."""
        try:
            return await super().parse_http_body(request)
        except AttributeError:  # nothing but the body's `.get` can raise it in there
            raise HTTPException(400, "The GraphQL request must be a JSON object.") from None

    def decode_json(self, data: str | bytes) -> object:
        """orjson, as REST reads bodies; its JSONDecodeError is json's, which Strawberry answers with 400.
        Integers past 64 bits, which orjson would read as floats, are refused as REST refuses them."""
        value = orjson.loads(data)
        if loses_integers(data):
            raise RefusedBody(400, WIDE_REFUSED, "VALIDATION_ERROR")
        return value

    def encode_json(self, data: object) -> bytes:
        """orjson (the stdlib encoder was 1.4% of a mutation); json for what orjson refuses (integers
        past 64 bits), so a rare value never turns an answer into a 500."""
        try:
            return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:
            return json.dumps(data, separators=(",", ":")).encode()

    async def process_result(self, request: Request | WebSocket, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Syntax errors never reach the schema's extensions: give them their code here."""
        response = await super().process_result(request, result)  # type: ignore[arg-type]
        unavailable = False
        for error in response.get("errors") or []:
            extensions: dict[str, Any] = error.setdefault("extensions", {})  # type: ignore[attr-defined]
            extensions.setdefault("code", "BAD_REQUEST")
            unavailable = unavailable or extensions["code"] == "SERVICE_UNAVAILABLE"
        sub_response = getattr(request.state, "graphql_response", None)
        if unavailable and isinstance(sub_response, Response):  # as REST answers it: retry, don't alert
            sub_response.status_code = 503
            sub_response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
