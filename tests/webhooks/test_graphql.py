"""Webhooks over GraphQL: the same operations and rules as REST."""

from __future__ import annotations

from tests.conftest import Tenant
from tests.webhooks.receiver import Reply, eventually, receiving, verify_signature

HOOK_FIELDS = "id name url events headers active disabledReason retryPolicy { maxAttempts backoffMs }"


async def test_graphql_webhook_lifecycle(tenant: Tenant, other_tenant: Tenant) -> None:
    async with receiving() as receiver:
        receiver.answer(500)
        created = await tenant.graphql(
            "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { secret webhook { " + HOOK_FIELDS + " } } }",
            {"i": {"name": "gql", "url": receiver.url, "events": ["webhook.*"], "headers": {"X-T": "1"},
                   "retryPolicy": {"maxAttempts": 3, "backoffMs": 20}}},
        )
        hook = created["data"]["createWebhook"]["webhook"]
        secret = created["data"]["createWebhook"]["secret"]
        assert hook["retryPolicy"] == {"maxAttempts": 3, "backoffMs": 20} and hook["headers"] == {"X-T": "1"}
        tested = await tenant.graphql("mutation($id: ID!) { testWebhook(id: $id) { id status } }", {"id": hook["id"]})
        delivery_id = tested["data"]["testWebhook"]["id"]
        await eventually(lambda: len(receiver.requests) == 2)
        assert {r.delivery_id for r in receiver.requests} == {delivery_id}
        assert all(verify_signature(r.body, r.headers["X-Webhook-Signature"], secret) for r in receiver.requests)
        query = ("query($id: ID!) { webhookDeliveries(webhookId: $id) { edges { node { id status attempts "
                 "attemptLog { attempt statusCode durationMs error } } } } }")
        await eventually(lambda: _status(tenant, query, hook["id"], "succeeded"))
        [edge] = (await tenant.graphql(query, {"id": hook["id"]}))["data"]["webhookDeliveries"]["edges"]
        assert [a["statusCode"] for a in edge["node"]["attemptLog"]] == [500, 200]
        foreign = await other_tenant.graphql(query, {"id": hook["id"]})
        assert foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        foreign = await other_tenant.graphql(
            "mutation($w: ID!, $d: ID!) { redeliverWebhook(webhookId: $w, deliveryId: $d) { id } }",
            {"w": hook["id"], "d": delivery_id},
        )
        assert foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        receiver.default = Reply(200)
        again = await tenant.graphql(
            "mutation($w: ID!, $d: ID!) { redeliverWebhook(webhookId: $w, deliveryId: $d) { id status } }",
            {"w": hook["id"], "d": delivery_id},
        )
        assert again["data"]["redeliverWebhook"] == {"id": delivery_id, "status": "pending"}
        await eventually(lambda: len(receiver.requests) == 3)
    rotated = await tenant.graphql("mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }", {"id": hook["id"]})
    assert rotated["data"]["rotateWebhookSecret"]["secret"] != secret
    recovered = await tenant.graphql(
        'mutation($id: ID!) { recoverWebhook(id: $id, since: "2020-01-01T00:00:00Z") }', {"id": hook["id"]}
    )
    assert recovered["data"]["recoverWebhook"] == 0
    updated = await tenant.graphql(
        "mutation($id: ID!) { updateWebhook(id: $id, input: {active: false, retryPolicy: null}) { active retryPolicy { maxAttempts } } }",  # noqa: E501
        {"id": hook["id"]},
    )
    assert updated["data"]["updateWebhook"] == {"active": False, "retryPolicy": None}
    enabled = await tenant.graphql("mutation($id: ID!) { enableWebhook(id: $id) { active } }", {"id": hook["id"]})
    assert enabled["data"]["enableWebhook"]["active"] is True
    bad = await tenant.graphql(
        'mutation { createWebhook(input: {name: "x", url: "http://u:p@h", events: ["*"]}) { secret } }'
    )
    assert bad["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    listed = await tenant.graphql("{ webhooks { edges { node { id } } } }")
    assert [e["node"]["id"] for e in listed["data"]["webhooks"]["edges"]] == [hook["id"]]
    deleted = await tenant.graphql("mutation($id: ID!) { deleteWebhook(id: $id) { id } }", {"id": hook["id"]})
    assert deleted["data"]["deleteWebhook"]["id"] == hook["id"]
    one = await tenant.graphql("query($id: ID!) { webhook(id: $id) { id } }", {"id": hook["id"]})
    assert one["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def _status(tenant: Tenant, query: str, hook_id: str, status: str) -> bool:
    edges = (await tenant.graphql(query, {"id": hook_id}))["data"]["webhookDeliveries"]["edges"]
    return bool(edges) and edges[0]["node"]["status"] == status


async def test_graphql_recover_accepts_a_naive_timestamp_as_utc(tenant: Tenant) -> None:
    created = await tenant.graphql(
        'mutation { createWebhook(input: {name: "n", url: "https://example.com/h", events: ["*"]}) '
        "{ webhook { id } } }"
    )
    hook_id = created["data"]["createWebhook"]["webhook"]["id"]
    result = await tenant.graphql(
        'mutation($id: ID!) { recoverWebhook(id: $id, since: "2024-01-01T00:00:00") }', {"id": hook_id}
    )
    assert result.get("errors") is None and result["data"]["recoverWebhook"] == 0
