"""A local webhook receiver fast enough never to be the bottleneck of a delivery figure.

Run: `python -m bench.baselines.receiver --port 8199 [--secret S]`.

A raw asyncio protocol with httptools' parser (HTTP/1.1, keep-alive, pipelining-safe) on uvloop: it
takes several times the rate of any Python sender, where uvicorn+Starlette would cost as much per
request as the senders it measures. It answers every POST with 200 and counts it; with `--secret` it
also checks `X-Webhook-Signature` (hex HMAC-SHA256 of the raw body) and counts failures.
`GET /count` answers the counters and the monotonic times of the first and last POST (so a rate can
be taken from the receiver's side); `POST /reset` (a path, not a delivery) zeroes them.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass
from typing import cast

import httptools

_OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


@dataclass
class Counters:
    """What the receiver saw since the last reset."""

    count: int = 0
    verified: int = 0
    bad_signature: int = 0
    first: float | None = None
    last: float | None = None

    def reset(self) -> None:
        self.count = self.verified = self.bad_signature = 0
        self.first = self.last = None

    def record(self, verdict: bool | None) -> None:
        now = time.monotonic()
        self.count += 1
        if self.first is None:
            self.first = now
        self.last = now
        if verdict is True:
            self.verified += 1
        elif verdict is False:
            self.bad_signature += 1


def _json_response(payload: object) -> bytes:
    body = json.dumps(payload).encode()
    head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode() + body


class ReceiverProtocol(asyncio.Protocol):
    """One connection: parse requests as they come and answer each in order."""

    def __init__(self, counters: Counters, secret: bytes | None) -> None:
        self.counters = counters
        self.secret = secret
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.signature: bytes | None = None
        self.body: list[bytes] = []
        self._header_name = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"x-webhook-signature":
            self.signature = value

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        assert self.transport is not None
        self.transport.write(self._answer(self.parser.get_method(), self.url))
        self.url, self.signature, self.body = b"", None, []

    def _answer(self, method: bytes, url: bytes) -> bytes:
        if method == b"GET" and url.startswith(b"/count"):
            return _json_response(asdict(self.counters))
        if method == b"POST" and url.startswith(b"/reset"):
            self.counters.reset()
            return _OK
        self.counters.record(self._verdict())
        return _OK

    def _verdict(self) -> bool | None:
        if self.secret is None:
            return None
        if self.signature is None:
            return False
        expected = hmac.new(self.secret, b"".join(self.body), hashlib.sha256).hexdigest().encode()
        return hmac.compare_digest(expected, self.signature)


def starlette_receiver() -> object:
    """The same counting receiver on uvicorn+Starlette, kept only to show why the raw one is used.

    Run: `python -m uvicorn --factory bench.baselines.receiver:starlette_receiver --port 8198`.
    """
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    counters = Counters()

    async def deliver(request: Request) -> JSONResponse:
        await request.body()
        counters.record(None)
        return JSONResponse({})

    async def count(request: Request) -> JSONResponse:
        return JSONResponse(asdict(counters))

    return Starlette(routes=[Route("/count", count), Route("/{path:path}", deliver, methods=["POST"])])


async def serve(host: str, port: int, secret: bytes | None) -> None:
    """Serve until cancelled."""
    counters = Counters()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: ReceiverProtocol(counters, secret), host, port, backlog=2048, reuse_address=True
    )
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8199)
    parser.add_argument("--secret", default=None, help="verify X-Webhook-Signature with this secret")
    args = parser.parse_args()
    import uvloop

    uvloop.run(serve(args.host, args.port, args.secret.encode() if args.secret else None))


if __name__ == "__main__":
    main()
