"""Only keys that can decide count towards a quorum: a group member or named approver that can never
approve (bound to an agent, lacking approvals:write, revoked) is refused, and revoking a key a rule
still needs is 409 naming the rule and the group, in both doors, with nothing changed."""

from __future__ import annotations

from models.api_keys import ApiKey
from tests.agents.helpers import bound_key, register
from tests.approvals.review_helpers import Key, create_group, create_policy, make_key, refused, snapshot
from tests.conftest import Tenant

CREATE_GROUP = 'mutation($m: [String!]!) { createReviewerGroup(input: {name: "g", members: $m}) { id } }'
REVOKE = "mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }"


async def bound_member(tenant: Tenant) -> str:
    agent = await register(tenant, "bot")
    await bound_key(tenant, agent["id"], ["actions:write"])
    return str((await ApiKey.get(agent_id=agent["id"])).id)


async def test_members_that_cannot_decide_are_refused_naming_them(tenant: Tenant) -> None:
    bot = await bound_member(tenant)
    reader = await make_key(tenant, "reader", ["*:read", "actions:write"])
    approver = await make_key(tenant, "approver", ["approvals:write"])
    admin = await make_key(tenant, "admin", ["admin"])
    group = await create_group(tenant, "ok", [approver.id, admin.id])
    before = await snapshot()
    async with tenant.client() as c:
        for members, index, member, why in [
            ([bot, reader.id, approver.id], 0, bot, "bound to an agent"),
            ([approver.id, reader.id], 1, reader.id, "approvals:write"),
            ([approver.id, "x" * 40], 1, "x" * 40, "not an API key of this organization"),  # past the id column
        ]:
            refused(await c.post("/api/v1/reviewer-groups", json={"name": "g-bad", "members": members}),
                    400, "VALIDATION_ERROR", f"members[{index}]", member, why)
            refused(await c.put(f"/api/v1/reviewer-groups/{group['id']}", json={"members": members}),
                    400, "VALIDATION_ERROR", f"members[{index}]", member, why)
            out = await tenant.graphql(CREATE_GROUP, {"m": members})
            assert out["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", out
            assert member in out["errors"][0]["message"] and why in out["errors"][0]["message"]
    assert await snapshot() == before


async def test_a_rule_counts_only_keys_that_can_decide(tenant: Tenant) -> None:
    alice = await make_key(tenant, "alice", ["approvals:write"])
    bob = await make_key(tenant, "bob", ["approvals:write"])
    reader = await make_key(tenant, "reader", ["*:read"])
    await create_group(tenant, "pair", [alice.id, bob.id])
    async with tenant.client() as c:
        assert (await c.delete(f"/api/v1/api-keys/{bob.id}")).status_code == 200  # no rule needs it yet
    before = await snapshot()
    async with tenant.client() as c:
        for extra, path, words in [
            ({"approvals": 2, "approvers": ["pair"]}, "rules[0].approvals", ("only 1",)),
            ({"approvers": [alice.id, reader.id]}, "rules[0].approvers[1]", (reader.id, "approvals:write")),
        ]:
            response = await c.post("/policy", json={"name": "need", "rules": [{"when": {"actionType": "x"},
                                                                                 **extra}]})
            refused(response, 400, "VALIDATION_ERROR", path, *words)
    assert await snapshot() == before


async def revoked_at(key: Key) -> object:
    return (await ApiKey.get(id=key.id)).revoked_at


async def test_revoking_a_key_a_rule_needs_is_409_naming_rule_and_group(tenant: Tenant) -> None:
    k1, k2, k3 = [await make_key(tenant, f"k{i}", ["approvals:write", "actions:read"]) for i in (1, 2, 3)]
    group = await create_group(tenant, "g2", [k1.id, k2.id])
    policy = await create_policy(tenant, [{"when": {"actionType": "y"}},
                                          {"when": {"actionType": "x"}, "approvals": 2, "approvers": ["g2"]}],
                                 name="pairs")
    before = await snapshot()
    async with tenant.client() as c:
        refused(await c.delete(f"/api/v1/api-keys/{k2.id}"), 409, "CONFLICT", k2.id, policy["id"], "pairs",
                "rules[1]", group["id"], "g2")
    out = await tenant.graphql(REVOKE, {"id": k1.id})
    assert out["errors"][0]["extensions"]["code"] == "CONFLICT", out
    assert policy["id"] in out["errors"][0]["message"] and group["id"] in out["errors"][0]["message"]
    assert await snapshot() == before and await revoked_at(k1) is None and await revoked_at(k2) is None
    async with k2.client() as c:
        assert (await c.get("/actions")).status_code == 200  # still works

    async with tenant.client() as c:
        assert (await c.put(f"/api/v1/reviewer-groups/{group['id']}", json={"members": [k1.id, k2.id, k3.id]})
                ).status_code == 200
        assert (await c.delete(f"/api/v1/api-keys/{k2.id}")).status_code == 200  # two remain: enough
        refused(await c.delete(f"/api/v1/api-keys/{k3.id}"), 409, "CONFLICT", policy["id"], group["id"])
    assert await revoked_at(k2) is not None and await revoked_at(k3) is None


async def test_revoking_a_key_named_by_a_rule_itself_is_409(tenant: Tenant) -> None:
    alice = await make_key(tenant, "alice", ["approvals:write"])
    oncall = await make_key(tenant, "oncall", ["approvals:write"])
    await create_group(tenant, "pager", [oncall.id])
    policy = await create_policy(tenant, [{"when": {"actionType": "x"}, "approvers": [alice.id],
                                           "onExpire": "escalate", "escalateTo": "pager"}], name="direct")
    async with tenant.client() as c:
        refused(await c.delete(f"/api/v1/api-keys/{alice.id}"), 409, "CONFLICT", policy["id"], "rules[0]")
        refused(await c.delete(f"/api/v1/api-keys/{oncall.id}"), 409, "CONFLICT", policy["id"], "pager")
        assert (await c.put(f"/policy/{policy['id']}", json={"rules": [{"when": {"actionType": "x"}}]})
                ).status_code == 200
        assert (await c.delete(f"/api/v1/api-keys/{alice.id}")).status_code == 200
