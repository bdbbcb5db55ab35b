"""Policy versions over REST: every create and update keeps one, diffs name what changed, archived
policies keep theirs, and another organization's policy is 404."""

from __future__ import annotations

from models.governance import PolicyVersion
from tests.conftest import Tenant
from tests.policies.helpers import make_policy, over, update_policy


async def test_each_change_keeps_a_version_and_the_diff_names_what_changed(tenant: Tenant) -> None:
    async with tenant.client() as c:
        policy = await make_policy(c, [over(100), {"when": {"actionType": "refund"}, "deny": True}])
        await update_policy(c, policy["id"], rules=[over(1000), {"when": {"actionType": "refund"}, "deny": True},
                                                    {"when": {"target": "prod"}}], description="looser")
        await update_policy(c, policy["id"], mode="observe")
        listed = await c.get(f"/policy/{policy['id']}/versions")
        assert listed.status_code == 200, listed.text
        assert [(v["version"], v["mode"], v["description"]) for v in listed.json()] == [
            (3, "observe", "looser"), (2, "enforce", "looser"), (1, "enforce", None)]
        first = listed.json()[2]
        assert first["rules"][0]["when"]["params"] == {"amount": {"gt": 100}} and first["createdBy"]
        diff = (await c.get(f"/api/v1/policy/{policy['id']}/versions/1/diff/2")).json()
        assert diff["fields"] == {"description": {"before": None, "after": "looser"}}
        assert [r["index"] for r in diff["rules"]["changed"]] == [0]
        assert diff["rules"]["changed"][0]["after"]["when"]["params"] == {"amount": {"gt": 1000}}
        assert [r["rule"]["when"] for r in diff["rules"]["added"]] == [{"target": "prod"}]
        assert diff["rules"]["removed"] == []
        back = (await c.get(f"/api/v1/policy/{policy['id']}/versions/3/diff/1")).json()
        assert back["fields"]["mode"] == {"before": "observe", "after": "enforce"}
        assert [r["index"] for r in back["rules"]["removed"]] == [2]


async def test_an_archived_policys_versions_stay_readable(tenant: Tenant) -> None:
    async with tenant.client() as c:
        policy = await make_policy(c, [over(100)])
        assert (await c.delete(f"/api/v1/policy/{policy['id']}")).status_code == 200
        listed = (await c.get(f"/api/v1/policy/{policy['id']}/versions")).json()
        assert [(v["version"], v["status"]) for v in listed] == [(2, "archived"), (1, "active")]
        one = await c.get(f"/api/v1/policy/{policy['id']}/versions/1")
        assert one.status_code == 200 and one.json()["status"] == "active"


async def test_pages_and_bad_references(tenant: Tenant, other_tenant: Tenant) -> None:
    async with tenant.client() as c:
        policy = await make_policy(c, [over(100)])
        for amount in (200, 300, 400):
            await update_policy(c, policy["id"], rules=[over(amount)])
        page = await c.get(f"/api/v1/policy/{policy['id']}/versions", params={"limit": 3})
        assert [v["version"] for v in page.json()] == [4, 3, 2]
        rest = await c.get(f"/api/v1/policy/{policy['id']}/versions",
                           params={"limit": 3, "cursor": page.headers["X-Next-Cursor"]})
        assert [v["version"] for v in rest.json()] == [1] and "X-Next-Cursor" not in rest.headers
        bad_cursor = await c.get(f"/api/v1/policy/{policy['id']}/versions", params={"cursor": "x1"})
        assert bad_cursor.status_code == 400 and bad_cursor.json()["error"] == "VALIDATION_ERROR"
        for path in ("versions/9", "versions/0", "versions/abc", "versions/1/diff/9", "versions/x/diff/1"):
            missing = await c.get(f"/api/v1/policy/{policy['id']}/{path}")
            assert missing.status_code == 404 and missing.json()["error"] == "NOT_FOUND", path
    async with other_tenant.client() as c:
        for path in ("versions", "versions/1", "versions/1/diff/2"):
            hidden = await c.get(f"/api/v1/policy/{policy['id']}/{path}")
            assert hidden.status_code == 404, path
    assert await PolicyVersion.filter(policy_id=policy["id"]).count() == 4


async def test_archiving_an_archived_policy_changes_nothing_at_either_door(tenant: Tenant) -> None:
    """A DELETE retried (or archivePolicy sent twice) added a version and a `policy.updated` audit
    entry each time, though nothing changed."""
    async with tenant.client() as c:
        policy = await make_policy(c, [over(100)])
        for _ in range(2):
            again = await c.delete(f"/api/v1/policy/{policy['id']}")
            assert again.status_code == 200 and again.json()["version"] == 2, again.text
        by_graphql = await tenant.graphql("mutation($id: ID!) { archivePolicy(id: $id) { version status } }",
                                          {"id": policy["id"]})
        assert by_graphql["data"]["archivePolicy"] == {"version": 2, "status": "archived"}, by_graphql
        listed = (await c.get(f"/api/v1/policy/{policy['id']}/versions")).json()
        entries = (await c.get("/api/v1/audit", params={"resource": policy["id"]})).json()
    assert [v["version"] for v in listed] == [2, 1]
    assert sorted(e["type"] for e in entries) == ["policy.archived", "policy.created"], entries
