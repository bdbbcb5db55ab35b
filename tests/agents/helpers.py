"""What the agent tests share: registering an agent and issuing a key bound to it over REST."""

from __future__ import annotations

from typing import Any

from tests.conftest import Tenant

AGENT_SCOPES = ["actions:write", "events:read"]


async def register(tenant: Tenant, name: str, **fields: Any) -> dict[str, Any]:
    async with tenant.client() as c:
        response = await c.post("/agents", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def bound_key(tenant: Tenant, agent_id: str, scopes: list[str] | None = None) -> str:
    """A key of the tenant bound to `agent_id` (no governing scope: a bound key may not hold one)."""
    async with tenant.client() as c:
        response = await c.post("/api/v1/api-keys", json={"name": f"key of {agent_id}",
                                                          "scopes": scopes or AGENT_SCOPES, "agentId": agent_id})
    assert response.status_code == 201, response.text
    assert response.json()["agentId"] == agent_id
    return str(response.json()["key"])


async def legacy_bound_key(tenant: Tenant, agent_id: str, scopes: list[str]) -> tuple[str, str]:
    """(id, secret) of a key bound to `agent_id` with `scopes` stored as they are, governing ones included,
    as a key issued before bound keys were refused them: `issue_key` writes the row without the doors'
    checks."""
    from resolvers.keys.api_keys import issue_key

    created = await issue_key(tenant.organization_id, name="legacy", scopes=scopes, rate_limit=None,
                              agent_id=agent_id)
    return created.key.id, created.secret


def as_key(tenant: Tenant, key: str) -> Tenant:
    return Tenant(tenant.organization_id, key, tenant.base_url)
