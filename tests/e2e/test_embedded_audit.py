"""The audit trail in the embedded mode: SQLite, the ORM proposal path, the in-process sealer, and
`gatehouse audit verify` naming an entry changed behind the API's back."""

from __future__ import annotations

import sqlite3
import time

import httpx
import orjson

from tests.conftest import free_port
from tests.processes import gatehouse_env, run_cli, running


def _sealed(c: httpx.Client) -> dict:
    for _ in range(100):
        report = c.post("/api/v1/audit/verify", json={}).json()
        if report["pending"] == 0:
            return report
        time.sleep(0.1)
    raise AssertionError(report)


def test_write_seal_and_verify_on_sqlite(tmp_path) -> None:
    database = tmp_path / "gatehouse.db"
    env = gatehouse_env(DATABASE_URL=f"sqlite://{database}")
    port = free_port()
    with running("serve", "--port", str(port), env=env, port=port):
        created = orjson.loads(run_cli("create-org", "solo", "--json", env=env).stdout)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"x-apaaikey": created["apiKey"]},
                          timeout=10) as c:
            rule = {"when": {"actionType": "send_email"}, "require": ["review"]}
            policy = c.post("/policy", json={"rules": [rule]}).json()
            action = c.post("/actions", json={"type": "send_email", "actor": {"kind": "agent"}}).json()
            assert c.post(f"/actions/{action['actionId']}/reject", json={"reason": "no"}).status_code == 200
            report = _sealed(c)
            assert (report["ok"], report["checked"], report["headPosition"]) == (True, 3, 3)
            listed = c.get("/api/v1/audit").json()
            assert [e["type"] for e in listed] == ["action.rejected", "action.proposed", "policy.created"]
            assert listed[2]["resourceId"] == policy["id"] and all(e["hash"] for e in listed)
            exported = [orjson.loads(line) for line in c.get("/api/v1/audit/export").text.splitlines()]
            assert exported == listed[::-1]
            ranged = c.post("/api/v1/audit/verify", json={"from": listed[1]["createdAt"]}).json()
            assert (ranged["ok"], ranged["checked"], ranged["firstPosition"]) == (True, 2, 2)
    cli = run_cli("audit", "verify", "--org", created["organizationId"], "--json", env=env)
    assert cli.returncode == 0 and orjson.loads(cli.stdout)["checked"] == 3, cli.stderr
    with sqlite3.connect(database) as db:
        db.execute("UPDATE audit_entries SET type = 'policy.updated' WHERE position = 2")
    broken = run_cli("audit", "verify", "--org", created["organizationId"], env=env)
    assert broken.returncode == 1
    assert f"hash at position 2, entry {listed[1]['id']}" in broken.stdout
