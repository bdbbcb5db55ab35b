"""Upstream MCP servers over REST and GraphQL (same rules, same errors), and cancel over both doors."""

from __future__ import annotations

import asyncio

from models.audit import AuditEntry
from models.events import Event
from models.mcp import McpServer
from tests.conftest import Tenant
from tests.mcp.conftest import Upstream, build_upstream
from tests.mcp.test_native import MANUAL, policy

CREATE = """mutation($input: McpServerInput!) { createMcpServer(input: $input) { id name url gatewayPath } }"""
LIST = "{ mcpServers { edges { node { id name } } } }"
CANCEL = "mutation($id: ID!) { cancelAction(actionId: $id, reason: \"gone\") { id status } }"


async def test_crud_over_both_doors(tenant: Tenant, other_tenant: Tenant, upstream: Upstream) -> None:
    created = await tenant.graphql(CREATE, {"input": {"name": "files", "url": upstream.url}})
    server = created["data"]["createMcpServer"]
    assert server["gatewayPath"] == "/mcp/gateways/files"
    async with tenant.client() as c:
        listed = (await c.get("/api/v1/mcp-servers")).json()
        duplicate = await c.post("/api/v1/mcp-servers", json={"name": "files", "url": upstream.url})
        bad_name = await c.post("/api/v1/mcp-servers", json={"name": "Files!", "url": upstream.url})
        renamed = await c.put(f"/api/v1/mcp-servers/{server['id']}", json={"name": "docs"})
    assert [s["id"] for s in listed] == [server["id"]]
    assert duplicate.status_code == 409 and duplicate.json()["error"] == "CONFLICT"
    assert bad_name.status_code == 400
    assert renamed.status_code == 200 and renamed.json()["gatewayPath"] == "/mcp/gateways/docs"
    gql_duplicate = await tenant.graphql(CREATE, {"input": {"name": "docs", "url": upstream.url}})
    assert gql_duplicate["errors"][0]["extensions"]["code"] == "CONFLICT"
    async with other_tenant.client() as c:
        assert (await c.get(f"/api/v1/mcp-servers/{server['id']}")).status_code == 404
    assert (await other_tenant.graphql(LIST))["data"]["mcpServers"]["edges"] == []
    async with tenant.client() as c:
        assert (await c.delete(f"/api/v1/mcp-servers/{server['id']}")).status_code == 200
    kinds = await Event.filter(organization_id=tenant.organization_id, type__startswith="mcp_server.").values_list(
        "type", flat=True)
    assert sorted(kinds) == ["mcp_server.created", "mcp_server.deleted", "mcp_server.updated"]


async def test_cancel_over_rest_and_graphql(tenant: Tenant) -> None:
    await policy(tenant, MANUAL)
    async with tenant.client() as c:
        ids = [(await c.post("/api/v1/actions", json={"type": "refund", "actor": {"kind": "agent"}})).json()["actionId"]
               for _ in range(2)]
        by_rest = await c.post(f"/api/v1/actions/{ids[0]}/cancel", json={"reason": "gone"})
        twice = await c.post(f"/actions/{ids[0]}/cancel", json={})
    by_graphql = await tenant.graphql(CANCEL, {"id": ids[1]})
    assert by_rest.status_code == 200 and by_rest.json()["status"] == "cancelled"
    assert twice.status_code == 409 and twice.json()["error"] == "CONFLICT"
    assert by_graphql["data"]["cancelAction"]["status"] == "cancelled"
    assert await Event.filter(type="action.cancelled").count() == 2


async def created(tenant: Tenant, body: dict) -> dict:
    async with tenant.client() as c:
        answer = await c.post("/api/v1/mcp-servers", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_names_are_whole_names(tenant: Tenant, upstream: Upstream) -> None:
    """A name ending in a newline is refused at both doors; a gateway path longer than any name
    reaches no server (it used to be cut to the first 64 characters)."""
    name = "z" * 64
    await created(tenant, {"name": name, "url": upstream.url})
    async with tenant.client() as c:
        newline = await c.post("/api/v1/mcp-servers", json={"name": "files\n", "url": upstream.url})
        longer = await c.post(f"/mcp/gateways/{name}-more", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                              headers={"Accept": "application/json, text/event-stream",
                                       "Mcp-Protocol-Version": "2025-06-18"})
    by_graphql = await tenant.graphql(CREATE, {"input": {"name": "g\n", "url": upstream.url}})
    assert newline.status_code == 400 and by_graphql["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert "not found" in longer.text and await McpServer.all().count() == 1


async def test_the_same_name_at_once_is_one_server_and_conflicts(tenant: Tenant, upstream: Upstream) -> None:
    """Six creates of one name at the same moment: one 201, the others 409 CONFLICT, never 500."""
    async with tenant.client() as c:
        answers = await asyncio.gather(*(c.post("/api/v1/mcp-servers", json={"name": "race", "url": upstream.url})
                                         for _ in range(6)))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 5, [a.text for a in answers]
    assert await McpServer.filter(name="race").count() == 1


async def test_putting_the_same_url_back_keeps_what_was_admitted(tenant: Tenant, upstream: Upstream) -> None:
    """A client that PUTs the whole object back changes nothing: a held tool stays held, and nothing
    is emitted or audited. A new URL is another server: its tools are seen afresh."""
    server = await created(tenant, {"name": "files", "url": upstream.url})
    async with tenant.client() as c:
        assert (await c.get(f"/api/v1/mcp-servers/{server['id']}/held-tools")).json() == []
        upstream.server._tool_manager = build_upstream([], send_email_schema="v2")._tool_manager
        held = (await c.get(f"/api/v1/mcp-servers/{server['id']}/held-tools")).json()
        same = await c.put(f"/api/v1/mcp-servers/{server['id']}", json={"name": "files", "url": upstream.url})
        still = (await c.get(f"/api/v1/mcp-servers/{server['id']}/held-tools")).json()
    assert [t["name"] for t in held] == ["send_email"] and same.status_code == 200, same.text
    assert [t["name"] for t in still] == ["send_email"]
    assert not await Event.filter(type="mcp_server.updated").exists()
    assert not await AuditEntry.filter(type="mcp_server.updated").exists()


async def test_two_admits_at_once_both_hold(tenant: Tenant, upstream: Upstream) -> None:
    """Each admit writes on the server's row locked: neither overwrites the other's."""
    server = await created(tenant, {"name": "files", "url": upstream.url})
    path = f"/api/v1/mcp-servers/{server['id']}"
    async with tenant.client() as c:
        await c.get(f"{path}/held-tools")  # pinned as first seen
        pinned = (await McpServer.get(id=server["id"])).tool_fingerprints
        upstream.server._tool_manager = build_upstream([], send_email_schema="v2")._tool_manager  # send_email held
        await McpServer.filter(id=server["id"]).update(tool_fingerprints={**pinned, "read_file": "0" * 64})  # and this
        assert {t["name"] for t in (await c.get(f"{path}/held-tools")).json()} == {"read_file", "send_email"}
        answers = await asyncio.gather(c.post(f"{path}/admit-tools", json={"tools": ["read_file"]}),
                                       c.post(f"{path}/admit-tools", json={"tools": ["send_email"]}))
        held = (await c.get(f"{path}/held-tools")).json()
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert held == []


async def test_a_refused_admit_changes_nothing(tenant: Tenant, upstream: Upstream) -> None:
    server = await created(tenant, {"name": "files", "url": upstream.url})
    async with tenant.client() as c:
        refused = await c.post(f"/api/v1/mcp-servers/{server['id']}/admit-tools", json={"tools": ["nope"]})
    row = await McpServer.get(id=server["id"])
    assert refused.status_code == 400 and row.tool_fingerprints == {}


async def test_a_credential_an_mcp_server_uses_cannot_be_deleted(tenant: Tenant, upstream: Upstream) -> None:
    async with tenant.client() as c:
        credential = await c.post("/api/v1/credentials", json={"name": "up", "type": "token", "provider": "http",
                                                               "data": {"token": "t0ken"}})
        assert credential.status_code == 201, credential.text
        server = await created(tenant, {"name": "files", "url": upstream.url, "credentialId": credential.json()["id"]})
        refused = await c.delete(f"/api/v1/credentials/{credential.json()['id']}")
    assert refused.status_code == 409 and server["id"] in refused.json()["message"], refused.text


ADMIT_REVIEWED = """mutation($id: ID!, $tools: [String!]!, $fingerprints: [ReviewedTool!]) {
  admitMcpServerTools(id: $id, tools: $tools, fingerprints: $fingerprints) { admittedTools } }"""


async def test_an_admit_with_the_reviewed_fingerprint_refuses_a_schema_changed_since(
    tenant: Tenant, upstream: Upstream
) -> None:
    """The operator reads a held tool's fingerprint, the upstream changes it again before the admit:
    the admit naming the fingerprint read is refused (409 CONFLICT, both doors) and pins nothing;
    naming the current one admits it."""
    server = await created(tenant, {"name": "files", "url": upstream.url})
    path = f"/api/v1/mcp-servers/{server['id']}"
    async with tenant.client() as c:
        await c.get(f"{path}/held-tools")  # pinned as first seen
        await McpServer.filter(id=server["id"]).update(tool_fingerprints={"send_email": "0" * 64})
        read = {t["name"]: t["fingerprint"] for t in (await c.get(f"{path}/held-tools")).json()}
        upstream.server._tool_manager = build_upstream([], send_email_schema="v2")._tool_manager  # changed again
        current = {t["name"]: t["fingerprint"] for t in (await c.get(f"{path}/held-tools")).json()}
        stale = await c.post(f"{path}/admit-tools", json={"tools": ["send_email"], "fingerprints": read})
        reviewed = [{"name": "send_email", "fingerprint": read["send_email"]}]
        by_graphql = await tenant.graphql(ADMIT_REVIEWED, {"id": server["id"], "tools": ["send_email"],
                                                           "fingerprints": reviewed})
        assert (await McpServer.get(id=server["id"])).tool_fingerprints["send_email"] == "0" * 64
        kept = await c.post(f"{path}/admit-tools", json={"tools": ["send_email"], "fingerprints": current})
        held = (await c.get(f"{path}/held-tools")).json()
    assert read["send_email"] != current["send_email"]
    assert stale.status_code == 409 and stale.json()["error"] == "CONFLICT", stale.text
    assert "send_email" in stale.json()["message"]
    assert by_graphql["errors"][0]["extensions"]["code"] == "CONFLICT", by_graphql
    assert kept.status_code == 200 and held == [], kept.text
    assert (await McpServer.get(id=server["id"])).tool_fingerprints["send_email"] == current["send_email"]


async def test_reviewed_fingerprints_that_cannot_be_checked_are_refused_at_both_doors(
    tenant: Tenant, upstream: Upstream
) -> None:
    server = await created(tenant, {"name": "files", "url": upstream.url})
    path = f"/api/v1/mcp-servers/{server['id']}/admit-tools"
    good = "a" * 64
    bad = [({"read_file": "A" * 64}, [{"name": "read_file", "fingerprint": "A" * 64}]),  # not lowercase hex
           ({"send_email": good}, [{"name": "send_email", "fingerprint": good}]),  # not among the tools
           (None, [{"name": "read_file", "fingerprint": good}, {"name": "read_file", "fingerprint": good}])]
    async with tenant.client() as c:
        for by_rest, by_graphql in bad:
            if by_rest is not None:
                answer = await c.post(path, json={"tools": ["read_file"], "fingerprints": by_rest})
                assert answer.status_code == 400 and answer.json()["error"] == "VALIDATION_ERROR", answer.text
            refused = await tenant.graphql(ADMIT_REVIEWED, {"id": server["id"], "tools": ["read_file"],
                                                            "fingerprints": by_graphql})
            assert refused["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", refused
        not_an_object = await c.post(path, json={"tools": ["read_file"], "fingerprints": ["read_file"]})
    assert not_an_object.status_code == 400, not_an_object.text
    assert (await McpServer.get(id=server["id"])).tool_fingerprints == {}


async def test_both_doors_refuse_the_same_input_in_the_same_words_before_asking_the_upstream(
    tenant: Tenant, upstream: Upstream
) -> None:
    server = await created(tenant, {"name": "files", "url": upstream.url})
    asked = len(upstream.methods)
    admits = [[f"t{i}" for i in range(1001)], ["a\x00b"], []]
    async with tenant.client() as c:
        by_rest = [await c.post("/api/v1/mcp-servers", json={"name": "a" * 65, "url": upstream.url})]
        by_rest += [await c.post(f"/api/v1/mcp-servers/{server['id']}/admit-tools", json={"tools": tools})
                    for tools in admits]
    by_graphql = [await tenant.graphql(CREATE, {"input": {"name": "a" * 65, "url": upstream.url}})]
    by_graphql += [await tenant.graphql(ADMIT_REVIEWED, {"id": server["id"], "tools": tools}) for tools in admits]
    for rest, graphql in zip(by_rest, by_graphql, strict=True):
        assert rest.status_code == 400 and rest.json()["error"] == "VALIDATION_ERROR", rest.text
        assert graphql["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", graphql
        assert graphql["errors"][0]["message"] == rest.json()["message"]
    assert "1001" in by_rest[1].json()["message"] and "NUL" in by_rest[2].json()["message"]
    assert len(upstream.methods) == asked and await McpServer.all().count() == 1
