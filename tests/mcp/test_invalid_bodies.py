"""A POST over the 2025 transport (no Mcp-Protocol-Version, or a handshake revision) whose body is JSON
but not one JSON-RPC request or notification is a JSON-RPC Invalid Request (-32600) with the HTTP
status the SDK's 2026-07-28 transport answers the same body with, not pydantic's validation text;
malformed JSON is a parse error (-32700) on either revision."""

from __future__ import annotations

import httpx
import pytest

from models.governance import Action
from tests.conftest import Tenant
from tests.mcp.conftest import HANDSHAKE, MODERN, Upstream
from tests.mcp.test_gateway import GATEWAY, register

NOT_REQUESTS = [
    b"{}", b"[1]", b"[]", b"1", b"null", b'"propose_action"',
    b'{"jsonrpc": "2.0", "id": 1, "result": {}}',  # a response: a stateless server asked nothing
    b'{"jsonrpc": "2.0", "id": 1, "error": {"code": -1, "message": "no"}}',
    b'{"jsonrpc": "2.0", "id": 1, "method": 5}',
    b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": [1]}',
    b'[{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}]',  # a batch: gone since 2025-06-18
]
MALFORMED = [b"{not json", b"", b'{"jsonrpc": "2.0", "id": 1,', b"\xff\xfe"]
LIST = b'{"jsonrpc": "2.0", "id": 7, "method": "tools/list"}'
NOTIFICATION = b'{"jsonrpc": "2.0", "method": "notifications/initialized"}'


def headers(key: str, revision: str | None) -> dict[str, str]:
    sent = {"Authorization": f"Bearer {key}", "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json"}
    return {**sent, "Mcp-Protocol-Version": revision} if revision else sent


@pytest.mark.parametrize("path", ["/mcp", GATEWAY])
@pytest.mark.parametrize("revision", [None, HANDSHAKE])
async def test_json_that_is_not_a_request_is_an_invalid_request(
    tenant: Tenant, upstream: Upstream, server: str, path: str, revision: str | None
) -> None:
    await register(tenant, upstream.url)
    async with httpx.AsyncClient(base_url=server, timeout=10) as c:
        for body in NOT_REQUESTS:
            legacy = await c.post(path, content=body, headers=headers(tenant.key, revision))
            modern = await c.post(path, content=body, headers=headers(tenant.key, MODERN))
            assert modern.status_code == 400 and modern.json()["error"]["code"] == -32600, (body, modern.text)
            assert legacy.status_code == modern.status_code, (body, legacy.status_code, legacy.text)
            assert legacy.headers["content-type"] == "application/json", body
            answer = legacy.json()
            assert answer == {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": (
                "Invalid Request: the body must be a single JSON-RPC request or notification object")}}, body
        for body in MALFORMED:
            for sent in (revision, MODERN):
                answer = await c.post(path, content=body, headers=headers(tenant.key, sent))
                assert answer.status_code == 400, (body, sent, answer.text)
                error = answer.json()
                assert error["jsonrpc"] == "2.0" and error["id"] is None, (body, sent, error)
                assert error["error"]["code"] == -32700 and error["error"]["message"].startswith("Parse error"), error
                assert "Traceback" not in answer.text
        listed = await c.post(path, content=LIST, headers=headers(tenant.key, revision))
        notified = await c.post(path, content=NOTIFICATION, headers=headers(tenant.key, revision))
    assert listed.status_code == 200 and listed.json()["id"] == 7 and "tools" in listed.json()["result"], listed.text
    assert notified.status_code == 202, notified.text
    assert await Action.filter(organization_id=tenant.organization_id).count() == 0
