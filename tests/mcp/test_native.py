"""The native MCP server at /mcp, driven with the SDK's own client over Streamable HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated

import httpx
import pytest
from mcp import ClientSession
from mcp_types import HEADER_MISMATCH
from pydantic import Field

from app.mcp.native import NativeServer
from app.mcp.streaming import may_wait
from models.governance import Action
from tests.agents.helpers import bound_key
from tests.agents.helpers import register as register_agent
from tests.conftest import Tenant
from tests.mcp.conftest import MODERN, Connect, serve_upstream

APPROVE = "mutation($id: ID!) { approveAction(approvalId: $id) { id status } }"
REJECT = "mutation($id: ID!, $r: String) { rejectAction(approvalId: $id, reason: $r) { id status } }"
MANUAL = {"name": "refunds", "rules": [{"when": {"actionType": "refund"}, "approval": "manual"}]}
TOOLS = {"propose_action", "wait_for_decision", "get_action", "list_actions", "cancel_action",
         "describe_policies", "request_permission"}


async def policy(tenant: Tenant, body: dict) -> None:
    async with tenant.client() as c:
        assert (await c.post("/api/v1/policy", json=body)).status_code == 201


async def proposed(action_type: str) -> Action:
    """The action a waiting tool call proposed, once it is stored (within 5 s)."""
    for _ in range(100):
        action = await Action.filter(type=action_type).first()
        if action is not None:
            return action
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {action_type} action was proposed within 5 s")


async def call(session: ClientSession, tool: str, **arguments: object) -> dict:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    if tool == "request_permission":  # Claude Code reads the text: exactly the documented shape
        assert json.loads(result.content[0].text) == result.structured_content  # type: ignore[union-attr]
    return result.structured_content


async def test_lists_tools_with_schemas_and_annotations(connect: Connect) -> None:
    async with connect() as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        templates = (await session.list_resource_templates()).resource_templates
    assert set(tools) >= TOOLS
    propose = tools["propose_action"]
    assert propose.input_schema["properties"]["wait_seconds"]["maximum"] == 40
    assert "actor" not in propose.input_schema["properties"]
    assert propose.output_schema is not None and "approval_url" in propose.output_schema["properties"]
    assert tools["get_action"].annotations is not None and tools["get_action"].annotations.read_only_hint
    assert [t.uri_template for t in templates] == ["gatehouse://actions/{action_id}"]


async def test_propose_without_and_with_waiting(tenant: Tenant, connect: Connect) -> None:
    await policy(tenant, MANUAL)
    async with connect() as session:
        free = await call(session, "propose_action", type="send_email", params={"to": "a@b.c"})
        assert free["status"] == "approved" and free["approval_url"] is None
        started = time.monotonic()
        pending = await call(session, "propose_action", type="refund", params={"amount": 5}, wait_seconds=1)
        assert time.monotonic() - started >= 0.9
    assert pending["status"] == "pending_approval"
    assert pending["approval_url"].endswith(f"/console/approve/{pending['action_id']}")
    assert pending["poll_after_seconds"] == 5 and pending["expires_at"]
    row = await Action.get(id=pending["action_id"])
    assert row.actor_kind == "agent" and row.actor_name == "admin"  # from the key, not from arguments


async def test_human_approval_wakes_wait_for_decision(tenant: Tenant, connect: Connect) -> None:
    await policy(tenant, MANUAL)
    async with connect() as session:
        pending = await call(session, "propose_action", type="refund", params={"amount": 5})
        action_id = pending["action_id"]
        waiting = asyncio.create_task(call(session, "wait_for_decision", action_id=action_id, timeout_seconds=30))
        await asyncio.sleep(0.5)
        approved_at = time.monotonic()
        answer = await tenant.graphql(APPROVE, {"id": "apr_" + action_id[4:]})
        assert answer["data"]["approveAction"]["status"] == "approved", answer
        decided = await waiting
        assert time.monotonic() - approved_at < 1.0
    assert decided["status"] == "approved" and decided["effective_params"] == {"amount": 5}
    assert decided["edited"] is False


async def test_idempotent_reproposal(tenant: Tenant, connect: Connect) -> None:
    await policy(tenant, MANUAL)
    async with connect() as session:
        first = await call(session, "propose_action", type="refund", params={"amount": 5}, idempotency_key="k-1")
        again = await call(session, "propose_action", type="refund", params={"amount": 5}, idempotency_key="k-1")
        other = await session.call_tool("propose_action", {"type": "refund", "params": {"amount": 6},
                                                           "idempotency_key": "k-1"})
    assert first["action_id"] == again["action_id"]
    assert other.is_error and "CONFLICT" in other.content[0].text  # type: ignore[union-attr]
    assert await Action.filter(organization_id=tenant.organization_id).count() == 1


async def test_bad_key_is_refused_before_any_tool(tenant: Tenant, server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as c:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": "propose_action", "arguments": {"type": "refund"}}}
        headers = {"Authorization": "Bearer sk_wrong", "Accept": "application/json, text/event-stream"}
        answer = await c.post("/mcp", json=body, headers=headers)
        missing = await c.post("/mcp", json=body, headers={"Accept": "application/json, text/event-stream"})
    assert answer.status_code == 401 and answer.json()["error"] == "UNAUTHORIZED"
    assert missing.status_code == 401
    assert await Action.all().count() == 0


async def test_other_organizations_action_is_not_found(tenant: Tenant, other_tenant: Tenant, connect: Connect) -> None:
    await policy(tenant, MANUAL)
    async with connect() as session:
        mine = await call(session, "propose_action", type="refund", params={"amount": 5})
    async with connect(key=other_tenant.key) as session:
        for tool, args in [("get_action", {"action_id": mine["action_id"]}),
                           ("wait_for_decision", {"action_id": mine["action_id"], "timeout_seconds": 0}),
                           ("cancel_action", {"action_id": mine["action_id"]})]:
            result = await session.call_tool(tool, args)
            assert result.is_error and "NOT_FOUND" in result.content[0].text  # type: ignore[union-attr]
        listed = await call(session, "list_actions")
    assert listed["actions"] == []
    assert (await Action.get(id=mine["action_id"])).status == "pending_approval"


async def test_cancel_and_resource(tenant: Tenant, connect: Connect) -> None:
    await policy(tenant, MANUAL)
    async with connect() as session:
        pending = await call(session, "propose_action", type="refund", params={"amount": 5})
        cancelled = await call(session, "cancel_action", action_id=pending["action_id"], reason="changed my mind")
        again = await session.call_tool("cancel_action", {"action_id": pending["action_id"]})
        resource = await session.read_resource(f"gatehouse://actions/{pending['action_id']}")
    assert cancelled["status"] == "cancelled" and cancelled["reason"] == "changed my mind"
    assert again.is_error and "CONFLICT" in again.content[0].text  # type: ignore[union-attr]
    assert '"status":"cancelled"' in resource.contents[0].text  # type: ignore[union-attr]
    async with tenant.client() as c:
        events = (await c.get("/api/v1/events", params={"type": "action.cancelled"})).json()
    assert events["data"] if isinstance(events, dict) and "data" in events else events


async def test_describe_policies(tenant: Tenant, connect: Connect) -> None:
    await policy(tenant, MANUAL)
    await policy(tenant, {"name": "no deletes", "rules": [{"when": {"actionType": "delete_*"}, "deny": True}]})
    await policy(tenant, {"name": "reads", "rules": [{"when": {"actionType": "read_*"}, "approval": "auto"},
                                                     {"when": {"actionType": "pay"}, "approval": "auto",
                                                      "require": ["kyc"]}]})
    async with connect() as session:
        described = await call(session, "describe_policies")
        read = await call(session, "propose_action", type="read_file")
    outcomes = {r["when"]["actionType"]: (r["outcome"], r["human_approval"]) for r in described["rules"]}
    assert outcomes == {"refund": ("pending_approval", True), "delete_*": ("rejected", False),
                        "read_*": ("approved", False), "pay": ("pending_approval", False)}
    assert read["status"] == "approved"  # as described (an auto rule without evidence was said to hold it)


async def test_request_permission_shapes(tenant: Tenant, connect: Connect) -> None:
    await policy(tenant, {"name": "bash", "rules": [{"when": {"actionType": "Bash"}, "approval": "manual"}]})
    await policy(tenant, {"name": "no rm", "rules": [{"when": {"actionType": "Delete"}, "deny": True}]})
    async with connect() as session:
        allowed = await call(session, "request_permission", tool_name="Read", input={"path": "/a"})
        denied = await call(session, "request_permission", tool_name="Delete", input={"path": "/"})
        waiting = asyncio.create_task(call(session, "request_permission", tool_name="Bash",
                                           input={"command": "ls"}, tool_use_id="tu_1"))
        action = await proposed("Bash")
        answer = await tenant.graphql(REJECT, {"id": "apr_" + action.id[4:], "r": "not on prod"})
        assert answer["data"]["rejectAction"]["status"] == "rejected", answer
        rejected = await waiting
    assert allowed == {"behavior": "allow", "updatedInput": {"path": "/a"}}
    assert denied["behavior"] == "deny" and denied["message"]
    assert rejected["behavior"] == "deny" and "not on prod" in rejected["message"]


async def test_request_permission_answers_an_edited_approval_with_the_edited_input(
    tenant: Tenant, connect: Connect
) -> None:
    await policy(tenant, {"name": "bash", "rules": [{"when": {"actionType": "Bash"}, "allowEdit": True}]})
    async with connect() as session:
        waiting = asyncio.create_task(call(session, "request_permission", tool_name="Bash",
                                           input={"command": "rm -rf /tmp/build"}, tool_use_id="tu_2"))
        action = await proposed("Bash")
        async with tenant.client() as c:
            approved = await c.post(f"/actions/{action.id}/approve", json={"params": {"command": "ls /tmp/build"}})
        assert approved.status_code == 200, approved.text
        answer = await waiting
    assert answer == {"behavior": "allow", "updatedInput": {"command": "ls /tmp/build"}}


async def test_request_permission_takes_every_tool_use_id_its_schema_allows(connect: Connect) -> None:
    """The id becomes the proposal's idempotency key behind a prefix: the schema's bound leaves room
    for it, so the longest id it accepts is allowed (and answers the same on a retry), and a longer
    one is refused naming tool_use_id, not an idempotency key the client never sent."""
    async with connect() as session:
        tool = next(t for t in (await session.list_tools()).tools if t.name == "request_permission")
        declared = tool.input_schema["properties"]["tool_use_id"]
        longest = next(s["maxLength"] for s in declared.get("anyOf", [declared]) if "maxLength" in s)
        first = await call(session, "request_permission", tool_name="Read", input={"p": 1}, tool_use_id="t" * longest)
        again = await call(session, "request_permission", tool_name="Read", input={"p": 1}, tool_use_id="t" * longest)
        refused = await session.call_tool("request_permission", {"tool_name": "Read", "input": {},
                                                                 "tool_use_id": "t" * (longest + 1)})
    assert first == again == {"behavior": "allow", "updatedInput": {"p": 1}}
    assert await Action.filter(type="Read").count() == 1
    text = refused.content[0].text  # type: ignore[union-attr]
    assert refused.is_error and "tool_use_id" in text and "idempotency" not in text, text


@pytest.mark.parametrize("arguments, fragment", [
    ({"type": "refund", "wait_seconds": 41}, "wait_seconds"),
    ({"type": "refund", "wait_seconds": -1}, "wait_seconds"),
    ({"params": {}}, "type"),
])
async def test_bad_input_proposes_nothing(connect: Connect, arguments: dict, fragment: str) -> None:
    async with connect() as session:
        result = await session.call_tool("propose_action", arguments)
        unknown = await session.call_tool("no_such_tool", {})
    assert result.is_error and fragment in result.content[0].text  # type: ignore[union-attr]
    assert unknown.is_error
    assert await Action.all().count() == 0


async def test_actor_in_arguments_is_ignored(connect: Connect) -> None:
    async with connect() as session:
        answer = await call(session, "propose_action", type="refund", actor={"kind": "human", "name": "ceo"})
    row = await Action.get(id=answer["action_id"])
    assert (row.actor_kind, row.actor_name) == ("agent", "admin")


async def test_mcp_requests_count_against_the_key_and_hosts_are_checked(tenant: Tenant, server: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    accept = {"Accept": "application/json, text/event-stream", **tenant.headers}
    async with httpx.AsyncClient(base_url=server) as c:
        first = await c.post("/mcp", json=body, headers=accept)
        second = await c.post("/mcp", json=body, headers=accept)
        foreign_host = await c.post("/mcp", json=body, headers={**accept, "Host": "evil.example"})
        foreign_origin = await c.post("/mcp", json=body, headers={**accept, "Origin": "https://evil.example"})
        own_origin = await c.post("/mcp", json=body, headers={**accept, "Origin": "https://gatehouse.test"})
    assert first.status_code == 200 and second.status_code == 200
    remaining = [int(r.headers["X-RateLimit-Remaining"]) for r in (first, second)]
    assert remaining[1] == remaining[0] - 1
    assert foreign_host.status_code == 421
    assert foreign_origin.status_code == 403
    assert own_origin.status_code == 200


async def test_waiting_sends_progress_notifications(tenant: Tenant, connect: Connect) -> None:
    await policy(tenant, MANUAL)
    progress: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)

    async with connect() as session:
        result = await session.call_tool("propose_action", {"type": "refund", "wait_seconds": 7},
                                         progress_callback=on_progress)
    assert not result.is_error and result.structured_content["status"] == "pending_approval"  # type: ignore[index]
    assert progress and progress[0] >= 4.9


def test_only_waiting_calls_stream() -> None:
    def body(name: str, **arguments: object) -> bytes:
        return json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                           "params": {"name": name, "arguments": arguments}}).encode()

    assert may_wait(body("wait_for_decision", action_id="act_x"))
    assert may_wait(body("request_permission", tool_name="Bash", input={}))
    assert may_wait(body("propose_action", type="refund", wait_seconds=5))
    assert not may_wait(body("propose_action", type="refund", wait_seconds=0))
    assert not may_wait(body("get_action", action_id="act_x"))
    assert not may_wait(b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}')
    assert may_wait(b"not json")


async def test_a_key_bound_to_an_agent_proposes_as_that_agent_and_its_kill_switch_holds(
    tenant: Tenant, connect: Connect
) -> None:
    agent = await register_agent(tenant, "mcp-mailer")
    key = await bound_key(tenant, agent["id"], ["actions:write"])
    async with connect(key=key) as session:
        first = await call(session, "propose_action", type="send_email", params={"to": "a@b.c"})
        async with tenant.client() as c:
            disabled = await c.patch(f"/agents/{agent['id']}", json={"status": "disabled"})
        assert disabled.status_code == 200, disabled.text
        stopped = await call(session, "propose_action", type="send_email", params={"to": "b@b.c"})
    row = await Action.get(id=first["action_id"])
    assert (row.actor_kind, row.actor_name, row.agent_id, row.actor_verified) == (
        "agent", "mcp-mailer", agent["id"], True)
    assert stopped["status"] == "rejected" and "disabled" in (stopped["reason"] or "")


async def test_text_no_column_can_hold_is_a_readable_tool_error_and_writes_nothing(
    tenant: Tenant, connect: Connect
) -> None:
    """A NUL in the agent's reason used to fail after the action was stored (the tool answered an
    error, the agent retried, a second action followed); in an idempotency key or a tool_use_id it
    crashed the tool. Each is now refused before anything is written."""
    async with connect() as session:
        answers = [
            await session.call_tool("propose_action", {"type": "refund", "reason": "why\u0000"}),
            await session.call_tool("propose_action", {"type": "refund", "idempotency_key": "k\u0000"}),
            await session.call_tool("request_permission", {"tool_name": "Bash", "input": {}, "tool_use_id": "x\u0000"}),
        ]
    for answer in answers:
        assert answer.is_error and "VALIDATION_ERROR" in answer.content[0].text, answer  # type: ignore[union-attr]
        assert "NUL" in answer.content[0].text  # type: ignore[union-attr]
    assert await Action.all().count() == 0


@pytest.mark.parametrize("path", ["/mcp", "/mcp/gateways/files"])
@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN"])
async def test_numbers_json_has_not_are_a_parse_error(tenant: Tenant, path: str, number: str) -> None:
    """The SDK reads bodies with Python's json, which takes NaN and Infinity: a rule on `amount > 100`
    judged Infinity while the action stored null. They are refused as REST and GraphQL refuse them."""
    rule = {"when": {"actionType": "refund", "params": {"amount": {"gt": 100}}}, "approval": "manual"}
    await policy(tenant, {"name": "big", "rules": [rule]})
    arguments = '{"type": "refund", "params": {"amount": ' + number + "}}"
    body = '{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "propose_action", "arguments": ' + \
        arguments + "}}"
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
               "Mcp-Protocol-Version": "2025-06-18"}
    async with tenant.client() as c:
        answer = await c.post(path, content=body, headers=headers)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == -32700
    assert await Action.all().count() == 0


async def test_get_on_a_stateless_server_is_405_not_an_empty_stream(tenant: Tenant) -> None:
    headers = {"Accept": "text/event-stream", "Mcp-Protocol-Version": "2025-06-18"}
    async with tenant.client() as c:
        native = await c.get("/mcp", headers=headers)
        gateway = await c.get("/mcp/gateways/files", headers=headers)
    for answer in (native, gateway):
        assert answer.status_code == 405 and answer.headers["Allow"] == "POST", answer.text


def modern_call(tool: str, arguments: dict) -> dict:
    """One self-contained 2026-07-28 tools/call, as a client posts it."""
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": tool, "arguments": arguments, "_meta": meta}}


async def test_param_headers_are_still_checked_on_a_tool_that_declares_them() -> None:
    """The native server hands the SDK's pre-dispatch check only the schemas that declare
    `x-mcp-header`: a tool that declares one, or is replaced by one that does, is still checked."""
    server = NativeServer("headers")

    def region_tool(region: Annotated[str, Field(json_schema_extra={"x-mcp-header": "Region"})]) -> str:
        return f"in {region}"

    def plain(region: str) -> str:
        return f"plainly in {region}"

    server.add_tool(region_tool, name="lookup", structured_output=False)
    server.add_tool(plain, name="echo", structured_output=False)
    async with serve_upstream(stateless=True, server=server, json_response=True) as running, \
            httpx.AsyncClient() as c:

        async def post(tool: str, region_header: str | None) -> httpx.Response:
            headers = {"Accept": "application/json, text/event-stream", "Mcp-Protocol-Version": MODERN,
                       "Mcp-Method": "tools/call", "Mcp-Name": tool}
            if region_header is not None:
                headers["Mcp-Param-Region"] = region_header
            return await c.post(running.url, json=modern_call(tool, {"region": "eu"}), headers=headers)

        wrong, missing, right = await post("lookup", "us"), await post("lookup", None), await post("lookup", "eu")
        undeclared = await post("echo", None)
        server.remove_tool("echo")
        server.add_tool(region_tool, name="echo", structured_output=False)
        replaced_missing, replaced_right = await post("echo", None), await post("echo", "eu")
    for refused in (wrong, missing, replaced_missing):
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] == HEADER_MISMATCH and "Region" in refused.json()["error"]["message"]
    assert right.json()["result"]["content"][0]["text"] == "in eu", right.text
    assert undeclared.json()["result"]["content"][0]["text"] == "plainly in eu", undeclared.text
    assert replaced_right.json()["result"]["content"][0]["text"] == "in eu", replaced_right.text
