"""Fixtures for the WebSocket tests: an event emitter and app instances with their own settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
import uvicorn
from starlette.applications import Starlette

from app.core.settings import Settings
from app.main import create_app
from tests.conftest import free_port
from tests.graphql.ws import Emitter


@pytest.fixture
async def emitter(settings: Settings, server: str) -> AsyncIterator[Emitter]:
    em = Emitter(settings)
    yield em
    await em.close()

LocalApp = Callable[..., AbstractAsyncContextManager[tuple[str, Starlette]]]

@pytest.fixture
def local_app(settings: Settings, server: str) -> LocalApp:
    """Another replica in this process (same DB and Redis) with settings overridden, and its app."""

    @asynccontextmanager
    async def start(**overrides: object) -> AsyncIterator[tuple[str, Starlette]]:
        app = create_app(settings.model_copy(update={"inprocess_workers": False, **overrides}))
        uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_config=None))
        task = asyncio.create_task(uv.serve())
        while not uv.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{uv.config.port}", app
        finally:
            uv.should_exit = True
            await task

    return start

Waiter = Callable[[], Awaitable[None]]
