"""What the policy-version, explain and backtest tests share: a payment policy and proposing under it."""

from __future__ import annotations

from typing import Any

import httpx

PAY = {"type": "pay", "actor": {"kind": "agent", "name": "payer"}, "target": "acct_1", "params": {"amount": 500}}


def over(amount: int, **rule: Any) -> dict[str, Any]:
    """A rule holding payments over `amount` for approval (plus whatever else `rule` says)."""
    return {"when": {"actionType": "pay", "params": {"amount": {"gt": amount}}}, **rule}


async def make_policy(c: httpx.AsyncClient, rules: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    created = await c.post("/api/v1/policy", json={"name": "payments", "rules": rules, **extra})
    assert created.status_code == 201, created.text
    return dict(created.json())


async def update_policy(c: httpx.AsyncClient, policy_id: str, **changes: Any) -> dict[str, Any]:
    updated = await c.put(f"/api/v1/policy/{policy_id}", json=changes)
    assert updated.status_code == 200, updated.text
    return dict(updated.json())


async def pay(c: httpx.AsyncClient, amount: int, **changes: Any) -> dict[str, Any]:
    proposed = await c.post("/api/v1/actions", json={**PAY, "params": {"amount": amount}, **changes})
    assert proposed.status_code == 201, proposed.text
    return dict(proposed.json())
