"""API keys over REST: creation, listing, revocation, auth headers, scopes, tenancy."""

from __future__ import annotations

import orjson
from tortoise import connections

from tests.conftest import DATABASE_URL, REDIS_URL, Tenant
from tests.processes import gatehouse_env, run_cli


async def test_cli_created_key_lists_itself_with_both_header_styles(server: str, client) -> None:
    env = gatehouse_env(DATABASE_URL=DATABASE_URL, REDIS_URL=REDIS_URL)
    done = run_cli("create-org", "acme", "--json", env=env)
    assert done.returncode == 0, done.stderr
    created = orjson.loads(done.stdout)
    assert set(created) == {"organizationId", "apiKey"}
    secret = created["apiKey"]
    for headers in ({"Authorization": f"Bearer {secret}"}, {"x-apaaikey": secret}, {"x-api-key": secret}):
        response = await client.get("/api/v1/api-keys", headers=headers)
        assert response.status_code == 200, response.text
        [key] = response.json()
        assert key["scopes"] == ["admin"] and key["prefix"] == secret[:7]
        assert secret not in response.text
    rows = await connections.get("default").execute_query_dict("SELECT * FROM api_keys")
    assert rows and all(secret not in str(value) for row in rows for value in row.values())


async def test_created_key_is_shown_once_and_works_with_its_scopes(tenant: Tenant) -> None:
    async with tenant.client() as c:
        created = await c.post("/api/v1/api-keys", json={"name": "agent", "scopes": ["actions:write"]})
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["key"].startswith("sk_") and body["scopes"] == ["actions:write"]
        listed = await c.get("/api/v1/api-keys")
        assert body["key"] not in listed.text and len(listed.json()) == 2
    async with tenant.client() as c:
        c.headers["Authorization"] = f"Bearer {body['key']}"
        denied = await c.get("/api/v1/api-keys")
    assert denied.status_code == 403 and denied.json()["error"] == "FORBIDDEN"


async def test_missing_wrong_mistyped_and_revoked_keys_are_401(tenant: Tenant, client) -> None:
    mistyped = tenant.key[:-1] + ("A" if tenant.key[-1] != "A" else "B")
    for headers in ({}, {"Authorization": "Bearer sk_nope"}, {"x-api-key": mistyped}, {"Authorization": "Basic x"}):
        response = await client.get("/api/v1/api-keys", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "UNAUTHORIZED", "message": "missing, invalid or revoked API key"}
    async with tenant.client() as c:
        extra = (await c.post("/api/v1/api-keys", json={"name": "tmp", "scopes": ["admin"]})).json()
        revoked = await c.delete(f"/api/v1/api-keys/{extra['id']}")
        assert revoked.status_code == 200 and revoked.json()["revokedAt"]
        again = await c.delete(f"/api/v1/api-keys/{extra['id']}")
        assert again.status_code == 409
    response = await client.get("/api/v1/api-keys", headers={"x-api-key": extra["key"]})
    assert response.status_code == 401


async def test_other_organizations_keys_are_404(tenant: Tenant, other_tenant: Tenant) -> None:
    async with other_tenant.client() as c:
        theirs = (await c.get("/api/v1/api-keys")).json()[0]["id"]
    async with tenant.client() as c:
        assert (await c.get(f"/api/v1/api-keys/{theirs}")).status_code == 404
        assert (await c.delete(f"/api/v1/api-keys/{theirs}")).status_code == 404
    async with other_tenant.client() as c:
        assert (await c.get("/api/v1/api-keys")).status_code == 200


async def test_bad_key_bodies_are_400_and_change_nothing(tenant: Tenant) -> None:
    bodies = [
        b"{", b"[]", b'"x"', b'{"name": 5, "scopes": ["admin"]}', b'{"name": "x", "scopes": "admin"}',
        b'{"name": "x", "scopes": ["root"]}', b'{"name": "x", "scopes": []}', b'{"name": "", "scopes": ["admin"]}',
        b'{"name": "x", "scopes": ["admin"], "colour": 1}', b'{"name": "x", "scopes": ["admin"], "rateLimit": 0}',
    ]
    async with tenant.client() as c:
        for body in bodies:
            response = await c.post("/api/v1/api-keys", content=body, headers={"content-type": "application/json"})
            assert response.status_code == 400, (body, response.text)
            assert set(response.json()) == {"error", "message"}
        assert len((await c.get("/api/v1/api-keys")).json()) == 1


async def test_key_list_paginates_with_cursor(tenant: Tenant) -> None:
    async with tenant.client() as c:
        for i in range(4):
            await c.post("/api/v1/api-keys", json={"name": f"k{i}", "scopes": ["*:read"]})
        first = await c.get("/api/v1/api-keys", params={"limit": 3})
        assert len(first.json()) == 3 and first.headers["X-Next-Cursor"]
        second = await c.get("/api/v1/api-keys", params={"limit": 3, "cursor": first.headers["X-Next-Cursor"]})
        assert len(second.json()) == 2 and "X-Next-Cursor" not in second.headers
        ids = {k["id"] for k in first.json()} | {k["id"] for k in second.json()}
        assert len(ids) == 5
        assert (await c.get("/api/v1/api-keys", params={"cursor": "garbage!"})).status_code == 400
        assert (await c.get("/api/v1/api-keys", params={"limit": 500})).status_code == 400
