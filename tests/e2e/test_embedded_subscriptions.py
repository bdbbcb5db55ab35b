"""Subscriptions in the embedded mode: SQLite, the in-process bus and relay; one process, nothing else."""

from __future__ import annotations

import httpx
import orjson

from tests.conftest import free_port
from tests.graphql.ws import PENDING, gql_ws
from tests.processes import gatehouse_env, run_cli, running


async def test_pending_approvals_arrive_live_and_by_replay_on_sqlite(tmp_path) -> None:
    env = gatehouse_env(DATABASE_URL=f"sqlite://{tmp_path}/gatehouse.db")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running("serve", "--port", str(port), env=env, port=port):
        key = orjson.loads(run_cli("create-org", "solo", "--json", env=env).stdout)["apiKey"]
        async with httpx.AsyncClient(base_url=base, headers={"x-api-key": key}, timeout=10) as c:
            rules = [{"when": {"actionType": "send_email"}}]
            assert (await c.post("/policy", json={"rules": rules})).status_code == 201
            body = {"type": "send_email", "actor": {"kind": "agent", "name": "bot"}}
            before = (await c.post("/actions", json=body)).json()["actionId"]
            async with gql_ws(base, key) as ws:
                await ws.subscribe("1", PENDING, {"since": "0"})
                replayed = (await ws.next_data())["payload"]["data"]["pendingApprovals"]
                assert replayed["action"]["id"] == before and replayed["change"] == "created"
                live = (await c.post("/actions", json=body)).json()["actionId"]
                created = (await ws.next_data())["payload"]["data"]["pendingApprovals"]
                assert created["action"]["id"] == live and created["seq"] > replayed["seq"]
