"""What the agent tests share: registering an agent and issuing a key bound to it over REST."""

from __future__ import annotations

from typing import Any

from tests.conftest import Tenant

AGENT_SCOPES = ["actions:write", "approvals:write", "events:read"]


async def register(tenant: Tenant, name: str, **fields: Any) -> dict[str, Any]:
    async with tenant.client() as c:
        response = await c.post("/agents", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def bound_key(tenant: Tenant, agent_id: str, scopes: list[str] | None = None) -> str:
    """A key of the tenant bound to `agent_id` (with approvals:write, which it still may not use)."""
    async with tenant.client() as c:
        response = await c.post("/api/v1/api-keys", json={"name": f"key of {agent_id}",
                                                          "scopes": scopes or AGENT_SCOPES, "agentId": agent_id})
    assert response.status_code == 201, response.text
    assert response.json()["agentId"] == agent_id
    return str(response.json()["key"])


def as_key(tenant: Tenant, key: str) -> Tenant:
    return Tenant(tenant.organization_id, key, tenant.base_url)
