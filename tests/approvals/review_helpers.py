"""Shared steps of the approval tests: keys with scopes, clients as them, groups, policies, snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from tortoise import connections

from tests.conftest import Tenant


@dataclass
class Key:
    """An API key of a tenant: its id (what rules and groups name) and its secret."""

    id: str
    secret: str
    base_url: str

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, headers={"x-api-key": self.secret}, timeout=10)

    async def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        async with self.client() as c:
            response = await c.post("/graphql", json={"query": query, "variables": variables or {}})
        assert response.status_code == 200, response.text
        return dict(response.json())


async def make_key(tenant: Tenant, name: str, scopes: list[str]) -> Key:
    async with tenant.client() as c:
        created = await c.post("/api/v1/api-keys", json={"name": name, "scopes": scopes})
    assert created.status_code == 201, created.text
    return Key(created.json()["id"], created.json()["key"], tenant.base_url)


async def agent_and_reviewers(tenant: Tenant, count: int = 3) -> tuple[Key, list[Key]]:
    """A proposing key (which may also approve, to show it never counts) and `count` reviewers."""
    agent = await make_key(tenant, "agent", ["actions:write", "approvals:write"])
    reviewers = [await make_key(tenant, f"reviewer{i}", ["approvals:write", "actions:read"]) for i in range(count)]
    return agent, reviewers


async def create_group(tenant: Tenant, name: str, members: list[str]) -> dict[str, Any]:
    async with tenant.client() as c:
        created = await c.post("/api/v1/reviewer-groups", json={"name": name, "members": members})
    assert created.status_code == 201, created.text
    return dict(created.json())


async def create_policy(tenant: Tenant, rules: list[dict[str, Any]], name: str = "p") -> dict[str, Any]:
    async with tenant.client() as c:
        created = await c.post("/policy", json={"name": name, "rules": rules})
    assert created.status_code == 201, created.text
    return dict(created.json())


async def propose(key: Key, action_type: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    async with key.client() as c:
        proposed = await c.post("/actions", json={"type": action_type, "actor": {"kind": "agent"},
                                                  "params": params or {}})
    assert proposed.status_code == 201, proposed.text
    return dict(proposed.json())


TABLES = ("actions", "approvals", "action_history", "events", "policies", "reviewer_groups")


async def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables a decision or a group change could touch, to assert nothing changed."""
    conn = connections.get("default")
    return {t: await conn.execute_query_dict(f"SELECT * FROM {t} ORDER BY 1") for t in TABLES}


def refused(response: httpx.Response, status: int, code: str, *words: str) -> None:
    """The documented error body, with a message saying why."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"error", "message"} and body["error"] == code, body
    for word in words:
        assert word in body["message"], body
