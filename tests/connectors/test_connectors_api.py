"""Connector instances and the catalogue: document 002's bodies as written, JSON Schemas that are
real, credentials of the right organization and provider only, config checked, tenancy, scopes."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from models.connectors import Connector
from models.events import Event
from tests.conftest import Tenant
from tests.connectors.test_credentials_api import DOC_CREDENTIAL

DOC_CONNECTOR = {"name": "Production Slack", "type": "slack", "credentialId": "cred_123",
                 "config": {"defaultChannel": "#general"}}
CATALOGUE_ACTIONS = {
    "slack": {"send_message", "update_message", "add_reaction"},
    "smtp": {"send_email"},
    "stripe": {"create_customer", "create_invoice", "create_invoice_item", "create_payment_intent",
               "retrieve_customer"},
    "discord": {"send_message", "edit_message", "send_webhook"},
    "http": {"request"},
    "custom_api": set(),
}
CREDENTIAL_TYPES = {"slack": "oauth", "smtp": "custom", "stripe": "api_key", "discord": "token", "http": "custom"}


async def test_catalogue_lists_every_type_with_real_json_schemas(tenant: Tenant) -> None:
    async with tenant.client() as c:
        response = await c.get("/api/v1/connectors?available=true")
    assert response.status_code == 200
    catalogue = {entry["type"]: entry for entry in response.json()}
    assert {t: {a["name"] for a in e["actions"]} for t, e in catalogue.items()} == CATALOGUE_ACTIONS
    for kind, credential_type in CREDENTIAL_TYPES.items():
        assert catalogue[kind]["credentialType"] == credential_type
    assert catalogue["slack"]["requiredFields"] == ["bot_token"]
    assert catalogue["smtp"]["requiredFields"] == ["host", "port", "user", "password"]
    for entry in catalogue.values():
        Draft202012Validator.check_schema(entry["configSchema"])
        for action in entry["actions"]:
            assert action["description"]
            Draft202012Validator.check_schema(action["inputSchema"])
            Draft202012Validator.check_schema(action["outputSchema"])
            assert action["inputSchema"]["type"] == "object"
    graphql = await tenant.graphql("{ connectorCatalogue { type credentialType actions { name inputSchema } } }")
    assert {e["type"] for e in graphql["data"]["connectorCatalogue"]} == set(CATALOGUE_ACTIONS)


async def test_document_connector_body_works_as_written(tenant: Tenant) -> None:
    async with tenant.client() as c:
        credential = (await c.post("/api/v1/credentials", json=DOC_CREDENTIAL)).json()
        created = await c.post("/api/v1/connectors", json={**DOC_CONNECTOR, "credentialId": credential["id"]})
        assert created.status_code == 201, created.text
        body = created.json()
        listed = (await c.get("/api/v1/connectors")).json()
        renamed = await c.put(f"/api/v1/connectors/{body['id']}", json={"name": "Slack", "config": {}})
    assert body["id"].startswith("conn_") and body["config"] == {"defaultChannel": "#general"}
    assert {a["name"] for a in body["actions"]} == CATALOGUE_ACTIONS["slack"]
    assert [item["id"] for item in listed] == [body["id"]] and "actions" not in listed[0]
    assert renamed.status_code == 200 and renamed.json()["name"] == "Slack" and renamed.json()["config"] == {}
    assert [e.type for e in await Event.filter(type__startswith="connector.").order_by("seq")] == [
        "connector.created", "connector.updated"]


async def test_credentials_of_another_organization_or_provider_are_refused(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    async with other_tenant.client() as c:
        foreign = (await c.post("/api/v1/credentials", json=DOC_CREDENTIAL)).json()
    async with tenant.client() as c:
        stripe = (await c.post("/api/v1/credentials", json={
            "name": "s", "type": "api_key", "provider": "stripe", "data": {"secret_key": "sk_test_1"}})).json()
        other_org = await c.post("/api/v1/connectors", json={**DOC_CONNECTOR, "credentialId": foreign["id"]})
        wrong = await c.post("/api/v1/connectors", json={**DOC_CONNECTOR, "credentialId": stripe["id"]})
        none = await c.post("/api/v1/connectors", json={"name": "s", "type": "slack"})
        mine = (await c.post("/api/v1/connectors", json={"name": "x", "type": "stripe",
                                                        "credentialId": stripe["id"]})).json()
        swap = await c.put(f"/api/v1/connectors/{mine['id']}", json={"credentialId": foreign["id"]})
    assert other_org.status_code == 400 and "not found" in other_org.json()["message"]
    assert wrong.status_code == 400 and "'stripe'" in wrong.json()["message"]
    assert none.status_code == 400 and "credentialId is required" in none.json()["message"]
    assert swap.status_code == 400
    assert await Connector.filter(organization_id=tenant.organization_id).count() == 1


@pytest.mark.parametrize(("body", "named"), [
    ({"name": "x", "type": "telegram"}, "type must be one of"),
    ({"name": "x", "type": "discord", "config": {"defaultChannelId": 5}}, "config.defaultChannelId"),
    ({"name": "x", "type": "discord", "config": {"surprise": True}}, "config"),
    ({"name": "x", "type": "http", "config": {"baseUrl": "http://169.254.169.254/"}}, "config.baseUrl"),
    ({"name": "x", "type": "custom_api", "config": {"actions": {}}}, "config.actions"),
    ({"name": "", "type": "http"}, "name"),
])
async def test_bad_connector_bodies_are_400(tenant: Tenant, body: dict, named: str) -> None:
    async with tenant.client() as c:
        if body["type"] == "custom_api":
            credential = (await c.post("/api/v1/credentials", json={
                "name": "c", "type": "custom", "provider": "custom_api", "data": {"headers": {"X-K": "v"}}})).json()
            body = {**body, "credentialId": credential["id"]}
        response = await c.post("/api/v1/connectors", json=body)
    assert response.status_code == 400, response.text
    assert named in response.json()["message"]
    assert not await Connector.exists()


async def test_another_organizations_connector_is_not_found_in_either_door(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    async with tenant.client() as c:
        created = (await c.post("/api/v1/connectors", json={"name": "web", "type": "http"})).json()
    async with other_tenant.client() as c:
        assert (await c.get("/api/v1/connectors")).json() == []
        for method, path in [("GET", ""), ("PUT", ""), ("DELETE", ""), ("GET", "/calls"),
                             ("POST", "/actions/request")]:
            response = await c.request(method, f"/api/v1/connectors/{created['id']}{path}",
                                       json={"input": {"url": "http://127.0.0.1:9/"}} if "actions" in path else {})
            assert response.status_code == 404, (method, path, response.text)
    gql = await other_tenant.graphql("query($id: ID!) { connector(id: $id) { id } }", {"id": created["id"]})
    assert gql["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert await Connector.filter(id=created["id"], name="web").exists()


async def test_scopes_are_enforced(tenant: Tenant) -> None:
    async with tenant.client() as c:
        reader = (await c.post("/api/v1/api-keys", json={"name": "r", "scopes": ["connectors:read"]})).json()
        created = (await c.post("/api/v1/connectors", json={"name": "web", "type": "http"})).json()
        headers = {"Authorization": f"Bearer {reader['key']}"}
        assert (await c.get("/api/v1/connectors", headers=headers)).status_code == 200
        denied_create = await c.post("/api/v1/connectors", json={"name": "w", "type": "http"}, headers=headers)
        denied_run = await c.post(f"/api/v1/connectors/{created['id']}/actions/request",
                                  json={"input": {"url": "http://127.0.0.1:9/"}}, headers=headers)
    assert denied_create.status_code == 403 and denied_run.status_code == 403


async def test_graphql_connector_lifecycle(tenant: Tenant) -> None:
    async with tenant.client() as c:
        credential = (await c.post("/api/v1/credentials", json=DOC_CREDENTIAL)).json()
    created = await tenant.graphql(
        "mutation($i: CreateConnectorInput!) { createConnector(input: $i) { id name credentialId config "
        "actions { name } } }",
        {"i": {"name": "Production Slack", "type": "slack", "credentialId": credential["id"],
               "config": {"defaultChannel": "#general"}}})
    connector = created["data"]["createConnector"]
    assert connector["credentialId"] == credential["id"] and len(connector["actions"]) == 3
    updated = await tenant.graphql(
        "mutation($id: ID!) { updateConnector(id: $id, input: {name: \"Renamed\"}) { name } }", {"id": connector["id"]})
    assert updated["data"]["updateConnector"]["name"] == "Renamed"
    wrong = await tenant.graphql(
        "mutation($i: CreateConnectorInput!) { createConnector(input: $i) { id } }",
        {"i": {"name": "x", "type": "stripe", "credentialId": credential["id"]}})
    assert wrong["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    listed = await tenant.graphql("{ connectors { edges { node { id } } } }")
    assert [e["node"]["id"] for e in listed["data"]["connectors"]["edges"]] == [connector["id"]]
    deleted = await tenant.graphql("mutation($id: ID!) { deleteConnector(id: $id) { id } }", {"id": connector["id"]})
    assert deleted["data"]["deleteConnector"]["id"] == connector["id"] and not await Connector.exists()
