"""Notifications, grants, grantFor and long-polls in the embedded mode (SQLite, in-process bus and workers)."""

from __future__ import annotations

import asyncio
import time

import httpx
import orjson

from tests.conftest import free_port
from tests.connectors.fakes.base import serving
from tests.connectors.fakes.customer import CUSTOMER_KEY, CustomerApi
from tests.processes import gatehouse_env, run_cli, running
from tests.webhooks.receiver import eventually

EMAIL = {"type": "send_email", "actor": {"kind": "agent"}, "target": "a@b.c", "params": {"n": 1}}


async def _escalation_connector(c: httpx.AsyncClient, customer: CustomerApi) -> str:
    data = {"headers": {"X-Customer-Key": CUSTOMER_KEY}}
    credential = await c.post("/api/v1/credentials", json={
        "name": "api", "type": "custom", "provider": "custom_api", "data": data})
    connector = await c.post("/api/v1/connectors", json={
        "name": "api", "type": "custom_api", "credentialId": credential.json()["id"],
        "config": {"actions": {"escalate": {"url": f"{customer.base_url}/actions/escalate"}}}})
    assert connector.status_code == 201, connector.text
    return str(connector.json()["id"])


async def _scenario(base_url: str, key: str) -> None:
    customer = CustomerApi()
    async with serving(customer), httpx.AsyncClient(base_url=base_url, headers={"x-apaaikey": key}, timeout=30) as c:
        rule = {"when": {"actionType": "send_email"}, "grantFor": "10m"}
        notify = [await _escalation_connector(c, customer)]  # its only action is taken
        assert (await c.post("/policy", json={"rules": [rule], "notify": notify})).status_code == 201
        action_id = (await c.post("/actions", json={**EMAIL, "metadata": {"run": 7}})).json()["actionId"]
        waiting = asyncio.create_task(c.get(f"/actions/{action_id}", params={"wait": 20}))
        await asyncio.sleep(0.5)
        approved_at = time.monotonic()
        assert (await c.post(f"/approvals/apr_{action_id[4:]}/approve")).status_code == 200
        answer = await waiting
        await eventually(lambda: len(customer.requests) >= 1)
        assert answer.json()["status"] == "approved" and time.monotonic() - approved_at < 1
        assert answer.json()["metadata"] == {"run": 7}
        url = f"/actions/{action_id}/consume"
        answers = await asyncio.gather(*(c.post(url, json={"params": EMAIL["params"]}) for _ in range(20)))
        assert sorted(a.status_code for a in answers) == [200] + [409] * 19
        again = (await c.post("/actions", json={**EMAIL, "params": {"n": 2}})).json()
        assert again["status"] == "approved"
        custom = [r.json["custom"] for r in customer.requests]
        assert any(n["event"] == "action.pending_approval" and n["actionId"] == action_id for n in custom)
        assert all(n["approvalUrl"].endswith(n["actionId"]) for n in custom)


def test_grants_windows_and_long_polls_on_sqlite(tmp_path) -> None:
    env = gatehouse_env(DATABASE_URL=f"sqlite://{tmp_path}/gatehouse.db", GATEHOUSE_ALLOW_PRIVATE_TARGETS="1")
    port = free_port()
    with running("serve", "--port", str(port), env=env, port=port):
        key = orjson.loads(run_cli("create-org", "solo", "--json", env=env).stdout)["apiKey"]
        asyncio.run(_scenario(f"http://127.0.0.1:{port}", key))
