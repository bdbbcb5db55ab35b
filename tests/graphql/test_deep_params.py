"""Params nested deeper than can be written back are refused at every door, never stored.

orjson writes at most 255 levels, and a stored value is written nested in an event's envelope, a
GraphQL answer or a WebSocket frame. Params 252 levels deep were stored, then failed every write:
the relay after its commit (other organizations' live events waited), lists on every door, and a
subscription left without an answer; 254 levels and more were a 500."""

from __future__ import annotations

from typing import Any

import pytest

from models.governance import Action
from tests.conftest import Tenant
from tests.mcp.conftest import MODERN, mcp_session

PROPOSE = "mutation($i: ProposeActionInput!) { proposeAction(input: $i) { action { id } } }"
LIST = "{ actions(first: 5) { edges { node { id params } } } }"


def nested(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.mark.parametrize("levels", [252, 300])
async def test_params_too_deep_to_write_back_are_refused_at_every_door(tenant: Tenant, levels: int) -> None:
    body = {"type": "deep", "actor": {"kind": "agent", "name": "bot"}, "params": nested(levels)}
    async with tenant.client() as c:
        by_rest = await c.post("/api/v1/actions", json=body)
    by_graphql = await tenant.graphql(PROPOSE, {"i": body})
    assert by_rest.status_code == 400 and by_rest.json()["error"] == "VALIDATION_ERROR", by_rest.text
    assert by_graphql["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", by_graphql
    if levels < 255:  # the SDK's client itself writes no deeper
        async with mcp_session(tenant.base_url + "/mcp", tenant.key, protocol=MODERN) as agent:
            by_mcp = await agent.call_tool("propose_action", {"type": "deep", "params": nested(levels)})
        assert by_mcp.is_error and "VALIDATION_ERROR" in by_mcp.content[0].text, by_mcp  # type: ignore[union-attr]
    assert not await Action.filter(type="deep").exists()


async def test_params_within_the_limit_are_stored_and_listed_everywhere(tenant: Tenant) -> None:
    body = {"type": "deep", "actor": {"kind": "agent", "name": "bot"}, "params": nested(200)}
    async with tenant.client() as c:
        stored = await c.post("/api/v1/actions", json=body)
        listed = await c.get("/api/v1/actions")
    assert stored.status_code == 201, stored.text
    assert listed.status_code == 200 and listed.json()[0]["params"] == nested(200)
    assert (await tenant.graphql(LIST))["data"]["actions"]["edges"][0]["node"]["params"] == nested(200)
