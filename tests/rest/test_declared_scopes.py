"""Every REST endpoint's declared `scopes=` (checked by the router before the body or query is read)
agree with the scopes its resolver requires, driven over HTTP for every route the app serves, so a
new endpoint is covered without a table to update:

- a key holding every scope but those that grant one declared scope gets 403 FORBIDDEN naming it;
- a key holding exactly the declared scopes is not refused for a scope (any other answer will do:
  404 for a made-up id, 400 for a body the resolver refuses). A 403 there means the resolver
  requires a scope the endpoint does not declare: the router lets the key through, then the
  resolver refuses it, and a key lacking that scope learns the body's rules first.

The body sent is the smallest one the endpoint's own model accepts, so the request reaches the
resolver instead of stopping at the router's parsing."""

from __future__ import annotations

import re
from typing import Any

import httpx

import app.rest  # noqa: F401  (registers the REST endpoints)
from app.rest import routing
from resolvers.access import KNOWN_SCOPES, denial_reason
from tests.conftest import Tenant

MADE_UP_ID = "x_doesnotexist"
RATE_LIMIT = 100_000  # every request reaches its route


def _sample(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """The smallest value of a JSON Schema (pydantic's): required properties only, the first choice."""
    if "$ref" in schema:
        return _sample(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return _sample(options[0], defs)
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = schema.get("required", [])
        return {name: _sample(sub, defs) for name, sub in schema.get("properties", {}).items() if name in required}
    if kind == "array":
        return [_sample(schema.get("items", {}), defs) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return "x" * max(1, schema.get("minLength", 1))
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    return {}


def _body(ep: routing.Endpoint) -> dict[str, Any] | None:
    """A body the endpoint's model accepts (checked here, so a model this cannot satisfy fails loudly)."""
    if ep.body is None:
        return None
    schema = ep.body.model_json_schema()
    body = _sample(schema, schema.get("$defs", {}))
    ep.body.model_validate(body)
    return body


DECLARED = [ep for ep in routing.ENDPOINTS if ep.scopes]


def _lacking(scope: str) -> list[str]:
    """Every known scope except those that grant `scope` (admin, `*:read`, the resource's write)."""
    return sorted(s for s in KNOWN_SCOPES if denial_reason(frozenset({s}), scope) is not None)


class Keys:
    """API keys of the tenant with chosen scopes, one per scope set."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.made: dict[frozenset[str], str] = {}

    async def holding(self, scopes: list[str]) -> dict[str, str]:
        wanted = frozenset(scopes)
        if wanted not in self.made:
            created = await self.client.post("/api/v1/api-keys", json={
                "name": "scopes", "scopes": sorted(wanted), "rateLimit": RATE_LIMIT})
            assert created.status_code == 201, created.text
            self.made[wanted] = created.json()["key"]
        return {"Authorization": f"Bearer {self.made[wanted]}"}


async def test_declared_scopes_are_the_ones_the_resolver_requires(tenant: Tenant) -> None:
    assert len(DECLARED) > 50  # the registry was read (endpoints without a body or query declare nothing)
    disagreements: list[str] = []
    async with tenant.client() as admin, httpx.AsyncClient(base_url=tenant.base_url, timeout=10) as c:
        keys = Keys(admin)
        for ep in DECLARED:
            body = _body(ep)
            for served in ep.paths:
                url, where = re.sub(r"{\w+}", MADE_UP_ID, served), f"{ep.method} {served}"
                exact = await c.request(ep.method, url, json=body, headers=await keys.holding(list(ep.scopes)))
                if exact.status_code in (401, 403, 405, 429) or exact.status_code >= 500:
                    disagreements.append(f"{where} declares {list(ep.scopes)}; a key holding exactly those got "
                                         f"{exact.status_code}: {exact.text[:300]}")
                for scope in ep.scopes:
                    other = [s for s in ep.scopes if s != scope]
                    if any(denial_reason(frozenset({s}), scope) is None for s in other):
                        continue  # another declared scope grants this one: it cannot be lacked alone
                    lacking = await c.request(ep.method, url, json=body,
                                              headers=await keys.holding(_lacking(scope) + other))
                    named = lacking.status_code == 403 and f"'{scope}'" in lacking.json().get("message", "")
                    if not named:
                        disagreements.append(f"{where} declares {scope!r}; a key with every other scope got "
                                             f"{lacking.status_code}: {lacking.text[:300]}")
    assert not disagreements, "\n".join(disagreements)
