"""The gateway at /mcp/gateways/{name} in front of a real upstream MCP server started by the test."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

import pytest
from mcp import types as mcp_types
from mcp.server import Server
from mcp.shared.exceptions import MCPError
from mcp_types import HEADER_MISMATCH

from app.core.clock import utcnow
from app.core.mcp_client import MAX_TOOL_PAGES
from models.events import Event
from models.governance import Action, Approval
from models.mcp import McpCall, McpServer
from tests.agents.helpers import bound_key
from tests.agents.helpers import register as register_agent
from tests.conftest import Tenant, free_port
from tests.mcp.conftest import MODERN, Connect, Upstream, build_upstream, mcp_session, serve_upstream
from tests.mcp.test_native import REJECT, call, policy

GATEWAY = "/mcp/gateways/files"
RULES = {"name": "files", "rules": [
    {"when": {"actionType": "mcp.files.read_file"}, "approval": "auto"},
    {"when": {"actionType": "mcp.files.send_email"}, "approval": "manual", "allowEdit": True},
    {"when": {"actionType": "mcp.files.delete_everything"}, "deny": True},
]}


async def register(tenant: Tenant, url: str, name: str = "files") -> dict:
    async with tenant.client() as c:
        answer = await c.post("/api/v1/mcp-servers", json={"name": name, "url": url})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def wait_for(predicate, seconds: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.05)):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def notice(result) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(result.content[0].text)


async def test_allowed_passes_denied_is_hidden_and_refused(
    tenant: Tenant, upstream: Upstream, connect: Connect
) -> None:
    await register(tenant, upstream.url)
    await policy(tenant, RULES)
    async with connect(GATEWAY) as session:
        names = {t.name for t in (await session.list_tools()).tools}
        read = await session.call_tool("read_file", {"path": "/etc/motd"})
        denied = await session.call_tool("delete_everything", {})
    assert names == {"read_file", "send_email"}
    assert not read.is_error and read.content[0].text == "contents of /etc/motd"  # type: ignore[union-attr]
    assert denied.is_error and upstream.count("delete_everything") == 0
    assert upstream.calls == [("read_file", {"path": "/etc/motd"})]
    action = await Action.get(type="mcp.files.read_file")
    assert (action.status, action.target, action.params) == ("approved", "files", {"path": "/etc/motd"})


async def test_pending_call_runs_once_after_approval(
    tenant: Tenant, upstream: Upstream, connect: Connect
) -> None:
    await register(tenant, upstream.url)
    await policy(tenant, RULES)
    meta = {"gatehouse/idempotency_key": "mail-1"}
    args = {"to": "ceo@acme.test", "body": "hi"}
    edited = {"to": "cfo@acme.test", "body": "hi"}
    async with connect(GATEWAY) as session:
        pending = await session.call_tool("send_email", args, meta=meta)
        first = notice(pending)
        assert not pending.is_error and first["status"] == "pending_approval" and first["approval_url"]
        assert upstream.count("send_email") == 0
        action = await Action.get(id=first["action_id"])
        # the approver edits the arguments (allowEdit): the upstream gets the edited ones, once
        async with tenant.client() as c:
            approved = await c.post(f"/actions/{action.id}/approve", json={"params": edited})
        assert approved.status_code == 200, approved.text

        async def forwarded() -> bool:
            return (await McpCall.get(action_id=action.id)).status == "completed"

        await wait_for(forwarded)
        again = await session.call_tool("send_email", args, meta=meta)
    async with connect() as native:
        read = await call(native, "get_action", action_id=action.id)
    assert upstream.count("send_email") == 1 and upstream.calls[-1] == ("send_email", edited)
    assert not again.is_error and again.content[0].text == "sent to cfo@acme.test"  # type: ignore[union-attr]
    assert read["gateway_call"]["status"] == "completed" and read["edited"] is True
    assert read["effective_params"] == edited
    assert read["gateway_call"]["result"]["content"][0]["text"] == "sent to cfo@acme.test"


APPROVE_EDITED = "mutation($id: ID!, $p: JSON) { approveAction(approvalId: $id, params: $p) { id status } }"


async def test_edited_params_outside_the_tools_schema_are_refused_at_both_doors(
    tenant: Tenant, upstream: Upstream, connect: Connect
) -> None:
    """An approver's edit is checked against the input schema the tool had when the call was
    proposed: one that breaks it is 400 VALIDATION_ERROR (REST) or VALIDATION_ERROR (GraphQL),
    naming the problem, and nothing changes: the action still waits, nothing reaches the upstream.
    A valid edit is approved and forwarded as before."""
    await register(tenant, upstream.url)
    await policy(tenant, RULES)
    async with connect(GATEWAY) as session:
        action = await pending_send(tenant, session, "mail-edit")
    approval = await Approval.get(action_id=action.id)
    async with tenant.client() as c:
        wrong_type = await c.post(f"/actions/{action.id}/approve", json={"params": {"to": 5, "body": "hi"}})
        by_approval = await c.post(f"/api/v1/approvals/{approval.id}/approve", json={"params": {"to": "x@y.test"}})
    graphql = await tenant.graphql(APPROVE_EDITED, {"id": approval.id, "p": {"body": "hi"}})
    assert wrong_type.status_code == 400, wrong_type.text
    assert wrong_type.json() == {"error": "VALIDATION_ERROR", "message": "params/to: 5 is not of type 'string'"}
    assert by_approval.status_code == 400, by_approval.text
    assert by_approval.json() == {"error": "VALIDATION_ERROR", "message": "params: 'body' is a required property"}
    assert graphql["data"] is None and graphql["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", graphql
    assert graphql["errors"][0]["message"] == "params: 'to' is a required property"
    unchanged = await Action.get(id=action.id)
    assert (unchanged.status, unchanged.params, unchanged.original_params) == (
        "pending_approval", {"to": "ceo@acme.test", "body": "hi"}, None)
    assert (await Approval.get(id=approval.id)).status == "pending"
    assert (await McpCall.get(action_id=action.id)).status == "waiting"
    await asyncio.sleep(0.3)  # the forwarder would have picked up an approval by now
    assert upstream.count("send_email") == 0
    edited = {"to": "cfo@acme.test", "body": "hello"}
    valid = await tenant.graphql(APPROVE_EDITED, {"id": approval.id, "p": edited})
    assert valid["data"]["approveAction"]["status"] == "approved", valid
    assert (await settled_call(action)).status == "completed"
    assert upstream.calls == [("send_email", edited)]


async def test_an_approved_call_retried_with_its_key_is_made_once(
    tenant: Tenant, upstream: Upstream, connect: Connect
) -> None:
    """Approved at once, a call is made as it is proposed; the same key again, even at the same
    moment, reads what was recorded instead of calling twice."""
    await register(tenant, upstream.url)
    await policy(tenant, RULES)
    meta = {"gatehouse/idempotency_key": "read-1"}
    async with connect(GATEWAY) as session, connect(GATEWAY) as other:
        together = await asyncio.gather(session.call_tool("read_file", {"path": "/a"}, meta=meta),
                                        other.call_tool("read_file", {"path": "/a"}, meta=meta))
        await wait_for(lambda: McpCall.filter(status="completed").exists())
        later = await session.call_tool("read_file", {"path": "/a"}, meta=meta)
    assert upstream.count("read_file") == 1
    assert later.content[0].text == "contents of /a" and not later.is_error  # type: ignore[union-attr]
    assert all(not a.is_error for a in together), together
    assert await McpCall.all().count() == 1 and await Action.all().count() == 1


async def pending_send(tenant: Tenant, session: object, key: str) -> Action:
    """A send_email (manual approval under RULES) proposed through the gateway: its pending action."""
    pending = await session.call_tool("send_email", {"to": "ceo@acme.test", "body": "hi"},  # type: ignore[attr-defined]
                                      meta={"gatehouse/idempotency_key": key})
    return await Action.get(id=notice(pending)["action_id"])


async def settled_call(action: Action) -> McpCall:
    """The action's call row once it completed or failed."""

    async def settled() -> bool:
        return (await McpCall.get(action_id=action.id)).status in ("completed", "failed")

    await wait_for(settled)
    return await McpCall.get(action_id=action.id)


async def approve(tenant: Tenant, action: Action) -> None:
    async with tenant.client() as c:
        assert (await c.post(f"/actions/{action.id}/approve", json={})).status_code == 200


async def test_a_tool_changed_while_its_call_waited_is_not_called_on_approval(
    tenant: Tenant, upstream: Upstream, connect: Connect
) -> None:
    """The approver approved the tool as it was; if its schema changed meanwhile, the call fails
    (held back) instead of running the changed tool."""
    await register(tenant, upstream.url)
    await policy(tenant, RULES)
    async with connect(GATEWAY) as session:
        action = await pending_send(tenant, session, "mail-held")
    upstream.server._tool_manager = build_upstream(upstream.calls, send_email_schema="v2")._tool_manager
    await approve(tenant, action)
    call = await settled_call(action)
    assert call.status == "failed" and "held back" in (call.error or "") and upstream.count("send_email") == 0


async def test_a_call_goes_to_the_server_it_was_proposed_to(
    tenant: Tenant, upstream: Upstream, stateful_upstream: Upstream, connect: Connect
) -> None:
    """Renamed while its call waited, a server still gets that call, even when the agent retries
    under the old name now held by another server; and a call whose server was deleted is refused
    under a new server of the same name, not made there."""
    first = await register(tenant, upstream.url)
    await policy(tenant, RULES)
    async with connect(GATEWAY) as session:
        renamed = await pending_send(tenant, session, "mail-renamed")
        dropped = await pending_send(tenant, session, "mail-dropped")
    async with tenant.client() as c:
        assert (await c.put(f"/api/v1/mcp-servers/{first['id']}", json={"name": "files-old"})).status_code == 200
    await register(tenant, stateful_upstream.url)  # now "files"
    await approve(tenant, renamed)  # the worker or the retry below forwards it, whichever claims it first
    async with connect(GATEWAY) as session:
        retried = await session.call_tool("send_email", {"to": "ceo@acme.test", "body": "hi"},
                                          meta={"gatehouse/idempotency_key": "mail-renamed"})
    assert not retried.is_error, retried
    assert upstream.count("send_email") == 1 and stateful_upstream.count("send_email") == 0
    async with tenant.client() as c:
        assert (await c.delete(f"/api/v1/mcp-servers/{first['id']}")).status_code == 200
    await approve(tenant, dropped)
    async with connect(GATEWAY) as session:
        refused = await session.call_tool("send_email", {"to": "ceo@acme.test", "body": "hi"},
                                          meta={"gatehouse/idempotency_key": "mail-dropped"})
    assert refused.is_error and "deleted" in refused.content[0].text  # type: ignore[union-attr]
    assert stateful_upstream.count("send_email") == 0


async def test_a_call_is_not_made_on_another_upstream_its_server_was_pointed_at(
    tenant: Tenant, upstream: Upstream, stateful_upstream: Upstream, connect: Connect
) -> None:
    """The approval was for the upstream the call was proposed to: if the server's URL changed while
    the call waited, the call fails instead of running on the new upstream."""
    server = await register(tenant, upstream.url)
    await policy(tenant, RULES)
    async with connect(GATEWAY) as session:
        action = await pending_send(tenant, session, "mail-moved")
    async with tenant.client() as c:
        moved = await c.put(f"/api/v1/mcp-servers/{server['id']}", json={"url": stateful_upstream.url})
    assert moved.status_code == 200, moved.text
    await approve(tenant, action)
    call = await settled_call(action)
    assert call.status == "failed" and "URL changed" in (call.error or ""), call.error
    assert upstream.count("send_email") == 0 and stateful_upstream.count("send_email") == 0


async def test_a_call_whose_process_died_mid_call_is_failed_not_forwarding_for_ever(
    tenant: Tenant, upstream: Upstream, connect: Connect
) -> None:
    """A worker killed while it made an approved call leaves the row `calling`: the forwarders
    fail it once it is older than any attempt can take, with its event, and do not call again."""
    await register(tenant, upstream.url)
    await policy(tenant, RULES)
    async with connect(GATEWAY) as session:
        action = await pending_send(tenant, session, "mail-killed")
        # what the killed worker left: its claim, ten minutes old, and no answer
        await McpCall.filter(action_id=action.id).update(status="calling", claimed_at=utcnow() - timedelta(minutes=10))
        await approve(tenant, action)

        async def failed() -> bool:
            return (await McpCall.get(action_id=action.id)).status == "failed"

        await wait_for(failed)
        retried = await session.call_tool("send_email", {"to": "ceo@acme.test", "body": "hi"},
                                          meta={"gatehouse/idempotency_key": "mail-killed"})
    assert retried.is_error and "whether the upstream ran it is unknown" in retried.content[0].text  # type: ignore[union-attr]
    assert upstream.count("send_email") == 0
    event = await Event.get(type="mcp.call_failed")
    assert event.data["actionId"] == action.id and event.data["server"] == "files"


async def test_rejected_call_returns_the_reason(tenant: Tenant, upstream: Upstream, connect: Connect) -> None:
    await register(tenant, upstream.url)
    await policy(tenant, RULES)
    meta = {"gatehouse/idempotency_key": "mail-2"}
    async with connect(GATEWAY) as session:
        first = notice(await session.call_tool("send_email", {"to": "x@y.z", "body": "b"}, meta=meta))
        answer = await tenant.graphql(REJECT, {"id": "apr_" + first["action_id"][4:], "r": "no mass mail"})
        assert answer["data"]["rejectAction"]["status"] == "rejected"
        again = await session.call_tool("send_email", {"to": "x@y.z", "body": "b"}, meta=meta)
    assert again.is_error and "no mass mail" in again.content[0].text  # type: ignore[union-attr]
    await asyncio.sleep(1.2)  # the forwarder has had its chance
    assert upstream.count("send_email") == 0
    assert (await McpCall.get(action_id=first["action_id"])).status == "dropped"


async def test_changed_schema_is_held_back(tenant: Tenant, upstream: Upstream, connect: Connect) -> None:
    await register(tenant, upstream.url)
    await policy(tenant, RULES)
    async with connect(GATEWAY) as session:
        assert "send_email" in {t.name for t in (await session.list_tools()).tools}
    changed = build_upstream(upstream.calls, send_email_schema="v2")
    upstream.server._tool_manager = changed._tool_manager  # the upstream changes its tool under our feet
    async with connect(GATEWAY) as session:
        names = {t.name for t in (await session.list_tools()).tools}
        refused = await session.call_tool("send_email", {"to": "a@b.c", "body": "x", "bcc": "evil@x"})
    assert names == {"read_file"}
    assert refused.is_error and "held back" in refused.content[0].text  # type: ignore[union-attr]
    assert upstream.count("send_email") == 0 and await Action.filter(type="mcp.files.send_email").count() == 0


async def test_bad_input_calls_nothing(tenant: Tenant, upstream: Upstream, connect: Connect) -> None:
    await register(tenant, upstream.url)
    await policy(tenant, RULES)
    async with connect(GATEWAY) as session:
        unknown = await session.call_tool("no_such_tool", {})
        broken = await session.call_tool("read_file", {"path": 5})
    assert unknown.is_error and "no tool" in unknown.content[0].text  # type: ignore[union-attr]
    assert broken.is_error and "path" in broken.content[0].text  # type: ignore[union-attr]
    async with tenant.client() as c:
        refused = await c.post("/api/v1/mcp-servers", json={"name": "meta", "url": "http://169.254.169.254/mcp"})
        scheme = await c.post("/api/v1/mcp-servers", json={"name": "ftp", "url": "ftp://example.com/mcp"})
    assert refused.status_code == 400 and "169.254.169.254" in refused.json()["message"]
    assert scheme.status_code == 400
    assert upstream.calls == [] and await Action.all().count() == 0


LOOKUP = {"name": "lookup", "rules": [{"when": {"actionType": "mcp.files.lookup"}, "approval": "auto"}]}
MODERN_HEADERS = {"Accept": "application/json, text/event-stream", "Mcp-Protocol-Version": MODERN,
                  "Mcp-Method": "tools/call", "Mcp-Name": "lookup"}


def modern_lookup(region: str, query: str) -> dict:
    """One self-contained 2026-07-28 tools/call of the upstream's `lookup`, as a client posts it."""
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "lookup", "arguments": {"region": region, "query": query}, "_meta": meta}}


def count_listings(upstream: Upstream) -> list[None]:
    """One entry per tools/list the upstream answers from now on."""
    seen: list[None] = []
    listed = upstream.server.list_tools

    async def counted() -> object:
        seen.append(None)
        return await listed()

    upstream.server.list_tools = counted  # type: ignore[method-assign]
    return seen


async def test_param_headers_work_without_listing_the_upstream_on_each_call(tenant: Tenant, upstream: Upstream) -> None:
    """A tool whose schema routes on a header (`x-mcp-header`) is offered as declared, so the SDK's
    client mirrors the argument into `Mcp-Param-Region`; checking it does not cost a tools/list of
    the upstream per call (the SDK's own check before dispatch did, 11-13 ms a call)."""
    await register(tenant, upstream.url)
    await policy(tenant, LOOKUP)
    listings = count_listings(upstream)
    async with mcp_session(tenant.base_url + GATEWAY, tenant.key, protocol=MODERN) as session:
        offered = {t.name: t for t in (await session.list_tools()).tools}
        before = len(listings)
        answers = [await session.call_tool("lookup", {"region": "eu", "query": f"q{n}"}) for n in range(3)]
    assert offered["lookup"].input_schema["properties"]["region"]["x-mcp-header"] == "Region"
    assert [a.content[0].text for a in answers] == ["q0 in eu", "q1 in eu", "q2 in eu"]  # type: ignore[union-attr]
    assert len(listings) - before <= 1  # at most the catalogue's own refresh (its listing lives 2 s)


async def test_param_header_that_disagrees_is_refused_before_anything_happens(
    tenant: Tenant, upstream: Upstream
) -> None:
    await register(tenant, upstream.url)
    await policy(tenant, LOOKUP)
    body = modern_lookup("eu", "q")
    async with tenant.client() as c:
        wrong = await c.post(GATEWAY, json=body, headers={**MODERN_HEADERS, "Mcp-Param-Region": "us"})
        missing = await c.post(GATEWAY, json=body, headers=MODERN_HEADERS)
        right = await c.post(GATEWAY, json=body, headers={**MODERN_HEADERS, "Mcp-Param-Region": "eu"})
    for refused in (wrong, missing):
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] == HEADER_MISMATCH and "Region" in refused.json()["error"]["message"]
    assert right.status_code == 200 and right.json()["result"]["content"][0]["text"] == "q in eu", right.text
    assert upstream.calls == [("lookup", {"region": "eu", "query": "q"})]
    assert await Action.filter(type="mcp.files.lookup").count() == 1


COUNT = {"name": "count", "rules": [{"when": {"actionType": "mcp.files.count"}, "approval": "auto"}]}


async def call_count(tenant: Tenant, connect: Connect, server: Server,
                     **serving: bool) -> tuple[mcp_types.CallToolResult, McpCall]:
    """`count` called once through the gateway in front of `server` (admitted, approved at once;
    served statelessly unless `serving` says otherwise): the agent's answer and the call's record."""
    async with serve_upstream(server=server, **{"stateless": True, **serving}) as up:
        await register(tenant, up.url)
        await policy(tenant, COUNT)
        async with connect(GATEWAY) as session:
            answer = await session.call_tool("count", {})
    return answer, await McpCall.get(tool="count")


def upstream_with_an_output_schema() -> Server:
    """A low-level upstream whose `count` promises `{count: integer}` and keeps it only when asked to."""
    promised = {"type": "object", "properties": {"count": {"type": "integer"}}, "required": ["count"]}
    tool = mcp_types.Tool(name="count", input_schema={"type": "object", "properties": {"honest": {"type": "boolean"}}},
                          output_schema=promised)

    async def list_tools(_ctx: object, _params: object) -> mcp_types.ListToolsResult:
        return mcp_types.ListToolsResult(tools=[tool])

    async def call_tool(_ctx: object, params: mcp_types.CallToolRequestParams) -> mcp_types.CallToolResult:
        answer = {"count": 3} if (params.arguments or {}).get("honest") else {"count": "many"}
        return mcp_types.CallToolResult(content=[mcp_types.TextContent(type="text", text=json.dumps(answer))],
                                        structured_content=answer)

    return Server("counter", on_list_tools=list_tools, on_call_tool=call_tool)  # type: ignore[arg-type]


async def test_an_answer_outside_the_tools_output_schema_is_refused(tenant: Tenant, connect: Connect) -> None:
    """Forwarded calls check the upstream's structured answer against the schema it listed, from the
    listing the call was admitted with (the SDK client's own check listed the tools again per call)."""
    async with serve_upstream(stateless=True, server=upstream_with_an_output_schema()) as counter:
        await register(tenant, counter.url)
        await policy(tenant, COUNT)
        async with connect(GATEWAY) as session:
            kept = await session.call_tool("count", {"honest": True})
            broken = await session.call_tool("count", {})
    assert not kept.is_error and kept.structured_content == {"count": 3}, kept
    assert broken.is_error and "output schema refuses" in broken.content[0].text, broken  # type: ignore[union-attr]
    calls = await McpCall.filter(tool="count").order_by("created_at").values_list("status", flat=True)
    assert list(calls) == ["completed", "failed"]


def upstream_that_errs() -> Server:
    """A low-level upstream whose one tool answers a JSON-RPC error with a NUL in its message."""
    tool = mcp_types.Tool(name="count", input_schema={"type": "object"})

    async def list_tools(_ctx: object, _params: object) -> mcp_types.ListToolsResult:
        return mcp_types.ListToolsResult(tools=[tool])

    async def call_tool(_ctx: object, _params: mcp_types.CallToolRequestParams) -> mcp_types.CallToolResult:
        raise MCPError(mcp_types.INVALID_PARAMS, "no such\x00thing")

    return Server("erring", on_list_tools=list_tools, on_call_tool=call_tool)  # type: ignore[arg-type]


async def test_an_upstream_error_with_a_nul_is_recorded(tenant: Tenant, connect: Connect) -> None:
    """What the upstream said is recorded (its NUL replaced: no column takes one), with its event."""
    answer, call = await call_count(tenant, connect, upstream_that_errs())
    assert answer.is_error and "no such\ufffdthing" in answer.content[0].text, answer  # type: ignore[union-attr]
    assert call.status == "failed" and "no such\ufffdthing" in (call.error or "")
    event = await Event.get(type="mcp.call_failed")
    assert event.data["error"] == call.error and event.data["actionId"] == call.action_id


async def test_no_matching_rule_is_not_allow(tenant: Tenant, upstream: Upstream, connect: Connect) -> None:
    await register(tenant, upstream.url)
    async with connect(GATEWAY) as session:
        names = {t.name for t in (await session.list_tools()).tools}
        refused = await session.call_tool("read_file", {"path": "/a"})
    assert names == set() and refused.is_error and upstream.calls == []


async def test_other_organization_cannot_use_the_gateway(
    tenant: Tenant, other_tenant: Tenant, upstream: Upstream, connect: Connect
) -> None:
    await register(tenant, upstream.url)
    await policy(tenant, RULES)
    async with connect(GATEWAY, key=other_tenant.key) as session:
        refused = await session.call_tool("read_file", {"path": "/a"})
    assert refused.is_error and "not found" in refused.content[0].text  # type: ignore[union-attr]
    assert upstream.calls == []


ASK = {"name": "ask", "rules": [{"when": {"actionType": "mcp.files.ask_user"}, "approval": "auto"}]}


async def test_upstream_elicitation_is_refused(tenant: Tenant, handshake_upstream: Upstream, connect: Connect) -> None:
    """Over the handshake a stateful upstream can send requests to its client: Gatehouse refuses them."""
    await register(tenant, handshake_upstream.url)
    await policy(tenant, ASK)
    async with connect(GATEWAY) as session:
        answer = await session.call_tool("ask_user", {})
    assert handshake_upstream.count("ask_user") == 1
    assert "elicitation failed" in answer.content[0].text  # type: ignore[union-attr]
    assert "refused by Gatehouse" in answer.content[0].text  # type: ignore[union-attr]


async def test_a_modern_upstream_has_no_channel_to_ask_through(
    tenant: Tenant, stateful_upstream: Upstream, connect: Connect
) -> None:
    """On 2026-07-28, which the gateway speaks to an upstream that offers it, a request is answered
    on its own POST: the upstream has no way to send the agent's side a request at all."""
    await register(tenant, stateful_upstream.url)
    await policy(tenant, ASK)
    async with connect(GATEWAY) as session:
        answer = await session.call_tool("ask_user", {})
    assert stateful_upstream.count("ask_user") == 1 and "initialize" not in stateful_upstream.methods
    assert "elicitation failed" in answer.content[0].text and "no back-channel" in answer.content[0].text  # type: ignore[union-attr]


def posts_of(upstream: Upstream, since: int) -> list[str]:
    return upstream.methods[since:]


async def test_the_upstreams_revision_is_found_once_then_adopted(tenant: Tenant, upstream: Upstream) -> None:
    """The first session with an upstream asks which revision it speaks; later calls adopt the
    answer and send one POST each: their tools/call (the handshake cost three: initialize, its
    notification, the call), its `Mcp-Param-*` headers mirrored from the listed schema."""
    await register(tenant, upstream.url)
    await policy(tenant, {"name": "both", "rules": [
        {"when": {"actionType": "mcp.files.read_file"}, "approval": "auto"},
        {"when": {"actionType": "mcp.files.lookup"}, "approval": "auto"}]})
    async with mcp_session(tenant.base_url + GATEWAY, tenant.key, protocol=MODERN) as session:
        await session.list_tools()
        listed = len(upstream.methods)
        answers = [await session.call_tool("read_file", {"path": f"/f{n}"}) for n in range(3)]
        routed = await session.call_tool("lookup", {"region": "eu", "query": "q"})
    assert [a.content[0].text for a in answers] == ["contents of /f0", "contents of /f1", "contents of /f2"]  # type: ignore[union-attr]
    assert not routed.is_error and routed.content[0].text == "q in eu", routed  # type: ignore[union-attr]
    assert upstream.methods[:listed] == ["server/discover", "tools/list"]
    assert posts_of(upstream, listed) == ["tools/call"] * 4


async def test_an_upstream_of_the_handshake_is_still_served(
    tenant: Tenant, handshake_upstream: Upstream, connect: Connect
) -> None:
    """One that knows no `server/discover` gets the initialize handshake, remembered too: the probe
    is not repeated on each call."""
    await register(tenant, handshake_upstream.url)
    await policy(tenant, RULES)
    async with connect(GATEWAY) as session:
        names = {t.name for t in (await session.list_tools()).tools}
        answers = [await session.call_tool("read_file", {"path": f"/f{n}"}) for n in range(2)]
    assert names == {"read_file", "send_email"}
    assert [a.content[0].text for a in answers] == ["contents of /f0", "contents of /f1"]  # type: ignore[union-attr]
    assert handshake_upstream.methods.count("server/discover") == 1
    assert handshake_upstream.methods.count("initialize") == 3  # the listing's session and each call's
    assert handshake_upstream.methods.count("tools/call") == 2


READ = {"name": "read", "rules": [{"when": {"actionType": "mcp.files.read_file"}, "approval": "auto"}]}


@pytest.mark.parametrize("now_speaks", ["handshake", "modern"])
async def test_an_upstream_that_changed_its_revision_is_asked_again_not_failed(
    tenant: Tenant, stateful_upstream: Upstream, now_speaks: str
) -> None:
    """The remembered revision refused before the upstream took anything (a 2026-07-28 request a
    handshake-only server answers "Missing session ID", a handshake a modern-only one refuses): the
    call asks again and is made, once, instead of failing its approved action."""
    first = "modern" if now_speaks == "handshake" else "handshake"
    assert stateful_upstream.front is not None
    stateful_upstream.front.speaks = first
    await register(tenant, stateful_upstream.url)
    await policy(tenant, READ)
    async with mcp_session(tenant.base_url + GATEWAY, tenant.key, protocol=MODERN) as session:
        before = await session.call_tool("read_file", {"path": "/a"})
        stateful_upstream.front.speaks = now_speaks  # within the remembered revision's 60 s and the listing's 2 s
        after = await session.call_tool("read_file", {"path": "/b"})
    assert not before.is_error and not after.is_error, after
    assert after.content[0].text == "contents of /b"  # type: ignore[union-attr]
    assert stateful_upstream.calls == [("read_file", {"path": "/a"}), ("read_file", {"path": "/b"})]
    assert list(await McpCall.all().order_by("created_at").values_list("status", flat=True)) == ["completed"] * 2


def lowlevel_upstream(tools: list[mcp_types.Tool], answer: dict | None = None,
                      next_cursor: str | None = None) -> Server:
    """A low-level upstream listing `tools` (each page with `next_cursor`), every call answering `answer`."""

    async def list_tools(_ctx: object, _params: object) -> mcp_types.ListToolsResult:
        return mcp_types.ListToolsResult(tools=tools, next_cursor=next_cursor)

    async def call_tool(_ctx: object, params: mcp_types.CallToolRequestParams) -> mcp_types.CallToolResult:
        return mcp_types.CallToolResult(content=[mcp_types.TextContent(type="text", text=params.name)],
                                        structured_content=answer)

    return Server("lowlevel", on_list_tools=list_tools, on_call_tool=call_tool)  # type: ignore[arg-type]


def plain_tool(name: str) -> mcp_types.Tool:
    return mcp_types.Tool(name=name, input_schema={"type": "object"})


async def test_an_answer_with_an_integer_beyond_64_bits_is_recorded(tenant: Tenant, connect: Connect) -> None:
    """The SDK reads an upstream's integer as it is; the call's record keeps it as the nearest
    float (as any other answer's JSON is read) instead of failing to write and staying `calling`."""
    big = 123456789012345678901234567890
    answer, call = await call_count(tenant, connect, lowlevel_upstream([plain_tool("count")], {"n": big}))
    assert not answer.is_error and answer.structured_content == {"n": float(big)}, answer
    assert call.status == "completed" and call.result["structuredContent"] == {"n": float(big)}  # type: ignore[index]


# How an upstream answers: a 2026-07-28 one with a plain JSON body; one of the handshake in SSE events.
ANSWER_FORMS = pytest.mark.parametrize("serving", [{}, {"stateless": False, "handshake_only": True}],
                                       ids=["json", "sse"])


@ANSWER_FORMS
async def test_an_answer_beyond_the_size_limit_fails_the_call_and_is_not_held(
    tenant: Tenant, connect: Connect, serving: dict[str, bool], caplog: pytest.LogCaptureFixture
) -> None:
    """An upstream's answer is read up to GATEHOUSE_MCP_MAX_RESPONSE_BYTES (4 MiB), as a JSON body
    or as SSE events: past it the call fails with the reason, logged as one warning line."""
    huge = {"blob": "x" * (5 * 1024 * 1024)}
    answer, call = await call_count(tenant, connect, lowlevel_upstream([plain_tool("count")], huge), **serving)
    assert answer.is_error and call.status == "failed", answer
    assert "larger than 4194304 bytes" in (call.error or ""), call.error
    assert (await Event.get(type="mcp.call_failed")).data["error"] == call.error
    sdk_lines = [r for r in caplog.records if r.name == "mcp.client.streamable_http" and r.levelno >= logging.WARNING]
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in sdk_lines), sdk_lines


@ANSWER_FORMS
async def test_an_answer_within_the_size_limit_passes_whole(
    tenant: Tenant, connect: Connect, serving: dict[str, bool]
) -> None:
    """2 MiB, more than the SDK client's own 1 MiB default for one SSE event, arrives whole."""
    big = {"blob": "y" * (2 * 1024 * 1024)}
    answer, call = await call_count(tenant, connect, lowlevel_upstream([plain_tool("count")], big), **serving)
    assert not answer.is_error and answer.structured_content == big, answer.content
    assert call.status == "completed"


async def test_a_tool_named_with_a_nul_is_left_out_not_fatal(tenant: Tenant, connect: Connect) -> None:
    """No column takes a NUL: such a tool cannot be pinned nor called, and must not take its
    server's other tools down with it."""
    tools = [plain_tool("read_file"), plain_tool("a\x00b")]
    async with serve_upstream(stateless=True, server=lowlevel_upstream(tools)) as up:
        await register(tenant, up.url)
        await policy(tenant, {"name": "all", "rules": [{"when": {"actionType": "mcp.files.*"}, "approval": "auto"}]})
        async with connect(GATEWAY) as session:
            names = [t.name for t in (await session.list_tools()).tools]
            read = await session.call_tool("read_file", {})
    assert names == ["read_file"] and not read.is_error, read
    assert list((await McpServer.get(name="files")).tool_fingerprints) == ["read_file"]


async def test_an_upstream_that_answers_its_listing_with_an_error_is_named_with_what_it_said(
    tenant: Tenant, connect: Connect
) -> None:
    """The SDK's server refuses its own listing on the handshake revisions when a tool's output
    schema is not an object: the agent learns what the upstream said, not a bare exception name."""
    odd = mcp_types.Tool(name="odd", input_schema={"type": "object"}, output_schema={"type": "string"})
    server = lowlevel_upstream([plain_tool("count"), odd])
    async with serve_upstream(server=server, stateless=False, handshake_only=True) as up:
        await register(tenant, up.url)
        async with connect(GATEWAY) as session:
            with pytest.raises(MCPError) as refused:
                await session.list_tools()
    assert "answered its tool listing with an error: Handler returned an invalid result" in str(refused.value)


async def test_a_listing_that_never_ends_is_cut_short(tenant: Tenant, connect: Connect) -> None:
    """An upstream whose every page names a next one is followed for MAX_TOOL_PAGES pages, not for ever."""
    async with serve_upstream(stateless=True, server=lowlevel_upstream([], next_cursor="more")) as up:
        await register(tenant, up.url)
        async with connect(GATEWAY) as session:
            tools = (await session.list_tools()).tools
    assert tools == [] and up.methods.count("tools/list") == MAX_TOOL_PAGES


async def test_a_tools_fingerprint_is_the_same_over_either_revision(
    tenant: Tenant, upstream: Upstream, handshake_upstream: Upstream
) -> None:
    """Tools pinned while an upstream spoke the handshake are not held back once it speaks 2026-07-28."""
    modern, handshake = await register(tenant, upstream.url), await register(tenant, handshake_upstream.url, "old")
    for name in ("files", "old"):
        async with mcp_session(tenant.base_url + f"/mcp/gateways/{name}", tenant.key) as session:
            await session.list_tools()
    pins = {row.id: row.tool_fingerprints for row in await McpServer.filter(id__in=[modern["id"], handshake["id"]])}
    assert pins[modern["id"]] and pins[modern["id"]] == pins[handshake["id"]]


async def test_unreachable_upstream_is_never_allow(tenant: Tenant, connect: Connect) -> None:
    await register(tenant, f"http://127.0.0.1:{free_port()}/mcp")
    await policy(tenant, RULES)
    async with connect(GATEWAY) as session:
        with pytest.raises(MCPError, match="cannot be reached"):
            await session.list_tools()
        refused = await session.call_tool("read_file", {"path": "/a"})
    assert refused.is_error and "cannot be reached" in refused.content[0].text  # type: ignore[union-attr]
    assert await Action.all().count() == 0


async def test_a_key_bound_to_an_agent_uses_the_gateway_as_that_agent(
    tenant: Tenant, upstream: Upstream, connect: Connect
) -> None:
    await register(tenant, upstream.url)
    await policy(tenant, RULES)
    agent = await register_agent(tenant, "file-reader")
    key = await bound_key(tenant, agent["id"], ["actions:write"])
    async with connect(GATEWAY, key=key) as session:
        names = {t.name for t in (await session.list_tools()).tools}
        read = await session.call_tool("read_file", {"path": "/etc/hosts"})
    assert names == {"read_file", "send_email"} and not read.is_error
    action = await Action.get(type="mcp.files.read_file")
    assert (action.actor_name, action.agent_id, action.actor_verified) == ("file-reader", agent["id"], True)
