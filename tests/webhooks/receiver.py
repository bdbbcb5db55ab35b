"""A real webhook receiver on 127.0.0.1 (aiohttp.web in the test's event loop).

It records every request, answers from a script of statuses (then 200), and can verify each
request with document 002's `verifySignature` algorithm and with the `standardwebhooks` package.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import inspect
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import orjson
from aiohttp import web
from standardwebhooks.webhooks import Webhook as StandardWebhook


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]
    at: float

    @property
    def json(self) -> dict:
        return orjson.loads(self.body)

    @property
    def delivery_id(self) -> str:
        return self.headers["X-Webhook-Delivery"]


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body: bytes | None = None  # None: "answer <status>"


def verify_signature(payload: bytes, signature: str, secret: str) -> bool:
    """Document 002's verifySignature, line for line: hex HMAC-SHA256, timing-safe compare."""
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature.encode(), expected.encode())


def verify_standard(received: Received, secret: str) -> dict:
    """Raises standardwebhooks.WebhookVerificationError unless the trio verifies with `secret`."""
    headers = {k.lower(): v for k, v in received.headers.items()}
    return StandardWebhook(secret).verify(received.body, headers)


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: deque[Reply] = deque()
        self.default = Reply()
        self.url = ""
        self.gone: list[Received] = []

    def answer(self, *replies: int | Reply) -> None:
        self.script.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    async def handle(self, request: web.Request) -> web.Response:
        received = Received(await request.read(), dict(request.headers), time.monotonic())
        self.requests.append(received)
        reply = self.script.popleft() if self.script else self.default
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.body is not None:
            return web.Response(status=reply.status, headers=reply.headers, body=reply.body)
        return web.Response(status=reply.status, headers=reply.headers, text=f"answer {reply.status}")

    async def handle_gone(self, request: web.Request) -> web.Response:
        self.gone.append(Received(await request.read(), dict(request.headers), time.monotonic()))
        return web.Response(status=410, text="gone")

    def unique_deliveries(self) -> set[str]:
        return {r.delivery_id for r in self.requests}

    def event_ids(self) -> set[str]:
        return {r.json["id"] for r in self.requests}


@asynccontextmanager
async def receiving(path: str = "/hook") -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_route("*", path, receiver.handle)
    app.router.add_route("*", "/elsewhere", receiver.handle)
    app.router.add_route("*", "/gone", receiver.handle_gone)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    receiver.url = f"http://127.0.0.1:{port}{path}"
    try:
        yield receiver
    finally:
        await runner.cleanup()


async def eventually(check: Callable[[], object], within: float = 15.0, interval: float = 0.05) -> None:
    """Wait until `check()` is truthy (it may be a coroutine function), else fail with its last value."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s (last: {value!r})")
        await asyncio.sleep(interval)
