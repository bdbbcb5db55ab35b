"""Tell a lost backing service from a bug: the first deserves 503 and a retry, the second a 500.

A request caught while PostgreSQL restarts or Redis is unreachable did nothing wrong and will
succeed if sent again; answering 500 INTERNAL makes clients and load balancers alert instead of
retry. These are the exceptions the drivers raise when a connection is lost, refused or cannot be
made (found anywhere in the cause chain: Tortoise and the app wrap them).
"""

from __future__ import annotations

import asyncpg
import redis.exceptions
from tortoise.exceptions import DBConnectionError

from app.core.causes import caused_by

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


def is_outage(error: BaseException) -> bool:
    """Whether `error` (or what caused it) is a backing service being unreachable."""
    return caused_by(error, _LOST)
