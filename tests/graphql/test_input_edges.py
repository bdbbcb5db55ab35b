"""Values GraphQL lets through that the resolvers must refuse: a 400-class code, never INTERNAL, nothing stored."""

from __future__ import annotations

from models.api_keys import ApiKey
from models.webhooks import Webhook
from tests.conftest import Tenant


async def test_a_header_value_that_is_not_text_is_a_validation_error(tenant: Tenant) -> None:
    result = await tenant.graphql(
        'mutation { createWebhook(input: {name: "h", url: "https://example.com/h", events: ["*"], '
        'headers: {X_A: 1}}) { secret } }'
    )
    assert result["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert not await Webhook.filter(organization_id=tenant.organization_id).exists()


async def test_a_null_webhook_name_is_refused_by_the_resolver(tenant: Tenant) -> None:
    created = await tenant.graphql(
        'mutation { createWebhook(input: {name: "h", url: "https://example.com/h", events: ["*"]}) '
        "{ webhook { id } } }"
    )
    hook_id = created["data"]["createWebhook"]["webhook"]["id"]
    result = await tenant.graphql("mutation($id: ID!) { updateWebhook(id: $id, input: {name: null}) { name } }",
                                  {"id": hook_id})
    assert result["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert (await Webhook.get(id=hook_id)).name == "h"


async def test_an_api_key_name_with_nul_is_a_validation_error(tenant: Tenant) -> None:
    before = await ApiKey.filter(organization_id=tenant.organization_id).count()
    result = await tenant.graphql(
        "mutation($n: String!) { createApiKey(input: {name: $n, scopes: [\"admin\"]}) { secret } }", {"n": "a\x00b"}
    )
    assert result["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert await ApiKey.filter(organization_id=tenant.organization_id).count() == before


async def test_an_approver_longer_than_its_column_is_a_validation_error(tenant: Tenant) -> None:
    async with tenant.client() as c:
        assert (await c.post("/policy", json={"rules": [{"when": {"actionType": "send_email"}}]})).status_code == 201
        action = (await c.post("/actions", json={"type": "send_email", "actor": {"kind": "agent"}})).json()
        answer = await c.post(f"/approve/{action['actionId']}", json={"approver": "x" * 201})
        assert answer.status_code == 400
        assert (await c.get(f"/actions/{action['actionId']}")).json()["status"] == "pending_approval"
