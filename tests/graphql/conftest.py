"""Fixtures for the WebSocket tests: an outbox emitter (for events REST cannot produce yet) and app
instances with their own settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from app.core.settings import Settings
from tests.conftest import LocalApp  # noqa: F401 (the graphql tests import it from here)
from tests.graphql.ws import Emitter


@pytest.fixture
async def emitter(settings: Settings, server: str) -> AsyncIterator[Emitter]:
    em = Emitter(settings)
    yield em
    await em.close()

Waiter = Callable[[], Awaitable[None]]
