"""What the approval tests share: a policy that makes `send_email` wait, and proposing under it."""

from __future__ import annotations

from typing import Any

import httpx

EMAIL = {
    "type": "send_email",
    "actor": {"kind": "agent", "name": "mailer", "provider": "openai"},
    "target": "ann@example.com",
    "params": {"subject": "Refund", "amount": 40, "lines": [{"sku": "a", "n": 1}]},
}
MANUAL_RULE = {"when": {"actionType": "send_email"}, "approval": "manual"}


async def make_policy(c: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    rules = extra.pop("rules", [MANUAL_RULE])
    created = await c.post("/api/v1/policy", json={"name": "mail", "rules": rules, **extra})
    assert created.status_code == 201, created.text
    return dict(created.json())


async def propose(c: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    proposed = await c.post("/api/v1/actions", json={**EMAIL, **changes})
    assert proposed.status_code == 201, proposed.text
    return dict(proposed.json())


async def approve(c: httpx.AsyncClient, action_id: str) -> None:
    approved = await c.post(f"/api/v1/approvals/apr_{action_id[4:]}/approve", json={})
    assert approved.status_code == 200, approved.text
