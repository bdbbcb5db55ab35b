"""A small local HTTP server (aiohttp.web in the test's event loop) that plays a provider's API.

Each fake registers its routes on `FakeProvider.app`; every request is recorded (method, path,
query, headers, raw body) so tests can check the wire format exactly. `fail_next` queues canned
answers (status, JSON body, headers) to return instead of the normal handler's, in order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    every_header: list[tuple[str, str]] = field(default_factory=list)  # repeated names kept

    def values_of(self, name: str) -> list[str]:
        """Every value sent under `name`, in any case (`headers` keeps one of them)."""
        return [value for key, value in self.every_header if key.lower() == name.lower()]

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def form(self) -> dict[str, str]:
        """An `application/x-www-form-urlencoded` body as a flat dict (`metadata[k]` keys kept as is)."""
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


@dataclass
class Canned:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeProvider:
    """Records requests and lets a test queue failures ahead of the normal answers."""

    def __init__(self) -> None:
        self.app = web.Application(middlewares=[self._middleware])
        self.requests: list[Seen] = []
        self.canned: deque[Canned] = deque()
        self.base_url = ""

    def fail_next(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.canned.append(Canned(status, body, headers or {}))

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(Seen(request.method, request.path, dict(request.query), dict(request.headers), body,
                                  list(request.headers.items())))
        if self.canned:
            canned = self.canned.popleft()
            text = canned.body if isinstance(canned.body, str) else orjson.dumps(canned.body).decode()
            return web.Response(status=canned.status, text=text, headers=canned.headers,
                                content_type=None if "Content-Type" in canned.headers else "application/json")
        response: web.StreamResponse = await handler(request)
        return response


@asynccontextmanager
async def serving(fake: FakeProvider, port: int = 0) -> AsyncIterator[str]:
    """Run `fake` on 127.0.0.1 and `port` (0: a free one); yields its base URL (no trailing slash)."""
    runner = web.AppRunner(fake.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.base_url = f"http://127.0.0.1:{port}"
    try:
        yield fake.base_url
    finally:
        await runner.cleanup()


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(value), content_type="application/json", headers=headers)
