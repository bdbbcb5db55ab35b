"""The GraphQL schema: root types merged from each domain's queries and mutations."""

from __future__ import annotations

import strawberry
from graphql import ASTValidationRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.tools import merge_types

from app.core.settings import Settings
from schema.connectors.mutations import ConnectorMutations
from schema.connectors.queries import ConnectorQueries
from schema.governance.mutations import GovernanceMutations
from schema.governance.queries import GovernanceQueries
from schema.keys.mutations import KeyMutations
from schema.keys.queries import KeyQueries
from schema.operation import OperationPolicy
from schema.realtime.subscriptions import RealtimeSubscriptions
from schema.webhooks.mutations import WebhookMutations
from schema.webhooks.queries import WebhookQueries
from schema.workflows.mutations import WorkflowMutations
from schema.workflows.queries import WorkflowQueries

QUERY_TYPES: tuple[type, ...] = (KeyQueries, GovernanceQueries, WebhookQueries, ConnectorQueries, WorkflowQueries)
MUTATION_TYPES: tuple[type, ...] = (
    KeyMutations, GovernanceMutations, WebhookMutations, ConnectorMutations, WorkflowMutations,
)
SUBSCRIPTION_TYPES: tuple[type, ...] = (RealtimeSubscriptions,)


def limit_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    """The depth and alias rules, made once per schema. Each limiter instance makes new rule classes,
    and the validation cache is keyed by the rule classes: limiters made per request missed it on
    every request, so every query was fully validated again (most of proposeAction's CPU time)."""
    depth = QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules
    aliases = MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases).validation_rules
    return [*depth, *aliases]


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema with its limits on and parsing/validation cached (about 3.5x on small queries)."""
    query = merge_types("Query", QUERY_TYPES)
    mutation = merge_types("Mutation", MUTATION_TYPES)
    subscription = merge_types("Subscription", SUBSCRIPTION_TYPES) if SUBSCRIPTION_TYPES else None
    rules = tuple(limit_rules(settings))
    return strawberry.Schema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        # a factory: one instance per request, its caches module-level and shared (schema/operation.py)
        extensions=[lambda: OperationPolicy(rules, settings.graphql_max_tokens)],
    )
