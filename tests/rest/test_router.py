"""The indexed router answers every request as Starlette's own search does: app/router.py."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Match, Mount, Route, Router

from app.main import create_app
from app.router import IndexedRouter, build_static_index


def _answer(text: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"{text} {request.path_params} {request.scope['route'].path}")

    return endpoint


def _overlapping() -> list[BaseRoute]:
    """A parameter route ahead of a static one, a mount ahead of another, a method-limited path."""
    inner = Router([Route("/x", _answer("mounted"))])
    return [
        Route("/items/{name}", _answer("by-name"), methods=["GET"]),
        Route("/items/new", _answer("static-new"), methods=["GET", "POST"]),
        Mount("/files", app=inner),
        Route("/files/x", _answer("shadowed")),
        Route("/only-post", _answer("post"), methods=["POST"]),
        Route("/plain", _answer("plain")),
        Route("/things/{id}", _answer("get-thing"), methods=["GET"]),
        Route("/things/{id}/parts", _answer("parts"), methods=["GET"]),
        Route("/things/{id}", _answer("post-thing"), methods=["POST"]),
        Mount("/things/{id}/files", app=inner),
    ]


REQUESTS = [
    ("GET", "/items/new"), ("POST", "/items/new"), ("GET", "/items/other"), ("GET", "/files/x"),
    ("GET", "/only-post"), ("POST", "/only-post"), ("DELETE", "/plain"), ("GET", "/plain"), ("HEAD", "/plain"),
    ("GET", "/plain/"), ("GET", "/missing"), ("GET", "/things/1"), ("POST", "/things/1"), ("PUT", "/things/1"),
    ("GET", "/things/1/parts"), ("POST", "/things/1/parts"), ("GET", "/things/1/files/x"), ("GET", "/things/1/"),
    ("GET", "/items/other/"),
]


async def _answers(app: Starlette) -> list[tuple[int, str]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        found = []
        for method, path in REQUESTS:
            response = await client.request(method, path)
            found.append((response.status_code, response.text))
        return found


async def test_same_answers_as_starlettes_search() -> None:
    plain = Starlette(routes=_overlapping())
    indexed = Starlette(routes=_overlapping())
    indexed.router = IndexedRouter(indexed.router.routes)
    expected = await _answers(plain)
    assert await _answers(indexed) == expected
    assert expected[0] == (200, "by-name {'name': 'new'} /items/{name}")  # the parameter route wins, as it should
    assert expected[3][1].startswith("mounted")
    assert expected[12][1].startswith("post-thing")  # past a route that takes the path but not the method
    assert expected[13][0] == 405 and expected[15][0] == 405


def _winner(routes: list[BaseRoute], path: str, method: str) -> BaseRoute | None:
    """The route the index answers `method path` with (None: Starlette's search decides)."""
    winner = build_static_index(routes).get((path, method))
    return winner[0] if winner is not None else None


def test_only_paths_won_by_a_plain_route_are_indexed() -> None:
    routes = _overlapping()
    assert _winner(routes, "/items/new", "GET") is None  # the parameter route ahead of it wins
    assert _winner(routes, "/items/new", "POST") is not None  # the parameter route only takes GET
    assert _winner(routes, "/files/x", "GET") is None  # the mount wins
    assert _winner(routes, "/only-post", "GET") is None  # 405: Starlette's search answers it
    assert _winner(routes, "/plain", "HEAD") is not None


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
def test_gatehouse_routes_index_to_starlettes_choice(method: str) -> None:
    app = create_app()
    router = app.router
    assert isinstance(router, IndexedRouter)
    for route in router.routes:
        path = getattr(route, "path", None)
        if path is None or "{" in path:
            continue
        chosen = _winner(router.routes, path, method)
        if chosen is None:
            continue
        probe = {"type": "http", "path": path, "method": method, "root_path": ""}
        searched = next(r for r in router.routes if r.matches(probe)[0].name == "FULL")
        assert chosen is searched, (method, path)


def _searched(routes: list[BaseRoute], scope: dict[str, str]) -> BaseRoute | None:
    """Starlette's own search: the first route that matches fully."""
    return next((r for r in routes if r.matches(scope)[0] is Match.FULL), None)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
def test_gatehouse_paths_with_parameters_go_to_starlettes_choice(method: str) -> None:
    router = create_app().router
    assert isinstance(router, IndexedRouter)
    paths = {re.sub(r"\{[^}]*\}", "x1", path) for r in router.routes if "{" in (path := getattr(r, "path", ""))}
    paths |= {p + "/more" for p in paths} | {"/api/v1/unknown/x1", "/nowhere"}
    assert len(paths) > 80
    for path in sorted(paths):
        scope = {"type": "http", "path": path, "method": method, "root_path": ""}
        chosen = router.chosen(scope)
        assert (chosen[0] if chosen else None) is _searched(router.routes, scope), (method, path)
