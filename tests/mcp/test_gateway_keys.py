"""The idempotency key of a gateway call (`_meta["gatehouse/idempotency_key"]` or the Idempotency-Key
header) is checked as POST /actions checks its body's idempotencyKey and header."""

from __future__ import annotations

from typing import Any

from models.governance import Action
from tests.conftest import Tenant
from tests.mcp.conftest import Connect, Upstream
from tests.mcp.test_gateway import GATEWAY, RULES, register
from tests.mcp.test_native import policy

META = "gatehouse/idempotency_key"


async def test_a_stated_key_is_checked_as_rest_checks_one(tenant: Tenant, upstream: Upstream, connect: Connect) -> None:
    await register(tenant, upstream.url)
    await policy(tenant, RULES)
    async with tenant.client() as c:  # REST: the header and the body differ
        rest = await c.post("/actions", json={"type": "x", "actor": {"kind": "agent"}, "idempotencyKey": "a"},
                            headers={"Idempotency-Key": "b"})
    assert rest.status_code == 400 and rest.json()["error"] == "VALIDATION_ERROR", rest.text

    async def refused(meta: dict[str, Any], headers: dict[str, str] | None = None) -> str:
        async with connect(GATEWAY, headers=headers) as session:
            answer = await session.call_tool("read_file", {"path": "/a"}, meta=meta)
        assert answer.is_error, answer
        return str(answer.content[0].text)  # type: ignore[union-attr]

    differ = await refused({META: "a"}, {"Idempotency-Key": "b"})
    assert differ == "VALIDATION_ERROR: " + rest.json()["message"], differ
    for wrong in (42, True, {"k": 1}, ""):
        assert (await refused({META: wrong})).startswith("VALIDATION_ERROR: idempotencyKey"), wrong
    assert upstream.calls == [] and await Action.filter(type="mcp.files.read_file").count() == 0

    async with connect(GATEWAY, headers={"Idempotency-Key": "same"}) as session:  # both, equal: one call
        answers = [await session.call_tool("read_file", {"path": "/a"}, meta={META: "same"}) for _ in range(2)]
    assert [a.content[0].text for a in answers] == ["contents of /a"] * 2  # type: ignore[union-attr]
    assert upstream.count("read_file") == 1
