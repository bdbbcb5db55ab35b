"""Custom header values (often the receiver's own credentials) are read only by keys that may change
the webhook: a webhooks:read key sees each header's name and `********`, at both doors and through
`node`. Before, any key that could list webhooks read every `Authorization` value in full."""

from __future__ import annotations

import httpx

from tests.conftest import Tenant

HEADERS = {"Authorization": "Bearer receiver-secret-1", "X-Team": "payments"}
QUERY = """query($id: ID!) { webhook(id: $id) { headers } webhooks(first: 10) { edges { node { headers } } }
  node(id: $id) { ... on Webhook { headers } } }"""


async def _key(tenant: Tenant, scopes: list[str]) -> str:
    async with tenant.client() as c:
        made = await c.post("/api/v1/api-keys", json={"name": "-".join(scopes), "scopes": scopes})
        assert made.status_code == 201, made.text
        return str(made.json()["key"])


async def _read(tenant: Tenant, key: str, hook_id: str) -> list[dict[str, str]]:
    """The headers as this key reads them: REST get and list, GraphQL webhook, webhooks and node."""
    async with httpx.AsyncClient(base_url=tenant.base_url, headers={"Authorization": f"Bearer {key}"}) as c:
        one = await c.get(f"/api/v1/webhooks/{hook_id}")
        listed = await c.get("/api/v1/webhooks")
        graphql = await c.post("/graphql", json={"query": QUERY, "variables": {"id": hook_id}})
    assert one.status_code == listed.status_code == graphql.status_code == 200, (one.text, listed.text, graphql.text)
    data = graphql.json()["data"]
    return [one.json()["headers"], listed.json()[0]["headers"], data["webhook"]["headers"],
            data["webhooks"]["edges"][0]["node"]["headers"], data["node"]["headers"]]


async def test_a_read_only_key_sees_header_names_not_values(tenant: Tenant) -> None:
    async with tenant.client() as c:
        made = await c.post("/api/v1/webhooks", json={"name": "h", "url": "https://example.com/hook",
                                                        "events": ["*"], "headers": HEADERS})
        assert made.status_code == 201, made.text
    hook_id = made.json()["id"]
    assert made.json()["headers"] == HEADERS  # the writer that set them reads them back
    hidden = dict.fromkeys(HEADERS, "********")
    assert await _read(tenant, await _key(tenant, ["webhooks:read"]), hook_id) == [hidden] * 5
    assert await _read(tenant, await _key(tenant, ["*:read"]), hook_id) == [hidden] * 5
    assert await _read(tenant, await _key(tenant, ["webhooks:write"]), hook_id) == [HEADERS] * 5
    async with tenant.client() as c:  # reading hid nothing in the row: deliveries still carry the values
        assert (await c.get(f"/api/v1/webhooks/{hook_id}")).json()["headers"] == HEADERS
