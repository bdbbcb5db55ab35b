"""Agents in the embedded mode: the ORM path counts proposals, decisions and expiry exactly, the
kill switch works on SQLite, and `gatehouse create-key --agent` binds a key."""

from __future__ import annotations

import time

import httpx
import orjson

from tests.conftest import free_port
from tests.processes import gatehouse_env, run_cli, running


def test_agents_on_sqlite(tmp_path) -> None:
    env = gatehouse_env(DATABASE_URL=f"sqlite://{tmp_path}/gatehouse.db")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running("serve", "--port", str(port), env=env, port=port):
        created = orjson.loads(run_cli("create-org", "solo", "--json", env=env).stdout)
        with httpx.Client(base_url=base, headers={"x-api-key": created["apiKey"]}, timeout=10) as admin:
            rules = [{"when": {"actionType": "send_email"}, "expiresIn": 1},
                     {"when": {"actionType": "refund"}}]
            assert admin.post("/policy", json={"rules": rules}).status_code == 201
            agent = admin.post("/agents", json={"name": "bot"}).json()
            key = orjson.loads(run_cli("create-key", "--org", created["organizationId"], "--name", "bot",
                                       "--scopes", "actions:write", "--agent", agent["id"], "--json",
                                       env=env).stdout)
            assert key["agentId"] == agent["id"]
            with httpx.Client(base_url=base, headers={"x-api-key": key["apiKey"]}, timeout=10) as bot:
                propose = [bot.post("/actions", json={"type": t, "actor": {"kind": "agent"}}).json()
                           for t in ("send_email", "refund", "refund", "read")]
                assert [p["status"] for p in propose] == ["pending_approval"] * 3 + ["approved"]
                assert admin.post(f"/approve/{propose[1]['actionId']}", json={}).status_code == 200
                for _ in range(50):  # the first expires in a second
                    if admin.get(f"/actions/{propose[0]['actionId']}").json()["status"] == "expired":
                        break
                    time.sleep(0.1)
                assert admin.delete(f"/agents/{agent['id']}").status_code == 200
                refused = bot.post("/actions", json={"type": "read", "actor": {"kind": "agent"}}).json()
            assert refused["status"] == "rejected" and "disabled" in refused["decision"]["reason"]
            assert admin.get(f"/actions/{propose[2]['actionId']}").json()["status"] == "rejected"
            metrics = admin.get(f"/agents/{agent['id']}").json()["metrics"]
            assert metrics == {"totalActions": 5, "approvedActions": 2, "blockedActions": 3, "pendingActions": 0}
