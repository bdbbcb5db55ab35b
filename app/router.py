"""Starlette's router with the route of a parameter-free path looked up instead of searched.

Starlette tries every route's regular expression in order until one matches fully: with 129
routes, `POST /actions` is the twelfth, about a microsecond each, on the hottest request there is.
For a path without parameters the winner depends only on the path and the method, so it is found
once per (path, method) by Starlette's own search and kept. Every other request (paths with
parameters, an unknown path, a 405, a redirect, a WebSocket) goes through Starlette's search as
before, so the answer is always the one Starlette would give.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send

_Winner = tuple[BaseRoute, Any]  # the route and its endpoint


class IndexedRouter(Router):
    """A Router whose static paths skip the linear search."""

    def __init__(self, routes: list[BaseRoute], **kwargs: Any) -> None:
        super().__init__(routes, **kwargs)
        self._index: dict[tuple[str, str], _Winner] = {}
        self._indexed_routes = -1  # how many routes the index was built from

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            winner = self._static_index().get((scope["path"], scope["method"]))
            if winner is not None:
                route, endpoint = winner
                scope.setdefault("router", self)
                scope["route"] = route
                scope["endpoint"] = endpoint
                scope["path_params"] = {}
                await route.handle(scope, receive, send)
                return
        await super().app(scope, receive, send)

    def _static_index(self) -> dict[tuple[str, str], _Winner]:
        if self._indexed_routes != len(self.routes):  # built on first use; again if routes were added
            self._index = build_static_index(self.routes)
            self._indexed_routes = len(self.routes)
        return self._index


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
