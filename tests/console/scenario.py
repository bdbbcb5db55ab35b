"""What happens around the reviewer: agents proposing actions, policies, keys, evidence (over REST)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Tenant

RULES = [
    {"when": {"actionType": "send_email"}},  # a human decides
    {"when": {"actionType": "wire_transfer"}, "require": ["cfo_signoff", "sanctions_screen"]},  # needs evidence first
    {"when": {"actionType": "deploy"}, "require": ["tests"]},
]


async def enforce(tenant: Tenant, rules: list[dict[str, Any]] | None = None, name: str = "Human review") -> str:
    async with tenant.client() as c:
        body = {"name": name, "mode": "enforce", "rules": rules or RULES,
                "description": "Outbound messages and money movement wait for a reviewer"}
        answer = await c.post("/policy", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def propose(tenant: Tenant, kind: str = "send_email", *, params: dict[str, Any] | None = None,
                  actor: dict[str, Any] | None = None, target: str | None = "customer@example.com",
                  base_url: str | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """POST /actions as an agent does (as the tenant's key unless `headers` name another); the answer
    (actionId, status, approvalId, ...)."""
    body = {"type": kind, "actor": actor or {"kind": "agent", "name": "support-bot", "provider": "openai"},
            "target": target, "params": params if params is not None else {"subject": "Your refund", "amount": 42}}
    async with httpx.AsyncClient(base_url=base_url or tenant.base_url, headers=headers or tenant.headers,
                                 timeout=10) as c:
        answer = await c.post("/actions", json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def make_key(tenant: Tenant, name: str, scopes: list[str]) -> dict[str, Any]:
    """A new API key of the tenant's organization: {id, key, ...}."""
    async with tenant.client() as c:
        answer = await c.post("/api/v1/api-keys", json={"name": name, "scopes": scopes})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def evidence(tenant: Tenant, action_id: str, *checks: tuple[str, bool, str | None]) -> None:
    body = {"checks": [{"name": name, "pass": passed, "note": note} for name, passed, note in checks]}
    async with tenant.client() as c:
        answer = await c.post(f"/actions/{action_id}/evidence", json=body)
    assert answer.is_success, answer.text


async def decide(tenant: Tenant, proposed: dict[str, Any], verb: str, base_url: str | None = None,
                 **body: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url or tenant.base_url, headers=tenant.headers, timeout=10) as c:
        answer = await c.post(f"/approvals/{proposed['approvalId']}/{verb}", json=body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def action(tenant: Tenant, action_id: str) -> dict[str, Any]:
    async with tenant.client() as c:
        answer = await c.get(f"/actions/{action_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())
