"""REST endpoints declared once: route, scope check, parsing, schemas for OpenAPI.

A handler receives a `RestCall` (Context, validated body and query, path params) and returns a
JSON-able value; domain errors become the documented error body in one place. Every endpoint is
recorded in ENDPOINTS so that the OpenAPI document is generated from what the server really serves.

An endpoint that takes a JSON body or a query string declares the scopes its resolver requires
(`scopes=`), and they are checked before the body is read or the query parsed: a key lacking them
gets 403 FORBIDDEN whatever it sent, as GraphQL answers, never a 400 that teaches it the body's or
query's rules. Malformed JSON included: the body is not read at all. The resolver still checks the
same scopes (it is the rule; this is the order). `scopes=PUBLIC` says, on purpose, that nothing is
checked first: the resolver decides from the parsed query (GET /connectors?available=true, the
public catalogue).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.context import build_context
from app.errors import domain_error_response
from resolvers.access import require
from resolvers.context import Context
from resolvers.errors import BadRequest, DomainError, Invalid
from resolvers.validation import WIDE_REFUSED, loses_integers, unstorable, validate


@dataclass(slots=True)
class RestCall:
    """What a handler needs, already parsed and authenticated."""

    ctx: Context
    body: Any
    query: Any
    path: dict[str, str]
    request: Request


Handler = Callable[[RestCall], Awaitable[Any]]


@dataclass(slots=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    tags: list[str]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    paths: list[str] = field(default_factory=list)
    errors: tuple[int, ...] = ()  # statuses beyond the common 400/401/403/404/429, for OpenAPI
    scopes: tuple[str, ...] = ()  # checked before the body and query are parsed


ENDPOINTS: list[Endpoint] = []

# No scope checked before the query: the resolver decides what the parsed query needs.
PUBLIC: tuple[str, ...] = ()


def endpoint(
    method: str,
    path: str,
    *,
    summary: str,
    tags: list[str],
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    also_at_root: bool = False,
    errors: tuple[int, ...] = (),
    scopes: tuple[str, ...] | None = None,
) -> Callable[[Handler], Handler]:
    """Register a handler at `/api/v1{path}` (and at `{path}` for the governance documents). One
    with a `body` must name the `scopes` its resolver requires: they are checked before the body.
    One with a `query` must declare them too, if only as PUBLIC: they are checked before the query."""
    if body is not None and not scopes:
        raise TypeError(f"{method} {path}: an endpoint with a body declares the scopes its resolver requires")
    if query is not None and scopes is None:
        raise TypeError(f"{method} {path}: an endpoint with a query declares the scopes its resolver requires "
                        "(or PUBLIC)")
    checked = scopes or ()

    def register(handler: Handler) -> Handler:
        paths = [f"/api/v1{path}"] + ([path] if also_at_root else [])
        ENDPOINTS.append(Endpoint(method, path, handler, summary, tags, body, query, response, status, paths, errors,
                                  checked))
        return handler

    return register


async def read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("request body is not valid JSON") from None
    if b"\\u0000" in raw and (problem := unstorable(value)):  # a NUL, which no column can hold
        raise Invalid(problem)
    if loses_integers(raw):
        raise Invalid(WIDE_REFUSED)
    return value


def json_response(value: Any, status: int) -> Response:
    if status == 204:
        return Response(status_code=204)
    return Response(orjson.dumps(value), status, media_type="application/json")


def _asgi_handler(ep: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        try:
            ctx = build_context(request)
            for scope in ep.scopes:
                require(ctx, scope)
            body = validate(ep.body, await read_json(request)) if ep.body else None
            query = validate(ep.query, dict(request.query_params)) if ep.query else None
            value = await ep.handler(RestCall(ctx, body, query, dict(request.path_params), request))
        except DomainError as err:
            return domain_error_response(err)
        return value if isinstance(value, Response) else json_response(value, ep.status)

    return run


def routes() -> list[Route]:
    """Starlette routes for every registered endpoint, at each of its paths."""
    return [
        Route(path, _asgi_handler(ep), methods=[ep.method], name=f"{ep.method} {path}")
        for ep in ENDPOINTS
        for path in ep.paths
    ]
