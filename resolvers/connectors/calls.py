"""A connector's call log, newest first: what ran, when, how long, how it ended."""

from __future__ import annotations

from models.connectors import CALL_STATUSES, ConnectorCall
from resolvers.connectors.connectors import find
from resolvers.context import Context
from resolvers.errors import Invalid
from resolvers.pagination import Page, paginate


async def list_calls(
    ctx: Context, connector_id: str, *, status: str | None = None, limit: int | None = None, cursor: str | None = None
) -> Page[ConnectorCall]:
    connector = await find(ctx, connector_id)
    query = ConnectorCall.filter(connector_id=connector.id)
    if status is not None:
        if status not in CALL_STATUSES:  # as every other list's status filter (one past the column's 16 was a 500)
            raise Invalid(f"status must be one of {', '.join(CALL_STATUSES)}")
        query = query.filter(status=status)
    return await paginate(query, limit, cursor)
