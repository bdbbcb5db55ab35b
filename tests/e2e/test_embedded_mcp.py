"""MCP in the embedded mode (SQLite, in-process bus and workers): the native server and a gateway call
held for a human, then forwarded once by the in-process worker."""

from __future__ import annotations

import asyncio
import json

import httpx
import orjson

from tests.conftest import free_port
from tests.mcp.conftest import mcp_session, serve_upstream
from tests.processes import gatehouse_env, run_cli, running


async def test_native_and_gateway_on_sqlite(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = gatehouse_env(DATABASE_URL=f"sqlite://{tmp_path}/gatehouse.db", GATEHOUSE_ALLOW_PRIVATE_TARGETS="1")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with serve_upstream(stateless=True) as upstream:
        with running("serve", "--port", str(port), env=env, port=port):
            key = orjson.loads(run_cli("create-org", "solo", "--json", env=env).stdout)["apiKey"]
            async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=10) as c:
                rules = [{"when": {"actionType": "mcp.files.send_email"}, "approval": "manual"},
                         {"when": {"actionType": "refund"}, "approval": "manual"}]
                assert (await c.post("/policy", json={"rules": rules})).status_code == 201
                registered = await c.post("/api/v1/mcp-servers", json={"name": "files", "url": upstream.url})
                assert registered.status_code == 201, registered.text
                async with mcp_session(base + "/mcp", key) as native:
                    proposed = (await native.call_tool("propose_action", {"type": "refund"})).structured_content
                    assert proposed is not None and proposed["status"] == "pending_approval"
                    waiting = asyncio.create_task(native.call_tool(
                        "wait_for_decision", {"action_id": proposed["action_id"], "timeout_seconds": 20}))
                    await asyncio.sleep(0.3)
                    assert (await c.post(f"/approve/{proposed['action_id']}", json={})).status_code == 200
                    decided = (await waiting).structured_content
                    assert decided is not None and decided["status"] == "approved"
                async with mcp_session(base + "/mcp/gateways/files", key) as gateway:
                    args = {"to": "a@b.c", "body": "hi"}
                    pending = await gateway.call_tool("send_email", args, meta={"gatehouse/idempotency_key": "m1"})
                    action_id = json.loads(pending.content[0].text)["action_id"]  # type: ignore[union-attr]
                    assert (await c.post(f"/approve/{action_id}", json={})).status_code == 200
                    async with mcp_session(base + "/mcp", key) as native:
                        for _ in range(100):
                            read = (await native.call_tool("get_action", {"action_id": action_id})).structured_content
                            if read and read["gateway_call"] and read["gateway_call"]["status"] == "completed":
                                break
                            await asyncio.sleep(0.05)
                    again = await gateway.call_tool("send_email", args, meta={"gatehouse/idempotency_key": "m1"})
    assert upstream.calls == [("send_email", args)]
    assert again.content[0].text == "sent to a@b.c"  # type: ignore[union-attr]
