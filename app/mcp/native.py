"""The native MCP server: one decorated function per tool, each a call to the same resolvers as
REST and GraphQL. The actor and organization come from the API key, never from tool arguments.
Domain errors and outages become tool errors the model can read (app/mcp/errors.py); pending is an
answer, not an error.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

import orjson
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context as McpContext
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import x_mcp_header_map
from mcp.types import INVALID_PARAMS, CallToolResult, ToolAnnotations
from pydantic import BaseModel, Field

from app.mcp.context import ServicesOf, mcp_context
from app.mcp.direct import DirectTool, structured
from app.mcp.errors import by_caller, readable
from app.mcp.security import KeyVerifier
from resolvers.context import Context
from resolvers.errors import DomainError, NotFound
from resolvers.governance import actions, cancelling
from resolvers.governance.waiting import wait_decided
from resolvers.mcp import agent

T = TypeVar("T")
MAX_WAIT = 40
PROGRESS_EVERY_SECONDS = 5.0
# request_permission's idempotency key is the prefix and Claude Code's tool_use_id, and a proposal's
# key is at most 255 characters: the schema bounds the id so that every id it accepts makes a key.
PERMISSION_KEY_PREFIX = "permission:"
MAX_TOOL_USE_ID = 255 - len(PERMISSION_KEY_PREFIX)
INSTRUCTIONS = (
    "Gatehouse decides whether an action may happen. Propose it with propose_action; when the answer is "
    "pending_approval, a human decides: wait with wait_for_decision (or propose with wait_seconds) and act "
    "only on status approved, with effective_params."
)


class Check(BaseModel):
    name: str
    status: str
    note: str | None = None


class DecisionOut(BaseModel):
    status: str
    checks: list[Check]


class ActionAnswer(BaseModel):
    """An action as an agent reads it."""

    action_id: str
    type: str
    target: str | None
    status: str = Field(description="approved | pending_approval | rejected | expired | cancelled")
    decision: DecisionOut
    effective_params: dict[str, Any] = Field(description="The params to act on (an approver's edit, if any)")
    edited: bool
    reason: str | None = Field(description="Why it was rejected or cancelled")
    approval_url: str | None = Field(description="Where a human decides it, while pending")
    expires_at: str | None
    poll_after_seconds: int | None = Field(description="When to ask again, while pending")
    gateway_call: dict[str, Any] | None = Field(None, description="A gateway tool call's upstream result")


class ActionList(BaseModel):
    actions: list[ActionAnswer]
    next_cursor: str | None


class PolicyRule(BaseModel):
    policy_id: str
    policy_name: str
    when: dict[str, Any]
    outcome: str = Field(description="What a matching action gets: pending_approval or rejected")
    requires_evidence: list[str]
    human_approval: bool


class PolicyDescription(BaseModel):
    rules: list[PolicyRule]
    default: str = Field("approved", description="What an action no rule matches gets")


class PermissionAnswer(BaseModel):
    """Claude Code's permission-prompt shape."""

    behavior: str = Field(description="allow | deny")
    updatedInput: dict[str, Any] | None = None
    message: str | None = None


async def _run(call: Awaitable[T]) -> T:
    """A tool's resolver call: its domain errors and outages reach the model as readable tool errors."""
    try:
        return await call
    except Exception as exc:
        text = readable(exc)
        if text is None:
            raise
        raise ToolError(text) from None


async def _read(call: Awaitable[T], uri: str) -> T:
    """A resource's resolver call: the same, as JSON-RPC errors: the caller's own mistake (an unknown
    action, a key without actions:read) is invalid params, as the SDK answers an unknown resource."""
    try:
        return await call
    except NotFound as err:
        raise ResourceNotFoundError(readable(err)) from None
    except DomainError as err:
        if not by_caller(err):
            raise ResourceError(f"{err.code}: {err.message}") from None
        raise MCPError(INVALID_PARAMS, f"{err.code}: {err.message}", data={"uri": uri}) from None
    except Exception as exc:
        text = readable(exc)
        if text is None:
            raise
        raise ResourceError(text) from None


async def _waited(ctx: Context, mctx: McpContext, action_id: str, seconds: float) -> Any:
    """wait_decided in slices, with a progress notification between them."""
    started = time.monotonic()
    while True:
        left = seconds - (time.monotonic() - started)
        action = await wait_decided(ctx, action_id, min(max(left, 0.0), PROGRESS_EVERY_SECONDS))
        if action.status != "pending_approval" or left <= PROGRESS_EVERY_SECONDS:
            return action
        await mctx.report_progress(time.monotonic() - started, seconds, "waiting for a human decision")


def _answer(ctx: Context, action: Any) -> dict[str, Any]:
    return {**agent.answer(ctx, action), "gateway_call": None}


AnswerResult = Annotated[CallToolResult, ActionAnswer]


class NativeServer(MCPServer):
    """MCPServer whose pre-dispatch `Mcp-Param-*` check gets a tool's schema only when that schema
    declares such headers (`x-mcp-header`). The SDK walks the whole schema of the called tool on
    every 2026-07-28 call to find them; none of this server's tools declares one, so the walk always
    found nothing and cost a propose_action call about 6% of its server time (bench figure 9)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._declares_headers: dict[str, tuple[dict[str, Any], bool]] = {}
        self.direct_tools: dict[str, DirectTool] = {}  # bodies app/mcp/direct.py may call without the SDK
        super().__init__(*args, **kwargs)

    def _tool_input_schema(self, name: str) -> dict[str, Any] | None:
        schema = super()._tool_input_schema(name)
        if schema is None:
            return None
        known = self._declares_headers.get(name)
        if known is None or known[0] is not schema:  # a tool added or replaced since: look again
            known = self._declares_headers[name] = (schema, bool(x_mcp_header_map(schema)))
        return schema if known[1] else None


READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


async def _proposed(gh: Context, arguments: dict[str, Any]) -> Any:
    return await _run(agent.propose_as_agent(gh, arguments["type"], arguments["target"], arguments["params"],
                                             arguments["reason"], arguments["idempotency_key"]))


async def _propose_answer(gh: Context, arguments: dict[str, Any]) -> dict[str, Any]:
    return _answer(gh, await _proposed(gh, arguments))


async def _get_answer(gh: Context, arguments: dict[str, Any]) -> dict[str, Any]:
    action = await _run(actions.get(gh, arguments["action_id"]))
    return await _run(agent.answer_with_result(gh, action))


async def _list_answer(gh: Context, arguments: dict[str, Any]) -> dict[str, Any]:
    page = await _run(actions.list_actions(gh, status=arguments["status"], limit=arguments["limit"],
                                           cursor=arguments["cursor"]))
    return {"actions": [_answer(gh, a) for a in page.items], "next_cursor": page.next_cursor}


async def _cancel_answer(gh: Context, arguments: dict[str, Any]) -> dict[str, Any]:
    return _answer(gh, await _run(cancelling.cancel(gh, arguments["action_id"], reason=arguments["reason"])))


DIRECT_TOOLS = {
    "propose_action": DirectTool(_propose_answer, takes=lambda arguments: not arguments["wait_seconds"]),
    "get_action": DirectTool(_get_answer),
    "list_actions": DirectTool(_list_answer),
    "cancel_action": DirectTool(_cancel_answer),
}


def build_native_server(verifier: KeyVerifier, auth: AuthSettings, services_of: ServicesOf) -> NativeServer:
    """The /mcp server with its tools and the gatehouse://actions/{id} resource."""

    def _gatehouse(mctx: McpContext) -> Context:
        return mcp_context(mctx.request_context.request, services_of)

    server = NativeServer("gatehouse", instructions=INSTRUCTIONS, token_verifier=verifier, auth=auth,
                       log_level="WARNING")

    @server.tool(annotations=ToolAnnotations(title="Propose an action", read_only_hint=False, destructive_hint=False,
                                             idempotent_hint=True, open_world_hint=False))
    async def propose_action(
        type: Annotated[str, Field(min_length=1, max_length=200, description="What the action is, e.g. send_email")],
        ctx: McpContext,
        target: Annotated[str | None, Field(max_length=10_000, description="What it acts on")] = None,
        params: Annotated[dict[str, Any] | None, Field(description="Its parameters")] = None,
        reason: Annotated[str | None, Field(max_length=10_000, description="Why the agent wants it")] = None,
        idempotency_key: Annotated[str | None, Field(min_length=1, max_length=255)] = None,
        wait_seconds: Annotated[int, Field(ge=0, le=MAX_WAIT, description="Wait this long for a human")] = 0,
    ) -> AnswerResult:
        """Ask Gatehouse whether an action may happen; pending is an answer, not an error."""
        gh = _gatehouse(ctx)
        action = await _proposed(gh, {"type": type, "target": target, "params": params, "reason": reason,
                                      "idempotency_key": idempotency_key})
        if wait_seconds and action.status == "pending_approval":
            action = await _run(_waited(gh, ctx, action.id, wait_seconds))
        return structured(_answer(gh, action))

    @server.tool(annotations=READ)
    async def wait_for_decision(
        action_id: Annotated[str, Field(min_length=1, max_length=64)], ctx: McpContext,
        timeout_seconds: Annotated[int, Field(ge=0, le=MAX_WAIT)] = 30,
    ) -> AnswerResult:
        """Wait until a human decides the action (answers at once when it is decided)."""
        gh = _gatehouse(ctx)
        return structured(_answer(gh, await _run(_waited(gh, ctx, action_id, timeout_seconds))))

    @server.tool(annotations=READ)
    async def get_action(
        action_id: Annotated[str, Field(min_length=1, max_length=64)], ctx: McpContext
    ) -> AnswerResult:
        """An action's status, decision and effective params (and a gateway call's upstream result)."""
        return structured(await _get_answer(_gatehouse(ctx), {"action_id": action_id}))

    @server.tool(annotations=READ)
    async def list_actions(
        ctx: McpContext,
        status: Annotated[str | None, Field(description="approved | pending_approval | rejected | expired | "
                                                        "cancelled")] = None,
        limit: Annotated[int, Field(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Field(max_length=500)] = None,
    ) -> Annotated[CallToolResult, ActionList]:
        """The organization's actions, newest first."""
        return structured(await _list_answer(_gatehouse(ctx), {"status": status, "limit": limit, "cursor": cursor}))

    @server.tool(annotations=ToolAnnotations(title="Withdraw a pending action", read_only_hint=False,
                                             destructive_hint=True, idempotent_hint=False, open_world_hint=False))
    async def cancel_action(
        action_id: Annotated[str, Field(min_length=1, max_length=64)], ctx: McpContext,
        reason: Annotated[str | None, Field(max_length=10_000)] = None,
    ) -> AnswerResult:
        """Withdraw an action this key proposed while it still waits for a decision."""
        return structured(await _cancel_answer(_gatehouse(ctx), {"action_id": action_id, "reason": reason}))

    @server.tool(annotations=READ)
    async def describe_policies(ctx: McpContext) -> PolicyDescription:
        """Which action types need approval or evidence, or are refused: for planning."""
        rules = await _run(agent.describe_policies(_gatehouse(ctx)))
        return PolicyDescription(rules=[PolicyRule.model_validate(r) for r in rules])

    @server.tool(annotations=ToolAnnotations(title="Permission prompt", read_only_hint=False, destructive_hint=False,
                                             idempotent_hint=False, open_world_hint=False))
    async def request_permission(
        tool_name: Annotated[str, Field(min_length=1, max_length=200)],
        input: Annotated[dict[str, Any], Field(description="The tool's input")],
        ctx: McpContext,
        tool_use_id: Annotated[str | None, Field(max_length=MAX_TOOL_USE_ID)] = None,
    ) -> Annotated[CallToolResult, PermissionAnswer]:
        """Claude Code's permission-prompt tool: allow (with the approved input) or deny (with why)."""
        gh = _gatehouse(ctx)
        key = f"{PERMISSION_KEY_PREFIX}{tool_use_id}" if tool_use_id else None
        action = await _run(agent.propose_as_agent(gh, tool_name, None, input, None, key))
        if action.status == "pending_approval":
            action = await _run(_waited(gh, ctx, action.id, MAX_WAIT))
        return structured(agent.permission(action))  # its text is exactly Claude Code's shape: no null fields

    @server.resource("gatehouse://actions/{action_id}", name="action", mime_type="application/json",
                     description="An action as get_action answers it")
    async def action_resource(action_id: str, ctx: McpContext) -> str:
        gh = _gatehouse(ctx)
        uri = f"gatehouse://actions/{action_id}"
        action = await _read(actions.get(gh, action_id), uri)
        return orjson.dumps(await _read(agent.answer_with_result(gh, action), uri)).decode()

    server.direct_tools.update(DIRECT_TOOLS)
    return server
