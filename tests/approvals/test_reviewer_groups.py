"""Reviewer groups in both doors: CRUD, members of the same organization only, events, tenancy,
scopes, and deletion refused while a policy rule names the group."""

from __future__ import annotations

import asyncio

import httpx

from models.events import Event
from models.governance import Policy
from models.reviewers import ReviewerGroup
from tests.approvals.review_helpers import create_group, create_policy, make_key, refused, snapshot
from tests.conftest import Tenant

GROUP_FIELDS = "id name description members createdAt updatedAt"


async def test_rest_crud_with_events(tenant: Tenant) -> None:
    alice = await make_key(tenant, "alice", ["approvals:write"])
    bob = await make_key(tenant, "bob", ["approvals:write"])
    async with tenant.client() as c:
        created = await c.post("/api/v1/reviewer-groups",
                               json={"name": "leads", "description": "team leads", "members": [alice.id, alice.id]})
        assert created.status_code == 201, created.text
        group = created.json()
        assert group["id"].startswith("grp_") and group["members"] == [alice.id]
        assert (await c.get(f"/api/v1/reviewer-groups/{group['id']}")).json() == group
        listed = await c.get("/api/v1/reviewer-groups")
        assert [g["id"] for g in listed.json()] == [group["id"]]
        updated = await c.put(f"/api/v1/reviewer-groups/{group['id']}", json={"members": [alice.id, bob.id]})
        assert updated.status_code == 200 and updated.json()["members"] == [alice.id, bob.id]
        assert updated.json()["name"] == "leads" and updated.json()["description"] == "team leads"
        refused(await c.post("/api/v1/reviewer-groups", json={"name": "leads"}), 409, "CONFLICT", "leads")
        deleted = await c.delete(f"/api/v1/reviewer-groups/{group['id']}")
        assert deleted.status_code == 200
        refused(await c.get(f"/api/v1/reviewer-groups/{group['id']}"), 404, "NOT_FOUND")
    events = await Event.filter(organization_id=tenant.organization_id, type__startswith="reviewer_group.")
    assert [(e.type, e.data["groupId"]) for e in sorted(events, key=lambda e: e.seq)] == [
        ("reviewer_group.created", group["id"]), ("reviewer_group.updated", group["id"]),
        ("reviewer_group.deleted", group["id"])]
    assert sorted(events, key=lambda e: e.seq)[1].data["members"] == [alice.id, bob.id]


async def test_graphql_crud(tenant: Tenant) -> None:
    alice = await make_key(tenant, "alice", ["approvals:write"])
    created = await tenant.graphql(
        f"mutation($m: [String!]!) {{ createReviewerGroup(input: {{name: \"ops\", members: $m}}) "
        f"{{ {GROUP_FIELDS} }} }}",
        {"m": [alice.id]})
    assert "errors" not in created, created
    group = created["data"]["createReviewerGroup"]
    read = await tenant.graphql(f"query($id: ID!) {{ reviewerGroup(id: $id) {{ {GROUP_FIELDS} }} "
                                f"reviewerGroups {{ edges {{ node {{ id }} }} }} }}", {"id": group["id"]})
    assert read["data"]["reviewerGroup"] == group
    assert read["data"]["reviewerGroups"]["edges"] == [{"node": {"id": group["id"]}}]
    updated = await tenant.graphql(
        'mutation($id: ID!) { updateReviewerGroup(id: $id, input: {name: "oncall", description: "d"}) '
        '{ name description members } }', {"id": group["id"]})
    assert updated["data"]["updateReviewerGroup"] == {"name": "oncall", "description": "d", "members": [alice.id]}
    deleted = await tenant.graphql('mutation($id: ID!) { deleteReviewerGroup(id: $id) { id } }', {"id": group["id"]})
    assert deleted["data"]["deleteReviewerGroup"] == {"id": group["id"]}
    gone = await tenant.graphql('query($id: ID!) { reviewerGroup(id: $id) { id } }', {"id": group["id"]})
    assert gone["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_members_must_be_keys_of_the_same_organization(tenant: Tenant, other_tenant: Tenant) -> None:
    foreign = await make_key(other_tenant, "foreign", ["approvals:write"])
    mine = await make_key(tenant, "mine", ["approvals:write"])
    before = await snapshot()
    async with tenant.client() as c:
        refused(await c.post("/api/v1/reviewer-groups", json={"name": "x", "members": [mine.id, foreign.id]}),
                400, "VALIDATION_ERROR", "members[1]", foreign.id)
        refused(await c.post("/api/v1/reviewer-groups", json={"name": "x", "members": ["key_nope"]}),
                400, "VALIDATION_ERROR", "members[0]")
        refused(await c.post("/api/v1/reviewer-groups", json={"name": "x", "extra": 1}), 400, "VALIDATION_ERROR")
    out = await tenant.graphql('mutation($m: [String!]!) { createReviewerGroup(input: {name: "x", members: $m}) '
                               '{ id } }', {"m": [foreign.id]})
    assert out["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert await snapshot() == before


async def test_tenancy_and_scopes(tenant: Tenant, other_tenant: Tenant) -> None:
    group = await create_group(tenant, "leads", [])
    async with other_tenant.client() as c:
        refused(await c.get(f"/api/v1/reviewer-groups/{group['id']}"), 404, "NOT_FOUND")
        refused(await c.delete(f"/api/v1/reviewer-groups/{group['id']}"), 404, "NOT_FOUND")
        assert (await c.get("/api/v1/reviewer-groups")).json() == []
    reader = await make_key(tenant, "reader", ["policies:read"])
    async with reader.client() as c:
        assert (await c.get(f"/api/v1/reviewer-groups/{group['id']}")).status_code == 200
        refused(await c.post("/api/v1/reviewer-groups", json={"name": "y"}), 403, "FORBIDDEN", "policies:write")
    approver = await make_key(tenant, "approver", ["approvals:write"])
    async with approver.client() as c:
        refused(await c.get("/api/v1/reviewer-groups"), 403, "FORBIDDEN", "policies:read")


async def test_delete_and_shrink_refused_while_a_rule_names_the_group(tenant: Tenant) -> None:
    alice = await make_key(tenant, "alice", ["approvals:write"])
    bob = await make_key(tenant, "bob", ["approvals:write"])
    group = await create_group(tenant, "leads", [alice.id, bob.id])
    policy = await create_policy(tenant, [{"when": {"actionType": "refund"}, "approvals": 2,
                                           "approvers": ["leads"]}], name="refunds")
    assert policy["rules"][0]["approvers"] == [group["id"]]  # stored as the id: renaming is safe
    before = await snapshot()
    async with tenant.client() as c:
        refused(await c.delete(f"/api/v1/reviewer-groups/{group['id']}"), 409, "CONFLICT", policy["id"], "refunds")
        refused(await c.put(f"/api/v1/reviewer-groups/{group['id']}", json={"members": [alice.id]}),
                409, "CONFLICT", policy["id"])
    out = await tenant.graphql('mutation($id: ID!) { deleteReviewerGroup(id: $id) { id } }', {"id": group["id"]})
    assert out["errors"][0]["extensions"]["code"] == "CONFLICT" and policy["id"] in out["errors"][0]["message"]
    assert await snapshot() == before
    async with tenant.client() as c:
        renamed = await c.put(f"/api/v1/reviewer-groups/{group['id']}", json={"name": "seniors"})
        assert renamed.status_code == 200
        assert (await c.put(f"/policy/{policy['id']}", json={"rules": [{"when": {"actionType": "refund"}}]})
                ).status_code == 200
        assert (await c.delete(f"/api/v1/reviewer-groups/{group['id']}")).status_code == 200


async def test_a_policy_never_names_a_group_deleted_at_the_same_time(tenant: Tenant) -> None:
    alice = await make_key(tenant, "alice", ["approvals:write"])
    groups = [await create_group(tenant, f"g{i}", [alice.id]) for i in range(8)]

    async def name_it(c: httpx.AsyncClient, group: dict) -> int:
        rules = [{"when": {"actionType": "x"}, "approvers": [group["name"]]}]
        return (await c.post("/policy", json={"rules": rules})).status_code

    async def delete_it(c: httpx.AsyncClient, group: dict) -> int:
        return (await c.delete(f"/api/v1/reviewer-groups/{group['id']}")).status_code

    async with tenant.client() as c:
        results = await asyncio.gather(*(f(c, g) for g in groups for f in (name_it, delete_it)))
    assert set(results) <= {200, 201, 400, 409}
    existing = {g.id for g in await ReviewerGroup.filter(organization_id=tenant.organization_id)}
    for policy in await Policy.filter(organization_id=tenant.organization_id):
        assert set(policy.rules[0]["approvers"]) <= existing
    assert all((a == 201) != (b == 200) for a, b in zip(results[::2], results[1::2], strict=True))
