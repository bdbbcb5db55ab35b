"""The GraphQL schema: root types merged from each domain's queries and mutations."""

from __future__ import annotations

from datetime import datetime

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.scalars import JSON
from strawberry.types import ExecutionContext

from app.core.settings import Settings
from schema.agents.mutations import AgentMutations
from schema.agents.queries import AgentQueries
from schema.audit.queries import AuditQueries
from schema.connectors.mutations import ConnectorMutations
from schema.connectors.queries import ConnectorQueries
from schema.datetime_scalar import WIRE_DATETIME
from schema.execution import AcyclicExecutionContext
from schema.governance.mutations import GovernanceMutations
from schema.governance.queries import GovernanceQueries
from schema.http_rules import NoSubscriptionsOverHttp
from schema.json_scalar import FINITE_JSON
from schema.keys.mutations import KeyMutations
from schema.keys.queries import KeyQueries
from schema.mcp.mutations import McpMutations
from schema.mcp.queries import McpQueries
from schema.nodes import NodeQueries
from schema.operation import OperationPolicy
from schema.realtime.subscriptions import RealtimeSubscriptions
from schema.reference import ReferenceQueries
from schema.reviewers.operations import ReviewerMutations, ReviewerQueries
from schema.webhooks.mutations import WebhookMutations
from schema.webhooks.queries import WebhookQueries
from schema.workflows.mutations import WorkflowMutations
from schema.workflows.queries import WorkflowQueries

QUERY_TYPES: tuple[type, ...] = (
    NodeQueries, KeyQueries, GovernanceQueries, WebhookQueries, ConnectorQueries, WorkflowQueries, ReferenceQueries,
    AgentQueries,
    ReviewerQueries,
    McpQueries,
    AuditQueries,
)
MUTATION_TYPES: tuple[type, ...] = (
    KeyMutations, GovernanceMutations, WebhookMutations, ConnectorMutations, WorkflowMutations, AgentMutations,
    ReviewerMutations, McpMutations,
)
SUBSCRIPTION_TYPES: tuple[type, ...] = (RealtimeSubscriptions,)

QUERY_DESCRIPTION = "Reads: every list is a Relay connection, every object with an id is a Node."
MUTATION_DESCRIPTION = "Changes. Errors carry an ErrorCode in `extensions.code`."
SUBSCRIPTION_DESCRIPTION = "Live feeds over WebSocket (graphql-transport-ws), built from committed events."


def merged(name: str, types: tuple[type, ...], description: str) -> type:
    """One root type with the fields of `types` (what strawberry.tools.merge_types does, described)."""
    names = [f.name for t in types for f in t.__strawberry_definition__.fields]  # type: ignore[attr-defined]
    if len(names) != len(set(names)):
        raise ValueError(f"{name} has the same field twice: {sorted({n for n in names if names.count(n) > 1})}")
    return strawberry.type(type(name, types, {}), description=description)


def limit_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    """The depth and alias rules, made once per schema. Each limiter instance makes new rule classes,
    and the validation cache is keyed by the rule classes: limiters made per request missed it on
    every request, so every query was fully validated again (most of proposeAction's CPU time)."""
    depth = QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules
    aliases = MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases).validation_rules
    return [*depth, *aliases]


class GatehouseSchema(strawberry.Schema):
    """Strawberry's schema, without its log line per error."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Strawberry logs every error at error level with its traceback: a client's mistake (an
        unknown id, a bad variable) as much as a bug, so any client could fill the error log.
        DomainErrorCodes (schema/errors.py) logs what is ours: an unexpected exception, an outage."""


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema with its limits on and parsing/validation cached (about 3.5x on small queries)."""
    query = merged("Query", QUERY_TYPES, QUERY_DESCRIPTION)
    mutation = merged("Mutation", MUTATION_TYPES, MUTATION_DESCRIPTION)
    subscription = merged("Subscription", SUBSCRIPTION_TYPES, SUBSCRIPTION_DESCRIPTION) if SUBSCRIPTION_TYPES else None
    rules = (*limit_rules(settings), NoSubscriptionsOverHttp)  # the WebSocket hub validates its own
    return GatehouseSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        # a factory: one instance per request, its caches module-level and shared (schema/operation.py)
        extensions=[lambda: OperationPolicy(rules, settings.graphql_max_tokens)],
        execution_context_class=AcyclicExecutionContext,  # freed by refcounting (schema/execution.py)
        # a literal 1e999 is refused, not stored as null; times are written as REST writes them
        scalar_overrides={JSON: FINITE_JSON, datetime: WIRE_DATETIME},
    )
