"""A light graphql-transport-ws subscriber: one asyncio Protocol per socket, no library per frame.

Figure 12 holds 10,000 sockets on the same machine as the server, so a subscriber costs a few KB
(the `websockets` client's connection object, reader task and queues cost about ten times that)
and a frame is parsed in place: only the action id it names and its arrival time are kept.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import time
from collections.abc import Callable

ACTION_ID = re.compile(rb"act_[A-Za-z0-9_\-]+")
# What a browser offers, so the server's choice is the one real dashboards get (this client refuses
# a compressed connection rather than inflate it).
BROWSER_EXTENSIONS = "permessage-deflate; client_max_window_bits"
# (subscriber number, action id, time.perf_counter(): CLOCK_MONOTONIC, the same clock in every process)
Receipt = Callable[[int, bytes, float], None]


def _masked(opcode: int, payload: bytes) -> bytes:
    """A client frame (clients must mask; the key is random per frame as RFC 6455 asks)."""
    mask = os.urandom(4)
    length = len(payload)
    head = bytes([0x80 | opcode])
    if length < 126:
        head += bytes([0x80 | length])
    elif length < 1 << 16:
        head += bytes([0x80 | 126]) + length.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + length.to_bytes(8, "big")
    key = int.from_bytes((mask * (length // 4 + 1))[:length], "big")
    body = (int.from_bytes(payload, "big") ^ key).to_bytes(length, "big") if length else b""
    return head + mask + body


class Subscriber(asyncio.Protocol):
    """Upgrade, `connection_init`, wait for the ack, `subscribe`; then record every `next`."""

    __slots__ = ("_buffer", "_init", "_init_frame", "_subscribe", "_upgraded", "acked", "closed", "number",
                 "on_receipt", "transport")

    def __init__(self, number: int, host: str, path: str, api_key: str, query: str, on_receipt: Receipt) -> None:
        self.number, self.on_receipt = number, on_receipt
        key = base64.b64encode(os.urandom(16)).decode()
        self._upgraded = False
        self._buffer = bytearray()
        self._init = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      f"Sec-WebSocket-Protocol: graphql-transport-ws\r\n"
                      f"Sec-WebSocket-Extensions: {BROWSER_EXTENSIONS}\r\n\r\n").encode()
        init = b'{"type":"connection_init","payload":{"apiKey":"' + api_key.encode() + b'"}}'
        self._init_frame = _masked(1, init)
        escaped = query.replace("\\", "\\\\").replace('"', '\\"')
        self._subscribe = _masked(1, b'{"id":"s","type":"subscribe","payload":{"query":"' + escaped.encode() + b'"}}')
        self.acked: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: str | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self._init)  # type: ignore[union-attr]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = self.closed or f"lost: {exc!r}"
        if not self.acked.done():
            self.acked.set_exception(ConnectionError(self.closed))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._upgraded:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._buffer[:end]).lower()
            if not head.startswith(b"http/1.1 101") or b"sec-websocket-extensions" in head:
                self._fail(bytes(self._buffer[:200]).decode(errors="replace"))  # this client cannot inflate
                return
            del self._buffer[: end + 4]
            self._upgraded = True
            assert self.transport is not None
            self.transport.write(self._init_frame)
        self._frames()

    def _frames(self) -> None:
        buffer = self._buffer
        while len(buffer) >= 2:
            opcode, length, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, start = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + length:
                return
            payload = bytes(buffer[start:start + length])
            del buffer[: start + length]
            self._on_frame(opcode, payload)

    def _on_frame(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        if opcode == 1:
            if payload.startswith(b'{"type":"next"'):
                match = ACTION_ID.search(payload)
                if match:
                    self.on_receipt(self.number, match.group(), time.perf_counter())
            elif b'"connection_ack"' in payload:
                self.transport.write(self._subscribe)
                self.acked.set_result(None)
            elif b'"ping"' in payload:
                self.transport.write(_masked(1, b'{"type":"pong"}'))
            else:
                self.closed = f"unexpected: {payload[:120]!r}"
        elif opcode == 9:
            self.transport.write(_masked(10, payload))
        elif opcode == 8:
            self._fail(f"closed {int.from_bytes(payload[:2], 'big') if payload else None}")

    def _fail(self, reason: str) -> None:
        self.closed = reason
        if not self.acked.done():
            self.acked.set_exception(ConnectionError(reason))
        if self.transport is not None:
            self.transport.close()


async def open_subscriber(number: int, host: str, port: int, api_key: str, query: str,
                          on_receipt: Receipt, within: float = 60.0) -> Subscriber:
    """Connected, acknowledged and subscribed (the subscription is live once the server has read
    the subscribe frame: settle with an event before measuring)."""
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(
        lambda: Subscriber(number, f"{host}:{port}", "/graphql", api_key, query, on_receipt), host, port)
    await asyncio.wait_for(protocol.acked, within)
    return protocol
