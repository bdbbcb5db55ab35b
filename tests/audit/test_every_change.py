"""Acceptance 1: every kind of change makes exactly one audit entry, in both doors, carrying who,
the request and the client address; a planted credential secret appears in no entry."""

from __future__ import annotations

from collections import Counter

import pytest
from tortoise import connections

from tests.audit.doors import PLANTED, AuditDoor
from tests.audit.helpers import entries, verified
from tests.conftest import Tenant

Expected = list[tuple[str, str]]


async def _governance(door: AuditDoor, expected: Expected) -> None:
    policy = await door.policy()
    expected += [("policy.created", policy)]
    reviewed, approval = await door.propose("needs_review")
    await door.evidence(reviewed)
    await door.approve(reviewed, approval)
    refused, approval = await door.propose("needs_review")
    await door.reject(refused, approval)
    withdrawn, _ = await door.propose("needs_review")
    await door.cancel(withdrawn)
    granted, _ = await door.propose("free_action")
    await door.consume(granted)
    await door.update_policy(policy)
    await door.archive_policy(policy)
    expected += [("action.proposed", a) for a in (reviewed, refused, withdrawn, granted)]
    expected += [("action.evidence_added", reviewed), ("action.approved", reviewed), ("action.rejected", refused),
                 ("action.cancelled", withdrawn), ("action.grant_consumed", granted),
                 ("policy.updated", policy), ("policy.archived", policy)]


async def _resources(door: AuditDoor, expected: Expected) -> None:
    key = await door.api_key()
    await door.revoke_key(key)
    expected += [("api_key.created", key), ("api_key.revoked", key)]
    cruds = [
        ("agent", "/api/v1/agents", {"name": f"bot-{door.kind}"}, {"description": "d"}, "PATCH", "disable"),
        ("webhook", "/api/v1/webhooks", {"name": "h", "url": "http://127.0.0.1:9/h", "events": ["*"]},
         {"name": "h2"}, "PUT", "delete"),
        ("credential", "/api/v1/credentials", {"name": "slack", "type": "oauth", "provider": "slack",
                                               "data": {"bot_token": PLANTED}},
         {"data": {"bot_token": PLANTED + "-2"}}, "PUT", "delete"),
        ("connector", "/api/v1/connectors", {"name": "web", "type": "http"}, {"name": "web2"}, "PUT", "delete"),
        ("mcpServer", "/api/v1/mcp-servers", {"name": f"files-{door.kind}", "url": "http://127.0.0.1:9/mcp"},
         {"name": f"docs-{door.kind}"}, "PUT", "delete"),
        ("reviewerGroup", "/api/v1/reviewer-groups", {"name": "ops"}, {"description": "d"}, "PUT", "delete"),
    ]
    prefix = {"mcpServer": "mcp_server", "reviewerGroup": "reviewer_group"}
    for noun, path, create, change, verb, delete in cruds:
        made = await door.crud(noun, path, create, change, verb, delete)
        kind = prefix.get(noun, noun)
        first, last = ("registered", "disabled") if noun == "agent" else ("created", "deleted")
        expected += [(f"{kind}.{first}", made), (f"{kind}.updated", made), (f"{kind}.{last}", made)]
    hook = await door.webhook_extras()
    expected += [("webhook.created", hook), ("webhook.disabled", hook), ("webhook.enabled", hook),
                 ("webhook.secret_rotated", hook)]
    workflow, execution, retry = await door.workflow_run()
    expected += [("workflow.created", workflow), ("execution.started", execution),
                 ("execution.cancelled", execution), ("execution.retried", retry)]


@pytest.mark.parametrize("kind", ["rest", "graphql"])
async def test_every_change_makes_exactly_one_entry(tenant: Tenant, kind: str) -> None:
    door = AuditDoor(tenant, kind)
    expected: Expected = []
    await _governance(door, expected)
    await _resources(door, expected)
    report = await verified(tenant)
    found = await entries(tenant)
    assert Counter((e["type"], e["resourceId"]) for e in found) == Counter(expected)
    key_id = (await entries(tenant, type="policy.created"))[0]["keyId"]
    assert key_id is not None and key_id.startswith("key_")
    assert all((e["actor"], e["keyId"], e["clientAddress"]) == (key_id, key_id, "127.0.0.1") for e in found)
    assert all(e["requestId"] and e["hash"] and e["position"] for e in found)
    assert len({e["requestId"] for e in found}) == len(found)  # one request, one change
    assert (report["ok"], report["checked"]) == (True, len(found))


async def test_a_planted_credential_secret_is_in_no_entry(tenant: Tenant) -> None:
    for kind in ("rest", "graphql"):
        await _resources(AuditDoor(tenant, kind), [])
    await verified(tenant)
    rows = await connections.get("default").execute_query_dict("SELECT string_agg(t::text, '') AS all FROM "
                                                               "audit_entries t")
    text = rows[0]["all"]
    assert "credential.updated" in text and "bot_token" in text  # the entries are there, the data is not
    assert PLANTED not in text
