"""The gateway: an upstream's tools offered to an agent, every call decided by the policies first.

``tools/call`` becomes an action ``mcp.<server>.<tool>`` (target: the server's name, params: the
arguments) proposed as the caller's agent. Approved: forwarded at once and the upstream's answer
returned. Pending: a pending answer; once a human approves, the call is forwarded by the worker, or
by the agent's retry with the same idempotency key, whichever claims it first (resolvers/mcp/calls.py).
Rejected, expired or cancelled: refused with the reason. A tool the policies do not admit, a held-back
tool, arguments that break the tool's schema or an unreachable upstream are refused before anything is
proposed or called; so is an approver's edit that breaks it (resolvers/mcp/arguments.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from tortoise.exceptions import IntegrityError

from app.core.clock import utcnow
from app.core.ids import new_id
from app.core.mcp_client import Tool
from models.governance import Action
from models.mcp import McpCall, McpServer
from resolvers.access import require
from resolvers.context import Context
from resolvers.errors import Forbidden, NotFound
from resolvers.governance.actions import propose
from resolvers.governance.outcome import reason_of
from resolvers.mcp.arguments import check_arguments
from resolvers.mcp.calls import call_upstream, forward
from resolvers.mcp.catalogue import Offer, action_type, listed_tools, offers
from resolvers.mcp.identity import actor_of
from resolvers.mcp.servers import by_name


@dataclass(slots=True)
class GatewayAnswer:
    """What the agent gets back: the upstream's result, a pending notice, or a refusal."""

    outcome: Literal["result", "pending", "refused", "running"]
    action: Action
    result: dict[str, Any] | None = None
    message: str | None = None


async def list_tools(ctx: Context, server_name: str) -> list[Tool]:
    """The tools this caller may call: admitted by a policy, not denied outright, not held back."""
    require(ctx, "actions:write")
    server = await by_name(ctx, server_name)
    judged = await offers(ctx, server, await listed_tools(ctx, server, fresh=True))
    # Offered without their output schema: the gateway may answer a call with a pending notice or a
    # refusal, which a client would otherwise reject for not matching it.
    return [offer.tool.model_copy(update={"output_schema": None}) for offer in judged.values() if offer.offered]


async def _offer(ctx: Context, server: McpServer, tool: str) -> Offer:
    offer = (await offers(ctx, server, await listed_tools(ctx, server, fresh=False))).get(tool)
    if offer is None:
        raise NotFound(f"MCP server {server.name!r} has no tool {tool!r}")
    if offer.held:
        raise Forbidden(f"tool {tool!r} changed its schema since it was admitted; it is held back until an "
                        "operator admits the new schema")
    if not offer.admitted:
        raise Forbidden(f"no policy admits tool {tool!r} ({action_type(server, tool)}): nothing was called")
    return offer


SchemaCheck = Callable[[dict[str, Any]], None]


async def call_tool(
    ctx: Context, server_name: str, tool: str, arguments: dict[str, Any] | None, idempotency_key: str | None = None,
    check: SchemaCheck | None = None, stated_key: Any = None,
) -> GatewayAnswer:
    """Decide a tool call, then forward it, hold it for a human, or refuse it. `check`, the
    transport's own test of the request against the tool's input schema (its headers), runs with
    the schema the arguments are checked against, before anything is proposed. `idempotency_key` is
    the request's header and `stated_key` the key the call itself states (its `_meta`), checked as a
    proposal's body `idempotencyKey` is: a string of 1-255 characters, equal to the header if both."""
    require(ctx, "actions:write")
    server = await by_name(ctx, server_name)
    arguments = dict(arguments or {})
    offer = await _offer(ctx, server, tool)
    if check is not None:
        check(offer.tool.input_schema)
    check_arguments(tool, offer.tool.input_schema, arguments)
    proposal = {"type": action_type(server, tool), "actor": await actor_of(ctx), "target": server.name,
                "params": arguments, **({"idempotencyKey": stated_key} if stated_key is not None else {})}
    proposed = await propose(ctx, proposal, idempotency_key=idempotency_key)
    return await answer_for(ctx, server, tool, proposed.action, fresh=not proposed.replayed,
                            input_schema=offer.tool.input_schema)


async def answer_for(
    ctx: Context, server: McpServer, tool: str, action: Action, *, fresh: bool = False,
    input_schema: dict[str, Any] | None = None,
) -> GatewayAnswer:
    """The answer an action's current state gives (a retry of the same call reads the same row).
    A `fresh` action (just proposed, not a replay) has no call row yet: one is written, already
    claimed when the action was approved at once, so forwarding it takes no claim of its own. One
    that waits for a human keeps the `input_schema` it was checked against: an approver's edit is
    checked against it (resolvers/mcp/arguments.py)."""
    if action.status in ("rejected", "expired", "cancelled"):
        return GatewayAnswer("refused", action, message=f"Gatehouse {action.status} this call: "
                                                        f"{reason_of(action) or 'refused by policy'}")
    approved_now = fresh and action.status == "approved"
    call = None if fresh else await McpCall.get_or_none(action_id=action.id)
    if call is None and not fresh and action.created_at < server.created_at:  # its call went with its server
        return GatewayAnswer("refused", action, message=f"the MCP server this call was proposed to was deleted; "
                                                        f"{server.name!r} is another one: propose the call again")
    if call is None:
        call = McpCall(id=new_id("mcall"), organization_id=ctx.organization_id, server_id=server.id,
                       action_id=action.id, tool=tool, url=server.url, status="calling" if approved_now else "waiting",
                       claimed_at=utcnow() if approved_now else None,
                       input_schema=input_schema if action.status == "pending_approval" else None)
        try:
            await call.save()
        except IntegrityError:  # a concurrent retry of the same call created it
            call, approved_now = await McpCall.get(action_id=action.id), False
    if action.status == "pending_approval":
        return GatewayAnswer("pending", action)
    if approved_now:
        call = await call_upstream(ctx, call, action, server)
    elif call.status == "waiting":  # with the server it was proposed to, even if renamed since
        call = await forward(ctx, call, action, server if call.server_id == server.id else None)
    if call.status == "completed":
        return GatewayAnswer("result", action, result=call.result)
    if call.status == "failed":
        return GatewayAnswer("refused", action, message=call.error)
    return GatewayAnswer("running", action, message="the approved call is being forwarded; call again")
