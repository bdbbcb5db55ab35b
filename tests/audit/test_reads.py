"""Reading the trail: filters in both doors, bad filters answer 400 and change nothing, another
organization's entries never show, a key without `audit:read` is refused, and the NDJSON export of
a time range holds exactly its sealed entries, each with the hash that chains it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import pytest

from resolvers.audit.chain import ChainEntry, link
from tests.audit.helpers import entries, verified
from tests.conftest import Tenant

LOG = """query($type: String, $resource: String, $key: String, $agent: String, $from: String, $to: String) {
  auditLog(type: $type, resource: $resource, key: $key, agent: $agent, from: $from, to: $to, first: 200) {
    edges { node { id type resourceId keyId changes position hash } } pageInfo { hasNextPage } } }"""


async def _policies(tenant: Tenant, count: int) -> list[str]:
    ids = []
    async with tenant.client() as c:
        for n in range(count):
            created = await c.post("/api/v1/policy", json={"name": f"p{n}", "rules": [{"when": {"actionType": "a"}}]})
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
    return ids


async def _graphql_log(tenant: Tenant, **variables: Any) -> list[dict[str, Any]]:
    out = await tenant.graphql(LOG, variables)
    assert "errors" not in out, out
    return [edge["node"] for edge in out["data"]["auditLog"]["edges"]]


async def test_filters_in_both_doors(tenant: Tenant) -> None:
    first, second = await _policies(tenant, 2)
    async with tenant.client() as c:
        assert (await c.put(f"/api/v1/policy/{first}", json={"name": "renamed"})).status_code == 200
    await verified(tenant)
    everything = await entries(tenant)
    assert [e["type"] for e in everything] == ["policy.updated", "policy.created", "policy.created"]
    assert everything[0]["changes"] == {"before": {"name": "p0", "version": 1}, "after": {"name": "renamed",
                                                                                          "version": 2}}
    by_resource = await entries(tenant, resource=first)
    assert [e["type"] for e in by_resource] == ["policy.updated", "policy.created"]
    assert [e["id"] for e in await _graphql_log(tenant, resource=first)] == [e["id"] for e in by_resource]
    updates = await entries(tenant, type="policy.updated")
    assert [e["id"] for e in updates] == [everything[0]["id"]]
    assert [e["id"] for e in await _graphql_log(tenant, type="policy.updated")] == [everything[0]["id"]]
    key = everything[0]["keyId"]
    assert len(await entries(tenant, key=key)) == 3 and await entries(tenant, key="key_nobody") == []
    assert await entries(tenant, agent="agt_nobody") == []
    middle = everything[1]["createdAt"]
    since = await entries(tenant, **{"from": middle})
    before = await entries(tenant, to=middle)
    assert [e["id"] for e in since] == [e["id"] for e in everything[:2]]
    assert [e["id"] for e in before] == [everything[2]["id"]]
    assert [e["id"] for e in await _graphql_log(tenant, **{"from": middle})] == [e["id"] for e in since]
    assert second in {e["resourceId"] for e in everything}


@pytest.mark.parametrize("params", [
    {"type": "policy.exploded"}, {"from": "yesterday"}, {"to": "2026-13-45"},
    {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, {"limit": "0"}, {"limit": "201"},
    {"cursor": "not-a-cursor"}, {"resource": "x" * 65}, {"key": "key_\x00"},
    {"from": "0001-01-01T00:00:00+01:00"}, {"to": "9999-12-31T23:59:59-01:00"},  # no such instant in UTC
    {"key": "k" * 40}, {"agent": "a" * 40},  # longer than any key's or agent's id (their columns' 32)
])
async def test_bad_filters_are_400_in_both_doors(tenant: Tenant, params: dict[str, str]) -> None:
    await _policies(tenant, 1)
    async with tenant.client() as c:
        listed = await c.get("/api/v1/audit", params=params)
        exported = await c.get("/api/v1/audit/export", params=params)
        checked = await c.post("/api/v1/audit/verify", json={k: v for k, v in params.items() if k in ("from", "to")})
    assert listed.status_code == 400 and listed.json()["error"] == "VALIDATION_ERROR", listed.text
    if set(params) & {"from", "to"}:
        assert exported.status_code == 400 and exported.json()["error"] == "VALIDATION_ERROR"
        assert checked.status_code == 400 and checked.json()["error"] == "VALIDATION_ERROR"
    names = {"limit": "first", "cursor": "after"}
    gql_vars = {names.get(k, k): (int(v) if k == "limit" else v) for k, v in params.items()}
    declared = ", ".join(f"${k}: {'Int!' if k == 'first' else 'String'}" for k in gql_vars)
    args = ", ".join(f"{k}: ${k}" for k in gql_vars)
    out = await tenant.graphql(f"query({declared}) {{ auditLog({args}) {{ edges {{ node {{ id }} }} }} }}", gql_vars)
    assert out["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", out
    assert len(await entries(tenant)) == 1  # nothing changed, nothing recorded


async def test_another_organizations_entries_never_show(tenant: Tenant, other_tenant: Tenant) -> None:
    mine = await _policies(tenant, 1)
    theirs = await _policies(other_tenant, 2)
    await verified(tenant)
    report = await verified(other_tenant)
    assert report["checked"] == 2
    assert {e["resourceId"] for e in await entries(tenant)} == set(mine)
    assert await entries(tenant, resource=theirs[0]) == []
    assert await _graphql_log(tenant, resource=theirs[0]) == []
    async with tenant.client() as c:
        lines = (await c.get("/api/v1/audit/export")).text.splitlines()
    assert [orjson.loads(line)["resourceId"] for line in lines] == mine
    assert (await verified(tenant))["checked"] == 1


async def test_a_key_without_audit_read_is_refused(tenant: Tenant) -> None:
    async with tenant.client() as c:
        made = await c.post("/api/v1/api-keys", json={"name": "reader", "scopes": ["*:read"]})
        narrow = await c.post("/api/v1/api-keys", json={"name": "narrow", "scopes": ["policies:read"]})
    reader = Tenant(tenant.organization_id, made.json()["key"], tenant.base_url)
    other = Tenant(tenant.organization_id, narrow.json()["key"], tenant.base_url)
    async with reader.client() as c:
        assert (await c.get("/api/v1/audit")).status_code == 200
    async with other.client() as c:
        for response in (await c.get("/api/v1/audit"), await c.get("/api/v1/audit/export"),
                         await c.post("/api/v1/audit/verify", json={})):
            assert response.status_code == 403 and response.json()["error"] == "FORBIDDEN"
    out = await other.graphql("{ auditLog { edges { node { id } } } }")
    assert out["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_export_of_a_range_streams_its_entries_with_their_chain(tenant: Tenant) -> None:
    await _policies(tenant, 7)
    await verified(tenant)
    chain = sorted(await entries(tenant), key=lambda e: e["position"])
    since, until = chain[1]["createdAt"], chain[5]["createdAt"]
    async with tenant.client() as c, c.stream("GET", "/api/v1/audit/export",
                                              params={"from": since, "to": until}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        body = b"".join([chunk async for chunk in response.aiter_bytes()])
    assert body.endswith(b"\n")
    lines = [orjson.loads(line) for line in body.splitlines()]
    assert [line["position"] for line in lines] == [2, 3, 4, 5]
    assert lines == chain[1:5]
    previous = chain[0]["hash"]
    for line in lines:
        entry = ChainEntry(line["id"], line["organizationId"], line["type"], line["resourceId"], line["actor"],
                           line["keyId"], line["agentId"], line["changes"], line["requestId"],
                           line["clientAddress"], _time(line["createdAt"]))
        assert link(previous, entry, line["position"]) == line["hash"]
        previous = line["hash"]


def _time(text: str) -> Any:
    from app.core.clock import parse_timestamp

    return parse_timestamp(text)


async def test_an_entry_is_a_node_of_its_organization_only(tenant: Tenant, other_tenant: Tenant) -> None:
    await _policies(tenant, 1)
    await _policies(other_tenant, 1)
    await verified(tenant)
    mine, theirs = (await entries(tenant))[0], (await entries(other_tenant))[0]
    query = "query($id: ID!) { node(id: $id) { __typename ... on AuditEntry { id type resourceId position hash } } }"
    found = (await tenant.graphql(query, {"id": mine["id"]}))["data"]["node"]
    assert found == {"__typename": "AuditEntry", "id": mine["id"], "type": "policy.created",
                     "resourceId": mine["resourceId"], "position": 1, "hash": mine["hash"]}
    hidden = await tenant.graphql(query, {"id": theirs["id"]})
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_graphql_gives_every_field_its_hash_covers(tenant: Tenant) -> None:
    """An auditor reading the trail over GraphQL can recompute each sealed entry's hash from what it
    read, as from REST's entries: `organizationId`, which the hash covers, was missing at that door."""
    await _policies(tenant, 2)
    await verified(tenant)
    fields = ("id organizationId type resourceId actor keyId agentId changes requestId clientAddress "
              "createdAtExact position hash")
    out = await tenant.graphql(f"{{ auditLog(first: 10) {{ edges {{ node {{ {fields} }} }} }} }}")
    assert "errors" not in out, out
    chain = sorted((edge["node"] for edge in out["data"]["auditLog"]["edges"]), key=lambda e: e["position"])
    previous = "0" * 64
    for e in chain:
        assert e["organizationId"] == tenant.organization_id, e
        entry = ChainEntry(e["id"], e["organizationId"], e["type"], e["resourceId"], e["actor"], e["keyId"],
                           e["agentId"], e["changes"], e["requestId"], e["clientAddress"],
                           datetime.fromisoformat(e["createdAtExact"].replace("Z", "+00:00")))
        assert link(previous, entry, e["position"]) == e["hash"], e
        previous = e["hash"]
