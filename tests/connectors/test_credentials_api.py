"""Credentials over REST and GraphQL: document 002's body as written, sealed storage, sanitized
reads, per-provider required fields, tenancy, scopes, and delete refused while in use."""

from __future__ import annotations

import re

import pytest

from app.core.crypto import Keyring
from models.connectors import Credential
from models.events import Event
from resolvers.credentials.sealing import associated_data
from tests.conftest import TEST_ENCRYPTION_KEYS, MakeTenant, Tenant

DOC_CREDENTIAL = {  # document 002, "Create Credential", as written
    "name": "Slack Bot Token",
    "description": "Production Slack bot",
    "type": "oauth",
    "provider": "slack",
    "data": {"bot_token": "xoxb-xxxxxxxxxxxxx", "app_id": "A01234567"},
    "metadata": {"scopes": ["chat:write", "channels:read"]},
}
SANITIZED_KEYS = {"id", "name", "description", "type", "provider", "fields", "fingerprint", "keyId", "metadata",
                  "createdAt", "updatedAt"}


async def test_document_body_creates_a_sealed_credential_read_back_sanitized(tenant: Tenant) -> None:
    async with tenant.client() as c:
        created = await c.post("/api/v1/credentials", json=DOC_CREDENTIAL)
        assert created.status_code == 201, created.text
        body = created.json()
        listed = (await c.get("/api/v1/credentials")).json()
        fetched = (await c.get(f"/api/v1/credentials/{body['id']}")).json()
    assert set(body) == SANITIZED_KEYS
    assert body["id"].startswith("cred_") and body["fields"] == ["app_id", "bot_token"]
    assert re.fullmatch(r"[0-9a-f]{12}", body["fingerprint"]) and body["keyId"] == "test"
    assert body["metadata"] == DOC_CREDENTIAL["metadata"] and body["provider"] == "slack"
    assert listed == [body] and fetched == body
    row = await Credential.get(id=body["id"])
    assert "xoxb" not in row.sealed and row.sealed.startswith("v1.test.")
    opened = Keyring.parse(TEST_ENCRYPTION_KEYS).decrypt(row.sealed, associated_data(tenant.organization_id, row.id))
    assert b"xoxb-xxxxxxxxxxxxx" in opened
    [event] = await Event.filter(type="credential.created")
    assert event.data["credentialId"] == body["id"] and "xoxb" not in str(event.data)


async def test_put_replaces_data_and_fields_and_changes_the_fingerprint(tenant: Tenant) -> None:
    async with tenant.client() as c:
        created = (await c.post("/api/v1/credentials", json=DOC_CREDENTIAL)).json()
        updated = await c.put(f"/api/v1/credentials/{created['id']}",
                              json={"name": "Renamed", "data": {"bot_token": "xoxb-new"}})
        same = await c.put(f"/api/v1/credentials/{created['id']}", json={"description": None})
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "Renamed" and updated.json()["fields"] == ["bot_token"]
    assert updated.json()["fingerprint"] != created["fingerprint"]
    assert same.json()["fingerprint"] == updated.json()["fingerprint"] and same.json()["description"] is None
    [event, _] = await Event.filter(type="credential.updated").order_by("seq")
    assert event.data["changed"] == ["name", "data"]


@pytest.mark.parametrize(("provider", "data", "named"), [
    ("slack", {"app_id": "A1"}, "data.bot_token"),
    ("slack", {"bot_token": ""}, "data.bot_token"),
    ("smtp", {"host": "mail.example.com", "user": "u", "password": "p"}, "data.port"),
    ("smtp", {"host": "mail.example.com", "port": 70000, "user": "u", "password": "p"}, "data.port"),
    ("stripe", {"publishable_key": "pk"}, "data.secret_key"),
    ("discord", {}, "data.bot_token"),
    ("http", {"username": "u"}, "data.password"),
    ("http", {"apiKey": "k"}, "data.header"),
    ("http", {"other": "x"}, "token"),
    # sent in headers: stored before, every call then failed naming the URL, not the credential
    ("http", {"token": "abc\r\nX-Inject: 1"}, "data.token"),
    ("http", {"token": "caf\u00e9"}, "data.token"),
    ("http", {"apiKey": "k", "header": "Bad Name"}, "data.header"),
    ("http", {"apiKey": "k\n", "header": "X-Key"}, "data.apiKey"),
    ("http", {"username": "a:b", "password": "p"}, "data.username"),
    ("custom_api", {"headers": "X-Key: 1"}, "data.headers"),
    ("custom_api", {"headers": {"X-Key": 1}}, "X-Key"),
])
async def test_required_fields_are_checked_per_provider(
    tenant: Tenant, provider: str, data: dict, named: str
) -> None:
    body = {"name": "c", "type": "custom", "provider": provider, "data": data}
    async with tenant.client() as c:
        response = await c.post("/api/v1/credentials", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "VALIDATION_ERROR" and named in response.json()["message"]
    assert not await Credential.exists()


@pytest.mark.parametrize("body", [
    {"name": "c", "type": "magic", "provider": "slack", "data": {"bot_token": "x"}},
    {"name": "c", "type": "oauth", "provider": "Slack!", "data": {"bot_token": "x"}},
    {"name": "c", "type": "oauth", "provider": "slack"},
    {"name": "c", "type": "oauth", "provider": "slack", "data": ["bot_token"]},
    {"name": "", "type": "oauth", "provider": "slack", "data": {"bot_token": "x"}},
    {"name": "c", "type": "oauth", "provider": "slack", "data": {"bot_token": "x" * 70_000}},
    {"name": "c", "type": "oauth", "provider": "slack", "data": {"bot_token": "x"}, "extra": 1},
])
async def test_malformed_bodies_are_400_and_store_nothing(tenant: Tenant, body: dict) -> None:
    async with tenant.client() as c:
        response = await c.post("/api/v1/credentials", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] in ("VALIDATION_ERROR", "BAD_REQUEST")
    assert not await Credential.exists()


async def test_type_and_provider_cannot_change(tenant: Tenant) -> None:
    async with tenant.client() as c:
        created = (await c.post("/api/v1/credentials", json=DOC_CREDENTIAL)).json()
        response = await c.put(f"/api/v1/credentials/{created['id']}", json={"provider": "stripe"})
    assert response.status_code == 400 and "provider cannot be changed" in response.json()["message"]


async def test_another_organizations_credential_is_not_found(tenant: Tenant, other_tenant: Tenant) -> None:
    async with tenant.client() as c:
        created = (await c.post("/api/v1/credentials", json=DOC_CREDENTIAL)).json()
    async with other_tenant.client() as c:
        assert (await c.get("/api/v1/credentials")).json() == []
        for method in ("GET", "PUT", "DELETE"):
            response = await c.request(method, f"/api/v1/credentials/{created['id']}", json={"name": "x"})
            assert response.status_code == 404, (method, response.text)
    assert await Credential.filter(id=created["id"], name=DOC_CREDENTIAL["name"]).exists()


async def test_scopes_are_enforced(tenant: Tenant, make_tenant: MakeTenant) -> None:
    async with tenant.client() as c:
        reader = (await c.post("/api/v1/api-keys", json={"name": "r", "scopes": ["credentials:read"]})).json()
    headers = {"Authorization": f"Bearer {reader['key']}"}
    async with tenant.client() as c:
        assert (await c.get("/api/v1/credentials", headers=headers)).status_code == 200
        denied = await c.post("/api/v1/credentials", json=DOC_CREDENTIAL, headers=headers)
    assert denied.status_code == 403 and denied.json()["error"] == "FORBIDDEN"


async def test_delete_is_refused_while_a_connector_uses_it_naming_the_connector(tenant: Tenant) -> None:
    async with tenant.client() as c:
        credential = (await c.post("/api/v1/credentials", json=DOC_CREDENTIAL)).json()
        connector = (await c.post("/api/v1/connectors", json={
            "name": "Production Slack", "type": "slack", "credentialId": credential["id"],
            "config": {"defaultChannel": "#general"}})).json()
        refused = await c.delete(f"/api/v1/credentials/{credential['id']}")
        assert refused.status_code == 409, refused.text
        assert connector["id"] in refused.json()["message"]
        assert (await c.delete(f"/api/v1/connectors/{connector['id']}")).status_code == 200
        deleted = await c.delete(f"/api/v1/credentials/{credential['id']}")
        assert deleted.status_code == 200
        assert (await c.get(f"/api/v1/credentials/{credential['id']}")).status_code == 404
    assert [e.type for e in await Event.filter(type__startswith="credential.").order_by("seq")] == [
        "credential.created", "credential.deleted"]


CREDENTIAL_FIELDS = "id name description type provider fields fingerprint keyId metadata createdAt updatedAt"


async def test_graphql_door_has_the_same_rules(tenant: Tenant, other_tenant: Tenant) -> None:
    created = await tenant.graphql(
        f"mutation($i: CreateCredentialInput!) {{ createCredential(input: $i) {{ {CREDENTIAL_FIELDS} }} }}",
        {"i": DOC_CREDENTIAL})
    credential = created["data"]["createCredential"]
    assert credential["fields"] == ["app_id", "bot_token"] and credential["keyId"] == "test"
    listed = await tenant.graphql("{ credentials { edges { node { id fingerprint } } } }")
    assert listed["data"]["credentials"]["edges"] == [{"node": {"id": credential["id"],
                                                                "fingerprint": credential["fingerprint"]}}]
    missing = await tenant.graphql(
        "mutation($i: CreateCredentialInput!) { createCredential(input: $i) { id } }",
        {"i": {**DOC_CREDENTIAL, "data": {"app_id": "A1"}}})
    assert missing["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert "data.bot_token" in missing["errors"][0]["message"]
    updated = await tenant.graphql(
        "mutation($id: ID!) { updateCredential(id: $id, input: {data: {bot_token: \"xoxb-2\"}}) "
        "{ fields fingerprint } }",
        {"id": credential["id"]})
    assert updated["data"]["updateCredential"]["fields"] == ["bot_token"]
    foreign = await other_tenant.graphql("query($id: ID!) { credential(id: $id) { id } }", {"id": credential["id"]})
    assert foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    deleted = await tenant.graphql("mutation($id: ID!) { deleteCredential(id: $id) { id } }", {"id": credential["id"]})
    assert deleted["data"]["deleteCredential"]["id"] == credential["id"]
    assert not await Credential.exists()
