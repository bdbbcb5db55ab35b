"""Governance in the embedded mode: SQLite quota statement, idempotency, in-process expiry."""

from __future__ import annotations

import time

import httpx
import orjson

from tests.conftest import free_port
from tests.processes import gatehouse_env, run_cli, running


def test_propose_decide_and_expire_on_sqlite(tmp_path) -> None:
    env = gatehouse_env(DATABASE_URL=f"sqlite://{tmp_path}/gatehouse.db")
    port = free_port()
    with running("serve", "--port", str(port), env=env, port=port):
        key = orjson.loads(run_cli("create-org", "solo", "--json", env=env).stdout)["apiKey"]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"x-apaaikey": key}, timeout=10) as c:
            rule = {"when": {"actionType": "send_email"}, "require": ["review"], "expiresIn": 1}
            assert c.post("/policy", json={"rules": [rule]}).status_code == 201
            body = {"type": "send_email", "actor": {"kind": "agent"}}
            first = c.post("/actions", json=body, headers={"Idempotency-Key": "k"})
            again = c.post("/actions", json=body, headers={"Idempotency-Key": "k"})
            assert first.status_code == 201 and again.status_code == 200
            assert first.json()["actionId"] == again.json()["actionId"]
            assert c.post("/actions", json={**body, "target": "x"}, headers={"Idempotency-Key": "k"}).status_code == 409
            action_id = first.json()["actionId"]
            status = ""
            for _ in range(50):
                status = c.get(f"/actions/{action_id}").json()["status"]
                if status == "expired":
                    break
                time.sleep(0.1)
            assert status == "expired"
