"""Webhooks in the embedded mode: `gatehouse serve` on a SQLite file, dispatcher in-process.

The PostgreSQL dispatcher leases and records with raw SQL; SQLite keeps the ORM path, so this
checks that path end to end: a test delivery and a real action event both arrive, signed.
"""

from __future__ import annotations

import httpx
import orjson

from tests.conftest import free_port
from tests.processes import gatehouse_env, run_cli, running
from tests.webhooks.receiver import Received, Reply, eventually, receiving, verify_signature, verify_standard


def assert_signed(received: Received, secret: str) -> None:
    assert verify_signature(received.body, received.headers["X-Webhook-Signature"], secret)
    verify_standard(received, secret)
    assert received.headers["webhook-id"] == received.delivery_id


async def test_test_delivery_and_action_event_arrive_signed_on_sqlite(tmp_path) -> None:
    env = gatehouse_env(DATABASE_URL=f"sqlite://{tmp_path}/gatehouse.db", GATEHOUSE_ALLOW_PRIVATE_TARGETS="1")
    port = free_port()
    async with receiving() as receiver:
        with running("serve", "--port", str(port), env=env, port=port):
            key = orjson.loads(run_cli("create-org", "solo", "--json", env=env).stdout)["apiKey"]
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"x-api-key": key},
                                         timeout=10) as c:
                created = await c.post("/api/v1/webhooks", json={"name": "e", "url": receiver.url, "events": ["*"]})
                assert created.status_code == 201, created.text
                hook = created.json()
                assert (await c.post(f"/api/v1/webhooks/{hook['id']}/test")).status_code == 202
                await eventually(lambda: any(r.json["event"] == "webhook.test" for r in receiver.requests))
                rule = {"when": {"actionType": "send_email"}, "require": ["review"]}
                assert (await c.post("/policy", json={"rules": [rule]})).status_code == 201
                proposed = await c.post("/actions", json={"type": "send_email", "actor": {"kind": "agent"}})
                assert proposed.status_code == 201, proposed.text
                action_id = proposed.json()["actionId"]
                await eventually(lambda: any(r.json.get("actionId") == action_id for r in receiver.requests))
                # the attempts were recorded too, not only sent
                await eventually(lambda: _with_status(c, hook["id"], "succeeded", len(receiver.requests)))
    for received in receiver.requests:
        assert_signed(received, hook["secret"])
    assert len(receiver.unique_deliveries()) == len(receiver.requests)


async def test_failures_disable_a_webhook_on_sqlite(tmp_path) -> None:
    """The SQLite path counts each failed attempt (one UPDATE ... RETURNING) and disables the
    webhook at the configured run, as on PostgreSQL."""
    env = gatehouse_env(DATABASE_URL=f"sqlite://{tmp_path}/gatehouse.db", GATEHOUSE_ALLOW_PRIVATE_TARGETS="1",
                        GATEHOUSE_WEBHOOK_DISABLE_AFTER_FAILURES="2")
    port = free_port()
    async with receiving() as receiver:
        receiver.default = Reply(500)
        with running("serve", "--port", str(port), env=env, port=port):
            key = orjson.loads(run_cli("create-org", "solo", "--json", env=env).stdout)["apiKey"]
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"x-api-key": key},
                                         timeout=10) as c:
                created = await c.post("/api/v1/webhooks", json={
                    "name": "f", "url": receiver.url, "events": ["*"],
                    "retryPolicy": {"maxAttempts": 1, "backoffMs": 10}})
                hook = created.json()
                assert (await c.post(f"/api/v1/webhooks/{hook['id']}/test")).status_code == 202
                await eventually(lambda: _with_status(c, hook["id"], "failed", 1))
                assert (await c.get(f"/api/v1/webhooks/{hook['id']}")).json()["active"] is True  # one is not a run
                assert (await c.post(f"/api/v1/webhooks/{hook['id']}/test")).status_code == 202

                async def disabled() -> bool:
                    return (await c.get(f"/api/v1/webhooks/{hook['id']}")).json()["active"] is False

                await eventually(disabled)
    assert len(receiver.requests) == 2


async def _with_status(c: httpx.AsyncClient, hook_id: str, status: str, expected: int) -> bool:
    listed = await c.get(f"/api/v1/webhooks/{hook_id}/deliveries", params={"status": status})
    return listed.status_code == 200 and len(listed.json()) == expected
