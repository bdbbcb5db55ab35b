"""Starlette's router with the route of a parameter-free path looked up, and the others searched
among the routes that can match.

Starlette tries every route's regular expression in order until one matches fully: with 129
routes, `POST /actions` is the twelfth, about a microsecond each, on the hottest request there is.
For a path without parameters the winner depends only on the path and the method, so it is found
once per (path, method) by Starlette's own search and kept.

A path with parameters (`POST /workflows/{id}/execute` is the 125th route) is searched in the same
order, but a route's expression is only tried when the path starts with the literal text its
pattern starts with (`/api/v1/workflows/`): any other route answers no match, so the first full
match among those tried is the first full match of Starlette's search. Measured on a slow 2-core
host, the whole search took 0.21 ms of CPU a request, and 0.31 ms passed from the middleware to the
endpoint of `execute`. When no route matches fully (a 405, a 404, a redirect), or for a WebSocket
or a request under a root path, Starlette's own search answers, so the answer is always the one
Starlette would give.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Match, Mount, Route, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send

_Winner = tuple[BaseRoute, Any]  # the route and its endpoint
_Literal = tuple[str, BaseRoute]  # text every path the route matches starts with; the route


class IndexedRouter(Router):
    """A Router whose static paths skip the linear search."""

    def __init__(self, routes: list[BaseRoute], **kwargs: Any) -> None:
        super().__init__(routes, **kwargs)
        self._index: dict[tuple[str, str], _Winner] = {}
        self._literals: list[_Literal] = []
        self._indexed_routes = -1  # how many routes the index was built from

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        chosen = self.chosen(scope) if scope["type"] == "http" and not scope.get("root_path") else None
        if chosen is None:
            await super().app(scope, receive, send)
            return
        route, child = chosen
        scope.setdefault("router", self)
        scope["route"] = route
        scope.update(child)
        await route.handle(scope, receive, send)

    def chosen(self, scope: Scope) -> tuple[BaseRoute, Scope] | None:
        """The route of an HTTP request (no root path) and what its match adds to the scope, when
        a route matches it fully: the one Starlette's search would hand it to. None otherwise."""
        winner = self._indexed().get((scope["path"], scope["method"]))
        if winner is not None:
            route, endpoint = winner
            return route, {"endpoint": endpoint, "path_params": {}}
        path = scope["path"]
        for literal, route in self._literals:
            if path.startswith(literal):
                match, child = route.matches(scope)
                if match is Match.FULL:
                    return route, child
        return None

    def _indexed(self) -> dict[tuple[str, str], _Winner]:
        """The static index, with `_literals` built beside it from the same routes."""
        if self._indexed_routes != len(self.routes):  # built on first use; again if routes were added
            self._index = build_static_index(self.routes)
            self._literals = [(literal_prefix(route), route) for route in self.routes]
            self._indexed_routes = len(self.routes)
        return self._index


def literal_prefix(route: BaseRoute) -> str:
    """The text before a route's first parameter: its expression matches no path that does not
    start with it (Starlette's `compile_path` escapes the literal parts and anchors at the start).
    Empty, so always tried, for a route of another kind (a Host)."""
    if isinstance(route, (Route, Mount, WebSocketRoute)):
        return route.path_format.split("{", 1)[0]
    return ""


def build_static_index(routes: list[BaseRoute]) -> dict[tuple[str, str], _Winner]:
    """For each parameter-free path and method a route declares, the route Starlette's search picks,
    when that is a plain Route whose match adds nothing to the scope but its endpoint."""
    index: dict[tuple[str, str], _Winner] = {}
    for declared in routes:
        if not isinstance(declared, Route) or declared.param_convertors or not declared.methods:
            continue
        for method in declared.methods:
            probe: Scope = {"type": "http", "path": declared.path, "method": method, "root_path": ""}
            winner = _first_full_match(routes, probe)
            if winner is not None:
                index.setdefault((declared.path, method), winner)
    return index


def _first_full_match(routes: list[BaseRoute], probe: Scope) -> _Winner | None:
    for route in routes:
        match, child = route.matches(probe)
        if match is Match.FULL:
            if type(route) is Route and set(child) == {"endpoint", "path_params"} and not child["path_params"]:
                return route, child["endpoint"]
            return None  # a Mount or a route with parameters won: leave it to the search
    return None
