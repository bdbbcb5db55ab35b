"""Governance over GraphQL: the Action type's relations, lists, tenancy and the depth limit."""

from __future__ import annotations

import logging

from app.workers import current_job
from models.governance import QuotaUsage
from resolvers.governance.quota import current_month
from tests.conftest import MakeTenant, Tenant

PROPOSE = """mutation($i: ProposeActionInput!) { proposeAction(input: $i) { replayed action { id approvalId } } }"""


async def _setup(tenant: Tenant) -> list[str]:
    await tenant.graphql(
        'mutation($r: JSON!) { createPolicy(input: {name: "p", rules: $r}) { id version } }',
        {"r": [{"when": {"actionType": "send_email"}, "require": ["review"]}]},
    )
    ids = []
    for _ in range(3):
        out = await tenant.graphql(PROPOSE, {"i": {"type": "send_email", "actor": {"kind": "agent"}}})
        ids.append(out["data"]["proposeAction"]["action"]["id"])
    return ids


async def test_action_exposes_decision_checks_approval_policies_history(tenant: Tenant) -> None:
    ids = await _setup(tenant)
    query = """{ actions(first: 10, status: "pending_approval") { edges { node {
        id status decision { status checks { name status } } checks { name required }
        approval { id status action { id } } matchedPolicies { id name version } history { kind status by }
    } } pageInfo { hasNextPage } } pendingApprovals { edges { node { id action { id } } } }
    policies(status: "active") { edges { node { id rules } } } }"""
    out = await tenant.graphql(query)
    assert "errors" not in out, out
    nodes = [e["node"] for e in out["data"]["actions"]["edges"]]
    assert sorted(n["id"] for n in nodes) == sorted(ids)
    node = nodes[0]
    assert node["decision"] == {"status": "pending_approval", "checks": [{"name": "review", "status": "pending"}]}
    assert node["approval"]["status"] == "pending" and node["approval"]["action"]["id"] == node["id"]
    assert node["matchedPolicies"][0]["name"] == "p" and node["history"][0]["kind"] == "proposed"
    assert len(out["data"]["pendingApprovals"]["edges"]) == 3


async def test_update_archive_simulate_and_idempotency(tenant: Tenant) -> None:
    created = await tenant.graphql(
        'mutation { createPolicy(input: {rules: [{when: {actionType: "x"}, deny: true}]}) { id name version } }'
    )
    policy = created["data"]["createPolicy"]
    assert policy["name"].startswith("policy-")
    sim = await tenant.graphql(
        'mutation { simulateDecision(input: {type: "x", actor: {kind: "agent"}}) { status policyIds } }'
    )
    assert sim["data"]["simulateDecision"] == {"status": "rejected", "policyIds": [policy["id"]]}
    updated = await tenant.graphql(
        'mutation($id: ID!) { updatePolicy(id: $id, input: {description: "d"}) { version description } }',
        {"id": policy["id"]},
    )
    assert updated["data"]["updatePolicy"] == {"version": 2, "description": "d"}
    await tenant.graphql("mutation($id: ID!) { archivePolicy(id: $id) { status } }", {"id": policy["id"]})
    sim = await tenant.graphql('mutation { simulateDecision(input: {type: "x", actor: {kind: "agent"}}) { status } }')
    assert sim["data"]["simulateDecision"]["status"] == "approved"
    body = {"i": {"type": "x", "actor": {"kind": "agent"}, "idempotencyKey": "k"}}
    first, again = await tenant.graphql(PROPOSE, body), await tenant.graphql(PROPOSE, body)
    assert first["data"]["proposeAction"]["action"] == again["data"]["proposeAction"]["action"]
    assert again["data"]["proposeAction"]["replayed"] is True
    bad = await tenant.graphql('mutation { createPolicy(input: {rules: [{when: {colour: "x"}}]}) { id } }')
    assert bad["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert "rules[0].when" in bad["errors"][0]["message"]


async def test_other_organization_cannot_see_or_decide(tenant: Tenant, other_tenant: Tenant) -> None:
    ids = await _setup(tenant)
    approval = "apr_" + ids[0][4:]
    for query in (
        f'{{ action(id: "{ids[0]}") {{ id }} }}',
        f'{{ approval(id: "{approval}") {{ id }} }}',
        f'mutation {{ rejectAction(approvalId: "{approval}", reason: "x") {{ id }} }}',
        f'mutation {{ submitEvidence(actionId: "{ids[0]}", checks: [{{name: "review", pass: true}}]) '
        "{ readyForApproval } }",
    ):
        out = await other_tenant.graphql(query)
        assert out["errors"][0]["extensions"]["code"] == "NOT_FOUND", (query, out)
    listed = await other_tenant.graphql(
        "{ actions { edges { node { id } } } pendingApprovals { edges { node { id } } } }"
    )
    assert listed["data"]["actions"]["edges"] == [] and listed["data"]["pendingApprovals"]["edges"] == []


async def test_query_deeper_than_the_limit_is_refused(tenant: Tenant) -> None:
    nested = "id"
    for _ in range(6):
        nested = f"approval {{ action {{ {nested} }} }}"
    out = await tenant.graphql(f'{{ action(id: "act_x") {{ {nested} }} }}')
    assert out["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "depth" in out["errors"][0]["message"].lower()


class _QueryCounter(logging.Handler):
    """Counts governance reads; the in-process workers' queries (their jobs' polls, the relay's sinks)
    are not the request's."""

    TABLES = ('"actions"', '"approvals"', '"action_history"', '"policies"')

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if current_job.get() is not None:
            return
        text = record.getMessage()
        if "SKIP LOCKED" not in text and "/* relay:" not in text and any(table in text for table in self.TABLES):
            self.count += 1


async def _queries_for_listing(tenant: Tenant) -> int:
    query = """{ actions(first: 50) { edges { node { id approval { id action { id } } matchedPolicies { id }
        history { kind } } } } }"""
    log = logging.getLogger("tortoise.db_client")
    counter, level = _QueryCounter(), log.level
    log.addHandler(counter)
    log.setLevel(logging.DEBUG)
    try:
        out = await tenant.graphql(query)
    finally:
        log.removeHandler(counter)
        log.setLevel(level)
    assert "errors" not in out, out
    return counter.count


async def test_action_lists_use_dataloaders_not_one_query_per_row(tenant: Tenant) -> None:
    await _setup(tenant)
    few = await _queries_for_listing(tenant)
    for _ in range(5):
        await tenant.graphql(PROPOSE, {"i": {"type": "send_email", "actor": {"kind": "agent"}}})
    assert few == 5 and await _queries_for_listing(tenant) == few  # list, approvals, actions, policies, history


async def test_quota_exceeded_is_usage_limit_code(make_tenant: MakeTenant) -> None:
    tenant = await make_tenant("small", "free")
    await QuotaUsage.create(organization_id=tenant.organization_id, month=current_month(), used=1000)
    out = await tenant.graphql(PROPOSE, {"i": {"type": "x", "actor": {"kind": "agent"}}})
    assert out["errors"][0]["extensions"]["code"] == "USAGE_LIMIT_EXCEEDED"
