"""Values GraphQL lets through that the resolvers must refuse: a 400-class code, never INTERNAL, nothing stored."""

from __future__ import annotations

import logging

import pytest

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


async def test_client_mistakes_are_400_class_never_internal(tenant: Tenant) -> None:
    """Each was INTERNAL "internal error" (and an error-level traceback) before: a variable its type
    cannot hold, a subscription sent over HTTP, a body that is not a JSON object (a 500)."""
    too_big = await tenant.graphql("query($f: Int) { actions(first: $f) { edges { node { id } } } }",
                                   {"f": 2**40})  # past 64 bits the body is refused first (test_big_numbers)
    over_http = await tenant.graphql("subscription { pendingApprovals { action { id } } }")
    async with tenant.client() as c:
        bodies = [await c.post("/graphql", content=raw, headers={"Content-Type": "application/json"})
                  for raw in (b"null", b"5", b'"x"')]
    for answer in (too_big, over_http):
        assert answer["errors"][0]["extensions"]["code"] not in ("INTERNAL", None), answer
        assert answer["errors"][0]["message"] != "internal error", answer
    assert "32-bit" in too_big["errors"][0]["message"] or "Int" in too_big["errors"][0]["message"], too_big
    assert [b.status_code for b in bodies] == [400, 400, 400], [b.text for b in bodies]


async def test_a_refusal_before_any_graphql_runs_carries_the_code_of_its_status(tenant: Tenant) -> None:
    """Strawberry refuses some requests before any GraphQL runs: the answer's `extensions.code` is
    REST's name for its status (it was BAD_REQUEST whatever the status, so a 404 said BAD_REQUEST)."""
    async with tenant.client() as c:
        ide = await c.get("/graphql", headers={"Accept": "text/html"})  # GraphiQL, off outside development
        no_query = await c.get("/graphql", headers={"Accept": "application/json"})
    answers = [(r.status_code, r.json()["errors"][0]["extensions"]["code"]) for r in (ide, no_query)]
    assert answers == [(404, "NOT_FOUND"), (400, "BAD_REQUEST")], answers
    assert "send a query" in ide.json()["errors"][0]["message"], ide.text


async def test_a_clients_mistake_is_not_logged_as_an_error(tenant: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    """Strawberry logged every GraphQL error at error level with its traceback: any client could
    fill the error log with unknown ids. What is ours (an unexpected exception) is still logged."""
    caplog.set_level(logging.DEBUG)
    missing = await tenant.graphql('{ action(id: "act_doesnotexist") { id } }')
    broken = await tenant.graphql("{ nope }")
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert broken["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert [r.getMessage()[:200] for r in caplog.records if r.levelno >= logging.ERROR] == []
