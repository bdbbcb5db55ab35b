"""Reviews in the embedded mode (SQLite, workers inside `gatehouse serve`): a group, a quorum of two
that the proposer cannot join, an edit, a revocation that leaves a waiting quorum short, and an
escalation that the second group decides."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.conftest import free_port
from tests.processes import gatehouse_env, run_cli, running


def _key(c: httpx.Client, name: str, scopes: list[str]) -> tuple[str, dict[str, str]]:
    created = c.post("/api/v1/api-keys", json={"name": name, "scopes": scopes}).json()
    return created["id"], {"x-api-key": created["key"]}


def _waiting(c: httpx.Client, action_id: str, headers: dict[str, str], check: str) -> dict[str, Any]:
    for _ in range(100):
        action: dict[str, Any] = c.get(f"/actions/{action_id}", headers=headers).json()
        if action["review"][check]:
            return action
        time.sleep(0.1)
    raise AssertionError(f"{action_id}: review.{check} never set")


def test_quorum_edit_and_escalation_on_sqlite(tmp_path: Path) -> None:
    env = gatehouse_env(DATABASE_URL=f"sqlite://{tmp_path}/gatehouse.db")
    port = free_port()
    with running("serve", "--port", str(port), env=env, port=port):
        admin = orjson.loads(run_cli("create-org", "solo", "--json", env=env).stdout)["apiKey"]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"x-api-key": admin}, timeout=10) as c:
            agent_id, agent = _key(c, "agent", ["actions:write", "approvals:write"])
            keys = [_key(c, f"r{i}", ["approvals:write", "actions:read"]) for i in range(3)]
            (a_id, a), (b_id, b), (c_id, c3) = keys
            assert c.post("/api/v1/reviewer-groups", json={"name": "leads", "members": [agent_id, a_id, b_id]}
                          ).status_code == 201
            assert c.post("/api/v1/reviewer-groups", json={"name": "oncall", "members": [c_id]}).status_code == 201
            rules = [{"when": {"actionType": "refund"}, "approvals": 2, "approvers": ["leads"], "allowEdit": True},
                     {"when": {"actionType": "page"}, "approvers": ["leads"], "expiresIn": 1,
                      "onExpire": "escalate", "escalateTo": "oncall"}]
            assert c.post("/policy", json={"rules": rules}).status_code == 201

            refund = c.post("/actions", json={"type": "refund", "actor": {"kind": "agent"},
                                              "params": {"amount": 9}}, headers=agent).json()
            url = f"/actions/{refund['actionId']}/approve"
            assert c.post(url, headers=agent).status_code == 403
            assert c.post(url, headers=a).json()["status"] == "pending"
            done = c.post(url, json={"params": {"amount": 5}}, headers=b).json()
            assert done["status"] == "pending"  # an edit drops the approval given to the old params
            assert c.post(url, headers=a).json()["status"] == "approved"
            read = c.get(f"/actions/{refund['actionId']}", headers=agent).json()
            assert read["params"] == {"amount": 5} and read["originalParams"] == {"amount": 9}

            stuck = c.post("/actions", json={"type": "refund", "actor": {"kind": "agent"}, "params": {"amount": 1}},
                           headers=agent).json()
            assert c.delete(f"/api/v1/api-keys/{b_id}").status_code == 200  # leads keeps two that can decide
            review = c.get(f"/actions/{stuck['actionId']}", headers=agent).json()["review"]
            assert (review["approvers"], review["waitingFor"], review["quorumReachable"]) == (
                sorted([agent_id, a_id]), [a_id], False), review
            history = c.post("/graphql", headers=agent, json={
                "query": "query($id: ID!) { action(id: $id) { history { kind detail } } }",
                "variables": {"id": stuck["actionId"]}}).json()["data"]["action"]["history"]
            assert history[-1] == {"kind": "approvers_changed", "detail": {
                "approvers": sorted([agent_id, a_id]), "revokedKeyId": b_id, "waitingFor": [a_id],
                "quorumReachable": False}}, history

            page = c.post("/actions", json={"type": "page", "actor": {"kind": "agent"}}, headers=agent).json()
            escalated = _waiting(c, page["actionId"], agent, "escalatedAt")
            assert escalated["status"] == "pending_approval" and escalated["review"]["approvers"] == [c_id]
            assert c.post(f"/actions/{page['actionId']}/approve", headers=a).status_code == 403
            assert c.post(f"/actions/{page['actionId']}/approve", headers=c3).json()["status"] == "approved"
