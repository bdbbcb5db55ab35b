"""An SMTP credential whose port is digits str.isdigit() takes but int() refuses ("¹", "²⁵") or too
many digits for int() answered 500 INTERNAL (REST) / INTERNAL (GraphQL). Each is a 400 naming
data.port, in both doors, on create and on update, and nothing is stored or changed."""

from __future__ import annotations

from typing import Any

import pytest

from models.connectors import Credential
from resolvers.connectors.providers.smtp import send_email
from resolvers.errors import Invalid
from tests.conftest import Tenant
from tests.connectors.calls import action_call

DATA = {"host": "smtp.example.com", "user": "u", "password": "p"}
BAD_PORTS: list[Any] = ["\u00b9", "\u00b2\u2075", "\u0665\u0668\u0667", "\uff15\uff18\uff17", "9" * 5000,
                        " 587", "587.0", 0, 65536, True]
CREATE = "mutation($i: CreateCredentialInput!) { createCredential(input: $i) { id } }"
UPDATE = "mutation($id: ID!, $d: JSON!) { updateCredential(id: $id, input: {data: $d}) { id } }"


@pytest.mark.parametrize("port", BAD_PORTS, ids=repr)
async def test_a_port_that_is_not_ascii_digits_is_a_400_naming_it(tenant: Tenant, port: Any) -> None:
    body = {"name": "mail", "type": "custom", "provider": "smtp", "data": {**DATA, "port": port}}
    async with tenant.client() as c:
        created = await c.post("/api/v1/credentials", json=body)
        assert created.status_code == 400, created.text
        assert created.json()["error"] == "VALIDATION_ERROR" and "data.port" in created.json()["message"]
        graphql = await tenant.graphql(CREATE, {"i": body})
        assert graphql["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", graphql
        assert "data.port" in graphql["errors"][0]["message"]
        assert await Credential.all().count() == 0
        good = await c.post("/api/v1/credentials", json={**body, "data": {**DATA, "port": "587"}})
        assert good.status_code == 201, good.text
        credential = good.json()
        updated = await c.put(f"/api/v1/credentials/{credential['id']}", json={"data": {**DATA, "port": port}})
        assert updated.status_code == 400 and "data.port" in updated.json()["message"], updated.text
        graphql = await tenant.graphql(UPDATE, {"id": credential["id"], "d": {**DATA, "port": port}})
        assert graphql["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", graphql
        after = (await c.get(f"/api/v1/credentials/{credential['id']}")).json()
    assert after["fingerprint"] == credential["fingerprint"]


@pytest.mark.parametrize("port", ["\u00b9", "9" * 5000])
async def test_a_stored_smtp_port_of_other_digits_is_invalid_not_a_crash(port: str) -> None:
    """Run-time side (providers/smtp.py _port), for a credential stored before it was checked."""
    async with action_call({"to": ["a@example.com"], "subject": "s", "text": "t"},
                           {**DATA, "port": port}) as call:
        with pytest.raises(Invalid, match="port"):
            await send_email(call)
