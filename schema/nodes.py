"""`node(id:)`: any object by its id alone, through the same resolver its own query uses.

The id's prefix picks the fetcher; each one calls the resolver behind the type's own query
(`action(id:)` -> `actions.get`, ...), so scopes and tenancy apply exactly as there: another
organization's id is NOT_FOUND, a key without the scope is FORBIDDEN. An unknown prefix is
NOT_FOUND too. Deliveries, connector calls, history entries, notifications and audit entries have no query
of their own; their fetchers check the scope their lists need and find the row with the organization's lookup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import strawberry
from strawberry.types import Info

from models.audit import AuditEntry as AuditEntryRow
from models.connectors import ConnectorCall as ConnectorCallRow
from models.governance import ActionHistory as HistoryRow
from models.notifications import Notification as NotificationRow
from models.webhooks import WebhookDelivery as DeliveryRow
from resolvers.access import require
from resolvers.agents import registry
from resolvers.audit.reads import SCOPE as AUDIT_SCOPE
from resolvers.connectors import connectors
from resolvers.context import Context
from resolvers.credentials import credentials
from resolvers.errors import NotFound
from resolvers.governance import actions, approvals, policies, reviewers
from resolvers.keys import api_keys, organizations
from resolvers.lookup import owned
from resolvers.mcp import servers as mcp_servers
from resolvers.webhooks import deliveries, webhooks
from resolvers.workflows import executions, workflows
from schema.agents.types import Agent
from schema.audit.types import AuditEntry
from schema.connectors.types import Connector, ConnectorCall, Credential
from schema.context import GraphQLContext
from schema.governance.types import Action, Approval, HistoryEntry, Notification, Policy
from schema.keys.types import ApiKey, Organization
from schema.mcp.types import McpServer
from schema.node import Node
from schema.reviewers.types import ReviewerGroup
from schema.webhooks.types import Webhook, WebhookDelivery
from schema.workflows.types import Execution, Workflow

Fetch = Callable[[Context, str], Awaitable[Node]]


async def _action(ctx: Context, id: str) -> Node:
    return Action.from_row(await actions.get(ctx, id))


async def _approval(ctx: Context, id: str) -> Node:
    return Approval.from_row(await approvals.get(ctx, id))


async def _policy(ctx: Context, id: str) -> Node:
    return Policy.from_row(await policies.get(ctx, id))


async def _history(ctx: Context, id: str) -> Node:
    require(ctx, "actions:read")  # what Action.history needs
    return HistoryEntry.from_row(await owned(HistoryRow, ctx, id, "history entry"))


async def _notification(ctx: Context, id: str) -> Node:
    require(ctx, "actions:read")  # what Action.notifications needs
    return Notification.from_row(await owned(NotificationRow, ctx, id, "notification"))


async def _api_key(ctx: Context, id: str) -> Node:
    return ApiKey.from_row(await api_keys.get(ctx, id))


async def _organization(ctx: Context, id: str) -> Node:
    if id != ctx.organization_id:
        raise NotFound(f"organization {id} not found")
    organization, _key = await organizations.current(ctx)  # what `viewer` answers
    return Organization.from_row(organization)


async def _webhook(ctx: Context, id: str) -> Node:
    return Webhook.from_row(await webhooks.get(ctx, id))


async def _delivery(ctx: Context, id: str) -> Node:
    require(ctx, "webhooks:read")
    row = await owned(DeliveryRow, ctx, id, "delivery")
    return WebhookDelivery.from_row(await deliveries.get_delivery(ctx, row.webhook_id, row.id))  # with attempts


async def _credential(ctx: Context, id: str) -> Node:
    return Credential.from_row(await credentials.find(ctx, id))


async def _connector(ctx: Context, id: str) -> Node:
    return Connector.from_row(await connectors.find(ctx, id))


async def _call(ctx: Context, id: str) -> Node:
    require(ctx, "connectors:read")  # what connectorCalls needs
    return ConnectorCall.from_row(await owned(ConnectorCallRow, ctx, id, "connector call"))


async def _mcp_server(ctx: Context, id: str) -> Node:
    return McpServer.from_row(await mcp_servers.find(ctx, id))


async def _workflow(ctx: Context, id: str) -> Node:
    return Workflow.from_row(await workflows.find(ctx, id))


async def _execution(ctx: Context, id: str) -> Node:
    return Execution.from_row(await executions.get(ctx, id))


async def _agent(ctx: Context, id: str) -> Node:
    return Agent.from_row(await registry.get(ctx, id))


async def _reviewer_group(ctx: Context, id: str) -> Node:
    return ReviewerGroup.from_row(await reviewers.get(ctx, id))


async def _audit_entry(ctx: Context, id: str) -> Node:
    require(ctx, AUDIT_SCOPE)  # what auditLog needs
    return AuditEntry.from_row(await owned(AuditEntryRow, ctx, id, "audit entry"))


FETCHERS: dict[str, Fetch] = {
    "act": _action, "apr": _approval, "pol": _policy, "hist": _history, "key": _api_key, "org": _organization,
    "wh": _webhook, "dlv": _delivery, "cred": _credential, "conn": _connector, "call": _call, "wf": _workflow,
    "exec": _execution, "agt": _agent, "ntf": _notification, "grp": _reviewer_group, "mcp": _mcp_server,
    "aud": _audit_entry,
}


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object by its id (the Relay `node` field), with the scope its own query "
                                  "needs. NOT_FOUND for an id of another organization or of no known kind.")
    async def node(
        self, info: Info[GraphQLContext, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The object's id, e.g. `act_...`.")],
    ) -> Node | None:
        prefix, _, _rest = str(id).partition("_")
        fetch = FETCHERS.get(prefix)
        if fetch is None:
            raise NotFound(f"object {id} not found")
        return await fetch(info.context.ctx, str(id))
