"""Build an `ActionCall` for running one provider action directly, over the real guarded client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from app.core.senders import OutgoingClient
from app.core.settings import load_settings
from resolvers.connectors.kinds import ActionCall


@asynccontextmanager
async def action_call(
    input: dict[str, Any], secrets: dict[str, Any], config: dict[str, Any] | None = None,
    idempotency_key: str = "idem-test-1", timeout: float = 5.0, **settings: Any,  # noqa: ASYNC109
) -> AsyncIterator[ActionCall]:
    """`settings` override Settings fields (e.g. slack_api_url=fake.base_url)."""
    loaded = load_settings(allow_private_targets=True, **settings)
    http = OutgoingClient(allow_private=True)
    try:
        yield ActionCall(input=input, secrets=secrets, config=config or {}, settings=loaded, http=http,
                         idempotency_key=idempotency_key, timeout=timeout)
    finally:
        await http.aclose()
