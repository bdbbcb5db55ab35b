"""A time inside an entry's `changes` is written as the wire writes every timestamp (milliseconds,
`Z`): a revoked key's `revokedAt` is the text the key itself shows, a rotated webhook's
`previousSecretExpiresAt` has the same form. They read `2026-12-06T07:43:23.837256+00:00` before."""

from __future__ import annotations

import re

from tests.audit.helpers import entries
from tests.conftest import Tenant

WIRE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


async def test_times_in_changes_read_as_the_resources_own(tenant: Tenant) -> None:
    async with tenant.client() as c:
        hook = (await c.post("/api/v1/webhooks", json={"name": "hook", "url": "https://example.com/hook",
                                                       "events": ["*"]})).json()
        rotated = await c.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret")
        key = (await c.post("/api/v1/api-keys", json={"name": "short-lived", "scopes": ["actions:read"]})).json()
        revoked = await c.delete(f"/api/v1/api-keys/{key['id']}")
    assert rotated.status_code == 200 and revoked.status_code == 200, (rotated.text, revoked.text)
    [revocation] = await entries(tenant, type="api_key.revoked")
    assert revocation["changes"] == {"before": {"revokedAt": None}, "after": {"revokedAt": revoked.json()["revokedAt"]}}
    assert WIRE_TIME.fullmatch(revocation["changes"]["after"]["revokedAt"]), revocation
    [rotation] = await entries(tenant, type="webhook.secret_rotated")
    assert WIRE_TIME.fullmatch(rotation["changes"]["after"]["previousSecretExpiresAt"]), rotation
