"""One Redis connection for a caller that makes one round trip at a time, with little in between.

The rate limiter asks Redis once for every authenticated request that finds no other in flight,
so at low concurrency each request waits for one whole round trip. Through redis-py's client a
script call took 0.64-0.69 ms (p50) after a 50 ms idle gap on a slow 2-core host, and 0.23-0.29
ms back to back; the same command written on an open connection and its answer parsed with
hiredis's reader (the parser redis-py itself uses) took 0.24 and 0.07 ms. The difference is
redis-py's per-command path (pool, retries, timeouts, response callbacks), whose code is cold
after an idle moment. This writes the command as RESP and reads the answer with hiredis, and
nothing else: the connection is opened from the same settings as the client (host, port, user,
password, database); a URL that needs more (TLS, a Unix socket, a credential provider) keeps the
client (`lean_connection`).

Any failure closes the connection, so an answer half read never meets the next command; the next
call opens a new one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.exceptions import InvalidResponse, ResponseError

Arg = str | bytes | int


class WireConnection:
    """Commands one at a time on one connection, each within `timeout` seconds (opening too)."""

    def __init__(self, host: str, port: int, *, db: int = 0, username: str | None = None,
                 password: str | None = None, timeout: float) -> None:
        self._host, self._port, self._db, self._timeout = host, port, db, timeout
        self._username, self._password = username, password
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._parser = _reader()

    async def call(self, *args: Arg) -> Any:
        """The command's answer; an error answer raised as redis-py's ResponseError, one it cannot
        parse as InvalidResponse, a closed or silent connection as ConnectionError or TimeoutError
        (both OSErrors)."""
        try:
            async with asyncio.timeout(self._timeout):
                if self._writer is None:
                    await self._open()
                return await self._exchange(args)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
        self._parser = _reader()

    async def _open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        if self._password is not None:
            await self._exchange(("AUTH", self._username, self._password) if self._username else
                                 ("AUTH", self._password))
        if self._db:
            await self._exchange(("SELECT", self._db))

    async def _exchange(self, args: tuple[Arg, ...]) -> Any:
        assert self._reader is not None and self._writer is not None
        self._writer.write(packed(args))
        while (answer := self._parser.gets()) is False:
            data = await self._reader.read(65536)
            if not data:
                raise ConnectionError("Redis closed the connection")
            self._parser.feed(data)
        if isinstance(answer, ResponseError):
            raise answer
        return answer


def _reader() -> hiredis.Reader:
    """hiredis's parser, its errors redis-py's (RedisErrors, as the rate limiter expects)."""
    return hiredis.Reader(protocolError=InvalidResponse, replyError=ResponseError)


def packed(args: tuple[Arg, ...]) -> bytes:
    """A command in RESP: an array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(parts)


def lean_connection(redis: aioredis.Redis) -> WireConnection | None:
    """A WireConnection with the client's settings; None when the client connects by other means
    than plain TCP with a password (TLS, a Unix socket, a credential provider)."""
    pool = redis.connection_pool
    options = pool.connection_kwargs
    if pool.connection_class is not aioredis.Connection or options.get("credential_provider") is not None:
        return None
    return WireConnection(options.get("host", "localhost"), int(options.get("port", 6379)),
                          db=int(options.get("db") or 0), username=options.get("username"),
                          password=options.get("password"),
                          timeout=float(options.get("socket_timeout") or 5.0))
