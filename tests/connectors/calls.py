"""Build an `ActionCall` for running one provider action directly, over the real guarded client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from app.core.http import build_http_client
from app.core.settings import load_settings
from resolvers.connectors.kinds import ActionCall


@asynccontextmanager
async def action_call(
    input: dict[str, Any], secrets: dict[str, Any], config: dict[str, Any] | None = None,
    idempotency_key: str = "idem-test-1", timeout: float = 5.0, **settings: Any,  # noqa: ASYNC109
) -> AsyncIterator[ActionCall]:
    """`settings` override Settings fields (e.g. slack_api_url=fake.base_url)."""
    loaded = load_settings(allow_private_targets=True, **settings)
    async with build_http_client(allow_private=True) as http:
        yield ActionCall(input=input, secrets=secrets, config=config or {}, settings=loaded, http=http,
                         idempotency_key=idempotency_key, timeout=timeout)
