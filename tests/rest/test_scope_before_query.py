"""A key lacking an endpoint's scope gets 403 FORBIDDEN whatever query string it sends: the REST
router checks the declared scopes before it parses the query (it parsed it first, so a key without
e.g. webhooks:read sending `?limit=abc` got 400 VALIDATION_ERROR), as it does before a body."""

from __future__ import annotations

import re

import pytest

import app.rest  # noqa: F401  (registers the REST endpoints)
from app.rest import routing
from tests.conftest import Tenant

# Invalid for every query schema: `limit` and `wait` are integers; `from`/`to` (audit) are strings
# the resolver refuses. A key holding only events:read has none of the scopes these endpoints need.
BAD_QUERY = "limit=abc&wait=abc&from=garbage&to=garbage"
UNRELATED_SCOPE = "events:read"
# The catalogue (?available=true) is public, as the resolver has it: nothing is checked first.
PUBLIC = [("GET", "/connectors")]


def _with_query() -> list[tuple[str, str]]:
    """Every path (/api/v1 and the root) of every endpoint with a query that declares scopes, ids filled in."""
    return [(ep.method, re.sub(r"{\w+}", "x_1", served)) for ep in routing.ENDPOINTS
            if ep.query is not None and (ep.method, ep.path) not in PUBLIC for served in ep.paths]


DENIED = _with_query()


def test_every_endpoint_with_a_query_declares_its_scopes() -> None:
    """Only the public catalogue checks nothing before the query; a new list joins the check above."""
    undeclared = sorted((ep.method, ep.path) for ep in routing.ENDPOINTS if ep.query is not None and not ep.scopes)
    assert undeclared == sorted(PUBLIC)


async def _key(c: object, scopes: list[str]) -> str:
    created = await c.post("/api/v1/api-keys", json={"name": "limited", "scopes": scopes})  # type: ignore[attr-defined]
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


@pytest.mark.parametrize(("method", "path"), DENIED, ids=[f"{m} {p}" for m, p in DENIED])
async def test_a_key_lacking_the_scope_gets_403_whatever_the_query(tenant: Tenant, method: str, path: str) -> None:
    async with tenant.client() as c:
        as_admin = await c.request(method, f"{path}?{BAD_QUERY}")
        assert as_admin.status_code == 400, as_admin.text  # the query is invalid indeed
        c.headers["Authorization"] = f"Bearer {await _key(c, [UNRELATED_SCOPE])}"
        response = await c.request(method, f"{path}?{BAD_QUERY}")
    assert response.status_code == 403, response.text
    answer = response.json()
    assert set(answer) == {"error", "message"} and answer["error"] == "FORBIDDEN", answer
    assert "lacks the" in answer["message"], answer


async def test_an_agent_key_reads_its_actions_and_the_catalogue_stays_public(tenant: Tenant) -> None:
    """The declared scopes are the resolvers': a key with them (an agent's own key included) still reads;
    the catalogue needs none, while listing connector instances needs connectors:read."""
    async with tenant.client() as c:
        agent = (await c.post("/api/v1/agents", json={"name": "bot"})).json()
        bound = await c.post("/api/v1/api-keys", json={"name": "bot key", "agentId": agent["id"],
                                                        "scopes": ["actions:write", "agents:read"]})
        assert bound.status_code == 201, bound.text
        c.headers["Authorization"] = f"Bearer {bound.json()['key']}"
        assert (await c.get(f"/api/v1/agents/{agent['id']}/actions?limit=5")).status_code == 200
        assert (await c.get("/actions?limit=5")).status_code == 200
        c.headers["Authorization"] = f"Bearer {tenant.key}"
        c.headers["Authorization"] = f"Bearer {await _key(c, [UNRELATED_SCOPE])}"
        catalogue = await c.get("/api/v1/connectors?available=true")
        assert catalogue.status_code == 200 and isinstance(catalogue.json(), list), catalogue.text
        instances = await c.get("/api/v1/connectors?limit=5")
        assert instances.status_code == 403 and instances.json()["error"] == "FORBIDDEN", instances.text
