"""A key lacking an endpoint's scope gets 403 FORBIDDEN whatever body it sends, at both doors: the
REST router checks the declared scopes before it reads the body (it validated the body first, so
such a key got 400 VALIDATION_ERROR and learnt the body's rules), as GraphQL's resolvers do."""

from __future__ import annotations

import re

import pytest

import app.rest  # noqa: F401  (registers the REST endpoints)
from app.rest import routing
from tests.conftest import Tenant

# Every endpoint that takes a body and needs a scope a read-only key lacks (`*:read` grants
# /audit/verify and /policy/backtest, the two others with a body).
WRITES = [
    ("POST", "/actions"), ("POST", "/actions/{id}/consume"), ("POST", "/actions/{id}/cancel"),
    ("POST", "/agents"), ("PATCH", "/agents/{id}"), ("POST", "/api-keys"),
    ("POST", "/approvals/{approvalId}/approve"), ("POST", "/approvals/{approvalId}/reject"),
    ("POST", "/approve/{actionId}"), ("POST", "/actions/{actionId}/approve"), ("POST", "/actions/{actionId}/reject"),
    ("POST", "/reject/{actionId}"), ("POST", "/connectors"), ("PUT", "/connectors/{id}"),
    ("POST", "/connectors/{id}/actions/{action}"), ("POST", "/credentials"), ("PUT", "/credentials/{id}"),
    ("POST", "/actions/{actionId}/evidence"), ("POST", "/evidence"), ("POST", "/policy"), ("PUT", "/policy/{id}"),
    ("POST", "/mcp-servers"), ("PUT", "/mcp-servers/{id}"), ("POST", "/mcp-servers/{id}/admit-tools"),
    ("POST", "/reviewer-groups"), ("PUT", "/reviewer-groups/{id}"), ("POST", "/webhooks"), ("PUT", "/webhooks/{id}"),
    ("POST", "/webhooks/{id}/recover"), ("POST", "/workflows"), ("PUT", "/workflows/{id}"),
    ("POST", "/workflows/{id}/execute"), ("POST", "/executions/{id}"),
]
READ_WITH_BODY = [("POST", "/audit/verify"), ("POST", "/policy/backtest")]
BODIES = {"not an object": b"[1]", "wrong fields": b'{"name": 7, "nope": true}', "malformed JSON": b"{not json"}


def _paths(method: str, path: str) -> list[str]:
    """Where the router serves an endpoint (/api/v1 and, for governance, the root), ids filled in."""
    [ep] = [ep for ep in routing.ENDPOINTS if (ep.method, ep.path) == (method, path)]
    return [re.sub(r"{\w+}", "x_1", served) for served in ep.paths]


DENIED = [(method, served) for method, path in WRITES for served in _paths(method, path)]


def test_the_table_is_every_endpoint_with_a_body() -> None:
    """A new endpoint with a body joins WRITES (or READ_WITH_BODY), so it is covered here too."""
    with_body = sorted((ep.method, ep.path) for ep in routing.ENDPOINTS if ep.body is not None)
    assert with_body == sorted(WRITES + READ_WITH_BODY)


@pytest.mark.parametrize(("method", "path"), DENIED, ids=[f"{m} {p}" for m, p in DENIED])
async def test_a_read_only_key_gets_403_whatever_the_body(tenant: Tenant, method: str, path: str) -> None:
    async with tenant.client() as c:
        created = await c.post("/api/v1/api-keys", json={"name": "reader", "scopes": ["*:read"]})
        c.headers["Authorization"] = f"Bearer {created.json()['key']}"
        for name, body in BODIES.items():
            response = await c.request(method, path, content=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 403, (name, response.text)
            answer = response.json()
            assert set(answer) == {"error", "message"} and answer["error"] == "FORBIDDEN", (name, answer)
            assert "lacks the" in answer["message"], answer


async def test_graphql_execute_with_a_bad_input_and_no_scope_is_forbidden(tenant: Tenant) -> None:
    async with tenant.client() as c:
        created = await c.post("/api/v1/api-keys", json={"name": "reader", "scopes": ["*:read"]})
        c.headers["Authorization"] = f"Bearer {created.json()['key']}"
        response = await c.post("/graphql", json={
            "query": 'mutation { executeWorkflow(id: "wf_x", input: "not an object") { id } }'})
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", response.text
