"""Tell a lost backing service from a bug: the first deserves 503 and a retry, the second a 500.

A request caught while PostgreSQL restarts or Redis is unreachable did nothing wrong and will
succeed if sent again; answering 500 INTERNAL makes clients and load balancers alert instead of
retry. These are the exceptions the drivers raise when a connection is lost, refused or cannot be
made (found anywhere in the cause chain: Tortoise and the app wrap them).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import redis.exceptions
from tortoise.exceptions import DBConnectionError

from app.core.causes import chain_of

T = TypeVar("T")
RETRY_AFTER_SECONDS = 1
UNAVAILABLE_MESSAGE = "a backing service is unavailable; retry shortly"  # REST, GraphQL and MCP alike
_LOST: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # connection does not exist / failure / rejected
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, crash shutdown, cannot connect now
    asyncpg.exceptions.TooManyConnectionsError,
    DBConnectionError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,  # refused, reset, broken pipe
)


# What asyncpg raises, without a class of its own, on a connection PostgreSQL closed under it (each
# seen as a 500 while backends were terminated under load) or a database that takes no connections.
_LOST_WORDS: tuple[tuple[type[BaseException], tuple[str, ...]], ...] = (
    (asyncpg.InterfaceError, ("connection is closed", "connection was closed", "underlying connection is closed")),
    (asyncpg.exceptions.InternalClientError, ("cannot switch to state",)),
    (asyncpg.exceptions.ObjectNotInPrerequisiteStateError, ("is not currently accepting connections",)),
)


def is_outage(error: BaseException) -> bool:
    """Whether `error` (or what caused it) is a backing service being unreachable."""
    return any(isinstance(cause, _LOST) or _lost_in_words(cause) for cause in chain_of(error))


def _lost_in_words(error: BaseException) -> bool:
    text = str(error)
    return any(isinstance(error, kind) and any(words in text for words in said) for kind, said in _LOST_WORDS)


async def outlasting(attempt: Callable[[], Awaitable[T]], *, seconds: float, first_wait: float = 0.1,
                     longest_wait: float = 2.0) -> T:
    """`attempt()` made again while a backing service is lost, for up to `seconds`: for a write that
    records what already happened elsewhere (an upstream's answer), which a 503 would lose for good.
    The attempt must be safe to repeat: one whose commit was lost with its connection may have
    landed. Anything but an outage, or an outage that outlasts `seconds`, is raised."""
    deadline, wait = time.monotonic() + seconds, first_wait
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if not is_outage(exc) or time.monotonic() + wait > deadline:
                raise
        await asyncio.sleep(wait)
        wait = min(wait * 2, longest_wait)
