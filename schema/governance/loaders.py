"""Per-request DataLoaders for the governance types, so lists never issue one query per row."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from resolvers.context import Context
from resolvers.governance import explanations, reads
from resolvers.notifications import reads as notification_reads
from schema.context import GraphQLContext

Batch = Callable[[Context, Sequence[str]], Awaitable[Sequence[Any]]]


def loader(info: Info[GraphQLContext, None], batch: Batch) -> DataLoader[str, Any]:
    """The request's loader for `batch`, created on first use."""
    loaders = info.context.loaders
    name = batch.__name__
    if name not in loaders:
        ctx = info.context.ctx

        async def load(keys: list[str]) -> Sequence[Any]:
            return await batch(ctx, keys)

        loaders[name] = DataLoader(load_fn=load)
    return loaders[name]  # type: ignore[no-any-return]


ACTIONS = reads.actions_by_id
APPROVALS = reads.approvals_by_action
HISTORY = reads.history_by_action
POLICIES = reads.policies_by_id
NOTIFICATIONS = notification_reads.by_action
EXPLANATIONS = explanations.explain_actions
