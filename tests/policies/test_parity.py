"""Versions, diffs, explanations and backtests over REST and over GraphQL: the same scenario, the same
answers (GraphQL's typed answers brought to the REST shape), the same errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Tenant
from tests.parity.doors import Door as BaseDoor
from tests.policies.helpers import make_policy, over, pay, update_policy

RULE = "index mode matched failedOn conditions { field expected actual holds } effect outcome"
EXPLAIN = ("action(id: $a) { explanation { policySetId decision { status } "
           f"policies {{ policyId version currentVersion name mode rules {{ {RULE} }} }} }} }}")
DIFF = ("policyVersionDiff(policyId: $p, from: $f, to: $t) { policyId from to fields { field before after } "
        "rules { added { index rule } removed { index rule } changed { index before after } } }")
BACKTEST = ("policyBacktest(input: $i) { actions changed truncated before { approved pendingApproval rejected } "
            "after { approved pendingApproval rejected } changes { actionId type before after "
            "rule { policyId ruleIndex side draft } } }")


def _counts(c: dict[str, int]) -> dict[str, int]:
    return {"approved": c["approved"], "pending_approval": c["pendingApproval"], "rejected": c["rejected"]}


class Door(BaseDoor):
    async def versions(self, policy_id: str) -> Any:
        if self.kind == "rest":
            out = await self._rest("GET", f"/policy/{policy_id}/versions")
            return out if "error" in out else [(v["version"], v["mode"], v["rules"]) for v in out]
        q = "query($p: ID!) { policy(id: $p) { versions { edges { node { version mode rules } } } } }"
        out = await self._gql(q, {"p": policy_id})
        return out if "error" in out else [(e["node"]["version"], e["node"]["mode"], e["node"]["rules"])
                                          for e in out["versions"]["edges"]]

    async def diff(self, policy_id: str, a: int, b: int) -> Any:
        if self.kind == "rest":
            return await self._rest("GET", f"/policy/{policy_id}/versions/{a}/diff/{b}")
        out = await self._gql(f"query($p: ID!, $f: Int!, $t: Int!) {{ {DIFF} }}", {"p": policy_id, "f": a, "t": b})
        if "error" in out:
            return out
        fields = {f["field"]: {"before": f["before"], "after": f["after"]} for f in out.pop("fields")}
        return {**out, "fields": fields}

    async def explain(self, action_id: str) -> Any:
        if self.kind == "rest":
            out = await self._rest("GET", f"/actions/{action_id}/explain")
            if "error" in out:
                return out
            return {"policySetId": out["policySetId"], "status": out["decision"]["status"], "policies": out["policies"]}
        out = await self._gql(f"query($a: ID!) {{ {EXPLAIN} }}", {"a": action_id})
        if "error" in out:
            return out
        found = out["explanation"]
        return {"policySetId": found["policySetId"], "status": found["decision"]["status"],
                "policies": found["policies"]}

    async def backtest(self, body: dict[str, Any]) -> Any:
        if self.kind == "rest":
            return await self._rest("POST", "/policy/backtest", body)
        out = await self._gql(f"query($i: PolicyBacktestInput!) {{ {BACKTEST} }}", {"i": body})
        if "error" in out:
            return out
        return {**out, "before": _counts(out["before"]), "after": _counts(out["after"])}


@pytest.fixture(params=["rest", "graphql"])
def door(request: pytest.FixtureRequest, tenant: Tenant) -> Door:
    return Door(tenant, request.param)


async def test_versions_diff_explain_and_backtest_in_both_doors(door: Door, tenant: Tenant) -> None:
    async with tenant.client() as c:
        policy = await make_policy(c, [over(100, require=["kyc"])])
        held = await pay(c, 500)
        await update_policy(c, policy["id"], rules=[over(1000, require=["kyc"]), {"when": {"target": "x"}}])
        await update_policy(c, policy["id"], status="archived")
    assert [(n, m) for n, m, _ in await door.versions(policy["id"])] == [(3, "enforce"), (2, "enforce"), (1, "enforce")]
    diff = await door.diff(policy["id"], 1, 2)
    assert diff["fields"] == {} and [r["index"] for r in diff["rules"]["changed"]] == [0]
    assert [r["rule"]["when"] for r in diff["rules"]["added"]] == [{"target": "x"}]
    assert (await door.diff(policy["id"], 2, 3))["fields"] == {"status": {"before": "active", "after": "archived"}}
    explained = await door.explain(held["actionId"])
    assert explained["status"] == "pending_approval" and explained["policySetId"].startswith("pset_")
    [at] = explained["policies"]
    assert (at["policyId"], at["version"], at["currentVersion"], at["mode"]) == (policy["id"], 1, 3, "enforce")
    [rule] = at["rules"]
    assert rule["matched"] and rule["failedOn"] is None and rule["outcome"] == "pending_approval"
    assert rule["conditions"][1] == {"field": "params.amount", "expected": {"gt": 100}, "actual": 500, "holds": True}
    drafted = await door.backtest({"policies": [{"rules": [over(400)]}], "type": "pay", "maxChanges": 5})
    assert drafted["actions"] == 1 and drafted["changed"] == 1 and drafted["truncated"] is False
    assert drafted["before"] == {"approved": 1, "pending_approval": 0, "rejected": 0}
    assert drafted["changes"] == [{"actionId": held["actionId"], "type": "pay", "before": "approved",
                                   "after": "pending_approval",
                                   "rule": {"policyId": "draft_0", "ruleIndex": 0, "side": "after", "draft": True}}]


async def test_errors_are_the_same_in_both_doors(door: Door, tenant: Tenant, other_tenant: Tenant) -> None:
    async with other_tenant.client() as c:
        foreign = await make_policy(c, [over(1)])
        foreign_action = await pay(c, 5)
    assert await door.versions(foreign["id"]) == {"error": "NOT_FOUND"}
    assert await door.diff(foreign["id"], 1, 1) == {"error": "NOT_FOUND"}
    assert await door.explain(foreign_action["actionId"]) == {"error": "NOT_FOUND"}
    async with tenant.client() as c:
        mine = await make_policy(c, [over(1)])
    assert await door.diff(mine["id"], 1, 7) == {"error": "NOT_FOUND"}
    assert await door.diff(mine["id"], 0, 1) == {"error": "NOT_FOUND"}
    bad = {"policies": [{"rules": [{"when": {"colour": "red"}}]}]}
    assert await door.backtest(bad) == {"error": "VALIDATION_ERROR"}
    assert await door.backtest({"remove": [foreign["id"]]}) == {"error": "VALIDATION_ERROR"}


async def test_a_list_explains_each_action_as_its_own_query_does(tenant: Tenant) -> None:
    """Explanations of a list come from one batch (a DataLoader) and match each action's own."""
    async with tenant.client() as c:
        policy = await make_policy(c, [over(100, require=["kyc"])])
        first = await pay(c, 500)
        await update_policy(c, policy["id"], rules=[over(1000)])
        second, third = await pay(c, 2000), await pay(c, 50)
    fields = "policySetId decision { status } policies { policyId version currentVersion rules { " + RULE + " } }"
    listed = await tenant.graphql("{ actions(first: 10) { edges { node { id explanation { " + fields + " } } } } }")
    assert "errors" not in listed, listed
    by_id = {e["node"]["id"]: e["node"]["explanation"] for e in listed["data"]["actions"]["edges"]}
    assert set(by_id) == {first["actionId"], second["actionId"], third["actionId"]}
    rest = Door(tenant, "rest")
    for action_id, found in by_id.items():
        alone = await rest.explain(action_id)
        assert found["policySetId"] == alone["policySetId"] and found["decision"]["status"] == alone["status"]
        assert [(p["policyId"], p["version"], p["currentVersion"]) for p in found["policies"]] == \
            [(p["policyId"], p["version"], p["currentVersion"]) for p in alone["policies"]]
    assert by_id[first["actionId"]]["policySetId"] != by_id[second["actionId"]]["policySetId"]
    assert [p["version"] for p in by_id[first["actionId"]]["policies"]] == [1]
    assert [p["version"] for p in by_id[second["actionId"]]["policies"]] == [2]
    assert by_id[third["actionId"]]["decision"]["status"] == "approved"
