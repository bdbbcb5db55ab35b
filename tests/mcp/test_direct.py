"""The direct lane (app/mcp/direct.py) answers exactly as the SDK does, and leaves it everything else.

Each request goes to the test server (the lane on) and to a replica with `mcp_direct_calls` off (the
SDK's whole path), and the two answers are compared. Which one answered is visible in the bytes: the
SDK writes with `json.dumps` (non-ASCII escaped), the lane with orjson (UTF-8), so each proposal
carries an "é".
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from app.mcp.direct import DirectTool, plain_call
from tests.conftest import LocalApp, Tenant
from tests.mcp.test_native import MANUAL, modern_call, policy

NON_ASCII = "café".encode()
ESCAPED = b"caf\\u00e9"


def headers(tool: str, key: str | None, **extra: str) -> dict[str, str]:
    auth = {"Authorization": f"Bearer {key}"} if key else {}
    return {"Accept": "application/json, text/event-stream", "Mcp-Protocol-Version": "2026-07-28",
            "Mcp-Method": "tools/call", "Mcp-Name": tool, **auth, **extra}


async def both(lane: str, sdk: str, body: dict[str, Any], sent: dict[str, str]) -> tuple[httpx.Response, ...]:
    async with httpx.AsyncClient(timeout=10) as c:
        return tuple([await c.post(f"{base}/mcp", json=body, headers=sent) for base in (lane, sdk)])


def same(direct: httpx.Response, sdk: httpx.Response) -> None:
    assert direct.status_code == sdk.status_code
    assert direct.headers.get("content-type") == sdk.headers.get("content-type")
    if "json" in (direct.headers.get("content-type") or ""):
        assert direct.json() == sdk.json(), (direct.text, sdk.text)
    else:
        assert direct.text == sdk.text


async def test_plain_calls_are_answered_by_the_lane_exactly_as_the_sdk_answers_them(
        tenant: Tenant, local_app: LocalApp) -> None:
    await policy(tenant, MANUAL)
    proposal = {"type": "refund", "target": "order/7", "params": {"note": "café", "amount": 12.5},
                "reason": "asked", "idempotency_key": "direct-1"}
    async with local_app(mcp_direct_calls=False) as (sdk, _):
        key = tenant.key
        proposed = await both(tenant.base_url, sdk, modern_call("propose_action", proposal),
                              headers("propose_action", key))
        action_id = proposed[0].json()["result"]["structuredContent"]["action_id"]
        calls = {
            "propose_action": proposed,
            "get_action": await both(tenant.base_url, sdk, modern_call("get_action", {"action_id": action_id}),
                                     headers("get_action", key)),
            "list_actions": await both(tenant.base_url, sdk, modern_call("list_actions", {"limit": 5}),
                                       headers("list_actions", key)),
        }
        cancelled = await both(tenant.base_url, sdk, modern_call("cancel_action", {"action_id": action_id}),
                               headers("cancel_action", key))
        conflict = {**proposal, "params": {"note": "café", "amount": 99}}  # the same key, other params
        failed = await both(tenant.base_url, sdk, modern_call("propose_action", conflict),
                            headers("propose_action", key))
    for tool, (direct, via_sdk) in calls.items():
        same(direct, via_sdk)
        result = direct.json()["result"]
        assert result["isError"] is False and result["resultType"] == "complete", (tool, direct.text)
        assert NON_ASCII in direct.content and ESCAPED in via_sdk.content, tool  # each answered on its own path
    assert proposed[0].json()["result"]["structuredContent"]["status"] == "pending_approval"
    # The first cancel withdrew the action; the replica's finds it cancelled: a tool error in the SDK's words.
    assert cancelled[0].json()["result"]["structuredContent"]["status"] == "cancelled", cancelled[0].text
    assert cancelled[1].json()["result"]["isError"] is True, cancelled[1].text
    same(*failed)
    assert failed[0].json()["result"]["isError"] is True
    assert failed[0].json()["result"]["content"][0]["text"].startswith("Error executing tool propose_action: ")


@pytest.mark.parametrize("header", ["x-api-key", "x-apaaikey"])
async def test_a_key_in_another_header_is_taken_by_the_lane_as_the_sdk_takes_it(
        tenant: Tenant, local_app: LocalApp, header: str) -> None:
    body = modern_call("propose_action", {"type": "refund", "params": {"note": "café"}, "idempotency_key": header})
    async with local_app(mcp_direct_calls=False) as (sdk, _):
        sent = headers("propose_action", None, **{header: tenant.key})
        direct, via_sdk = await both(tenant.base_url, sdk, body, sent)
    same(direct, via_sdk)
    assert direct.json()["result"]["isError"] is False, direct.text
    assert NON_ASCII in direct.content and ESCAPED in via_sdk.content  # each answered on its own path


@pytest.mark.parametrize("change", ["bad argument", "no key", "header mismatch", "progress token", "waits",
                                    "unknown tool", "sse only"])
async def test_every_other_call_is_the_sdks_own_answer(tenant: Tenant, local_app: LocalApp, change: str) -> None:
    arguments: dict[str, Any] = {"type": "refund", "params": {"note": "café"}, "idempotency_key": f"other-{change}"}
    tool, key, extra = "propose_action", tenant.key, {}
    if change == "bad argument":
        arguments["type"] = "x" * 201
    elif change == "no key":
        key = None
    elif change == "header mismatch":
        extra = {"Mcp-Name": "get_action"}
    elif change == "unknown tool":
        tool = "drop_tables"
    elif change == "waits":
        arguments["wait_seconds"] = 1
    elif change == "sse only":
        extra = {"Accept": "text/event-stream"}
    body = modern_call(tool, arguments)
    if change == "progress token":
        body["params"]["_meta"]["progressToken"] = "p1"
    async with local_app(mcp_direct_calls=False) as (sdk, _):
        direct, via_sdk = await both(tenant.base_url, sdk, body, {**headers(tool, key), **extra})
    same(direct, via_sdk)
    assert NON_ASCII not in direct.content, direct.text  # the SDK answered both
    if change in ("progress token", "waits"):  # answers that carry the params: the check above can fail
        assert ESCAPED in direct.content, direct.text


def test_only_a_plain_tools_call_is_taken() -> None:
    tools = {"propose_action": DirectTool(lambda ctx, arguments: None)}  # type: ignore[arg-type,return-value]
    plain = modern_call("propose_action", {"type": "refund"})
    assert plain_call(plain, tools) is not None
    refused = [
        [plain],
        {**plain, "jsonrpc": "1.0"},
        {**plain, "id": True},
        {**plain, "id": None},
        {**plain, "method": "tools/list"},
        {**plain, "extra": 1},
        {**plain, "params": {**plain["params"], "name": "get_action"}},
        {**plain, "params": {**plain["params"], "arguments": "{}"}},
        {**plain, "params": {**plain["params"], "requestState": "s"}},
        {**plain, "params": {**plain["params"], "_meta": {**plain["params"]["_meta"], "progressToken": 1}}},
        {**plain, "params": {"name": "propose_action", "arguments": {}}},
    ]
    for message in refused:
        assert plain_call(message, tools) is None, message


def _meta(body: dict[str, Any]) -> dict[str, Any]:
    return dict(body["params"]["_meta"])


MUTATIONS: dict[str, Any] = {  # each: (body, headers) -> (body, headers); the request a client might get wrong
    "no version header": lambda b, h: (b, {k: v for k, v in h.items() if k != "Mcp-Protocol-Version"}),
    "handshake-era version header": lambda b, h: (b, {**h, "Mcp-Protocol-Version": "2025-06-18"}),
    "unknown version": lambda b, h: ({**b, "params": {**b["params"], "_meta": {
        **_meta(b), "io.modelcontextprotocol/protocolVersion": "2099-01-01"}}},
        {**h, "Mcp-Protocol-Version": "2099-01-01"}),
    "no method header": lambda b, h: (b, {k: v for k, v in h.items() if k != "Mcp-Method"}),
    "no name header": lambda b, h: (b, {k: v for k, v in h.items() if k != "Mcp-Name"}),
    "text content type": lambda b, h: (b, {**h, "Content-Type": "text/plain"}),
    "json-only accept": lambda b, h: (b, {**h, "Accept": "application/json"}),
    "foreign origin": lambda b, h: (b, {**h, "Origin": "https://evil.example"}),
    "foreign host": lambda b, h: (b, {**h, "Host": "evil.example"}),
    "string id": lambda b, h: ({**b, "id": "req-1"}, h),
    "float id": lambda b, h: ({**b, "id": 1.5}, h),
    "null id": lambda b, h: ({**b, "id": None}, h),
    "no id": lambda b, h: ({k: v for k, v in b.items() if k != "id"}, h),
    "old jsonrpc": lambda b, h: ({**b, "jsonrpc": "1.0"}, h),
    "no envelope": lambda b, h: ({**b, "params": {k: v for k, v in b["params"].items() if k != "_meta"}}, h),
    "capabilities not an object": lambda b, h: ({**b, "params": {**b["params"], "_meta": {
        **_meta(b), "io.modelcontextprotocol/clientCapabilities": "all"}}}, h),
    "client info malformed": lambda b, h: ({**b, "params": {**b["params"], "_meta": {
        **_meta(b), "io.modelcontextprotocol/clientInfo": {"name": 7}}}}, h),
    "arguments a list": lambda b, h: ({**b, "params": {**b["params"], "arguments": [1]}}, h),
    "arguments as JSON text": lambda b, h: ({**b, "params": {**b["params"], "arguments": '{"type": "refund"}'}}, h),
    "params as JSON text": lambda b, h: ({**b, "params": {**b["params"], "arguments": {
        **b["params"]["arguments"], "params": '{"note": "café"}'}}}, h),
    "extra argument": lambda b, h: ({**b, "params": {**b["params"], "arguments": {
        **b["params"]["arguments"], "actor": "admin"}}}, h),
    "type a number": lambda b, h: ({**b, "params": {**b["params"], "arguments": {
        **b["params"]["arguments"], "type": 7}}}, h),
    "a task": lambda b, h: ({**b, "params": {**b["params"], "task": {"ttl": 1000}}}, h),
    "a batch": lambda b, h: ([b], h),
}


# What the lane itself answers of MUTATIONS (the SDK accepts these too); the rest it leaves to the SDK.
LANE_TAKES = {"json-only accept", "string id", "params as JSON text", "extra argument"}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
async def test_a_call_a_client_got_wrong_gets_the_same_answer_from_both(
        tenant: Tenant, local_app: LocalApp, mutation: str) -> None:
    """Each way a client might get a plain call wrong, sent to the lane's server and to the SDK's:
    the same status, content type and JSON (a call both accept stores one action: one idempotency key).
    The handshake-era path (no or an old version header) writes UTF-8 too: there the SDK answered both."""
    arguments = {"type": "refund", "params": {"note": "café"}, "idempotency_key": f"mutated-{mutation}"}
    plain = headers("propose_action", tenant.key, **{"Content-Type": "application/json"})
    body, sent = MUTATIONS[mutation](modern_call("propose_action", arguments), plain)
    async with local_app(mcp_direct_calls=False) as (sdk, _), httpx.AsyncClient(timeout=10) as c:
        direct, via_sdk = [await c.post(f"{base}/mcp", content=orjson.dumps(body), headers=sent)
                           for base in (tenant.base_url, sdk)]
    same(direct, via_sdk)
    assert (NON_ASCII in direct.content and NON_ASCII not in via_sdk.content) == (mutation in LANE_TAKES)


@pytest.mark.parametrize("wide", [2**64, 2**64 + 1, -(2**63) - 1])
async def test_an_integer_past_64_bits_is_refused_by_the_lane_as_by_the_sdk(tenant: Tenant, wide: int) -> None:
    """orjson, which reads the POST for the lane, reads an integer past 64 bits as a float: the lane
    stored `{"amount": 1.8446744073709552e+19}` for 2**64 + 1 and answered success, where the SDK
    (Python's json) kept the integer and the resolvers refused it, as REST and GraphQL do."""
    from models.governance import Action

    raw = orjson.dumps(modern_call("propose_action", {"type": "refund", "params": {"amount": 0}}))
    raw = raw.replace(b'"amount":0', b'"amount":' + str(wide).encode())
    async with httpx.AsyncClient(timeout=10) as c:
        answer = await c.post(f"{tenant.base_url}/mcp", content=raw, headers=headers(
            "propose_action", tenant.key, **{"Content-Type": "application/json"}))
    assert answer.status_code == 200, answer.text
    result = answer.json()["result"]
    assert result["isError"] is True, result
    assert "VALIDATION_ERROR" in result["content"][0]["text"] and "64 bits" in result["content"][0]["text"], result
    assert not await Action.filter(organization_id=tenant.organization_id).exists()
