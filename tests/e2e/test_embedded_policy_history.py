"""Policy versions, explain and backtest in the embedded mode (SQLite, one process)."""

from __future__ import annotations

import httpx
import orjson

from tests.conftest import free_port
from tests.processes import gatehouse_env, run_cli, running


def _rule(amount: int) -> dict[str, object]:
    return {"when": {"actionType": "pay", "params": {"amount": {"gt": amount}}}, "require": ["kyc"]}


def test_versions_explain_and_backtest_on_sqlite(tmp_path) -> None:
    env = gatehouse_env(DATABASE_URL=f"sqlite://{tmp_path}/gatehouse.db")
    port = free_port()
    with running("serve", "--port", str(port), env=env, port=port):
        key = orjson.loads(run_cli("create-org", "solo", "--json", env=env).stdout)["apiKey"]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"x-api-key": key}, timeout=10) as c:
            policy = c.post("/policy", json={"name": "pay", "rules": [_rule(100)]}).json()
            body = {"type": "pay", "actor": {"kind": "agent"}, "params": {"amount": 500}}
            held = c.post("/actions", json=body).json()
            assert held["status"] == "pending_approval"
            assert c.put(f"/policy/{policy['id']}", json={"rules": [_rule(1000)]}).status_code == 200
            assert c.post("/actions", json=body).json()["status"] == "approved"
            assert [v["version"] for v in c.get(f"/policy/{policy['id']}/versions").json()] == [2, 1]
            diff = c.get(f"/policy/{policy['id']}/versions/1/diff/2").json()
            assert [r["index"] for r in diff["rules"]["changed"]] == [0]
            explained = c.get(f"/actions/{held['actionId']}/explain").json()
            assert explained["decision"]["status"] == "pending_approval"
            assert [(p["version"], p["currentVersion"]) for p in explained["policies"]] == [(1, 2)]
            tightened = {"policies": [{"rules": [_rule(100)], "replaces": policy["id"]}]}
            result = c.post("/policy/backtest", json=tightened).json()
            assert (result["actions"], result["changed"]) == (2, 2)
            assert result["after"] == {"approved": 0, "pending_approval": 2, "rejected": 0}
