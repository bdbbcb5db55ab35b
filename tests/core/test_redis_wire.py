"""The rate limiter's own Redis connection (app/core/redis_wire.py), against real Redis servers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from app.core.redis_wire import WireConnection, lean_connection, packed
from tests.conftest import REDIS_URL, free_port
from tests.processes import own_redis, until_redis_answers


def test_commands_are_written_as_resp_arrays() -> None:
    assert packed(("SET", "k", 12)) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n12\r\n"
    assert packed(("ECHO", "é")) == b"*2\r\n$4\r\nECHO\r\n$2\r\n\xc3\xa9\r\n"


async def test_it_talks_to_the_clients_database() -> None:
    client = aioredis.Redis.from_url(REDIS_URL, socket_timeout=2)
    wire = lean_connection(client)
    assert wire is not None
    try:
        await client.delete("wire:test")
        assert await wire.call("INCR", "wire:test") == 1
        assert await wire.call("EVAL", "return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, "wire:test", 5) == 6
        assert await client.get("wire:test") == b"6"  # the same database as the client's (the URL's)
    finally:
        wire.close()
        await client.delete("wire:test")
        await client.aclose()


async def test_an_error_answer_is_raised_and_the_next_call_works() -> None:
    client = aioredis.Redis.from_url(REDIS_URL)
    wire = lean_connection(client)
    assert wire is not None
    try:
        with pytest.raises(ResponseError, match="unknown command"):
            await wire.call("NOSUCHCOMMAND", "x")
        assert await wire.call("PING") == b"PONG"
    finally:
        wire.close()
        await client.aclose()


async def test_a_silent_server_times_out_as_an_oserror() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(-1)
        writer.close()

    mute = await asyncio.start_server(silent, "127.0.0.1", 0)
    wire = WireConnection("127.0.0.1", mute.sockets[0].getsockname()[1], timeout=0.3)
    try:
        with pytest.raises(TimeoutError):  # an OSError: the limiter falls back to memory on those
            await wire.call("PING")
    finally:
        wire.close()
        mute.close()


def test_urls_it_cannot_open_itself_keep_the_client() -> None:
    assert lean_connection(aioredis.Redis.from_url("rediss://127.0.0.1:6379/0")) is None
    assert lean_connection(aioredis.Redis.from_url("unix:///tmp/redis.sock")) is None
    assert lean_connection(aioredis.Redis.from_url("redis://127.0.0.1:6379/3")) is not None


@pytest.fixture
def guarded_redis() -> Iterator[int]:
    """A Redis server of its own that asks for a password (`secret`)."""
    port = free_port()
    with own_redis("--port", str(port), "--bind", "127.0.0.1", "--requirepass", "secret"):
        yield port


async def test_a_password_from_the_url_is_sent_and_a_wrong_one_refused(guarded_redis: int) -> None:
    url = f"redis://:secret@127.0.0.1:{guarded_redis}/2"
    await until_redis_answers(url)
    client = aioredis.Redis.from_url(url)
    wire = lean_connection(client)
    wrong = lean_connection(aioredis.Redis.from_url(f"redis://default:nope@127.0.0.1:{guarded_redis}/0"))
    assert wire is not None and wrong is not None
    try:
        assert await wire.call("INCR", "guarded") == 1
        assert await client.get("guarded") == b"1"  # database 2, as the URL says
        with pytest.raises(ResponseError):
            await wrong.call("PING")
    finally:
        wire.close()
        wrong.close()
        await client.aclose()
