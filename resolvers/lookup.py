"""Finding the caller's rows: ids as clients send them, scoped to the caller's organization.

Tenancy lives here once: another organization's row and an absent one are the same NotFound, and
an id no row can have is NotFound too, never a database error.
"""

from __future__ import annotations

from typing import Any, TypeVar

from tortoise.models import Model

from resolvers.context import Context
from resolvers.errors import NotFound

MAX_ID_LENGTH = 64
M = TypeVar("M", bound=Model)


def lookup_id(value: str, what: str) -> str:
    """Return `value` if it could be an id; otherwise raise NotFound naming `what`."""
    if "\x00" in value or len(value) > MAX_ID_LENGTH:
        raise NotFound(f"{what} not found")
    return value


async def owned(
    model: type[M], ctx: Context, row_id: str, what: str, *, conn: Any = None, lock: bool = False
) -> M:
    """The caller's `model` row `row_id`; `lock` takes a row lock for the caller's transaction."""
    query = model.filter(id=lookup_id(row_id, what), organization_id=ctx.organization_id)
    if conn is not None:
        query = query.using_db(conn)
    if lock and not ctx.settings.is_sqlite:
        query = query.select_for_update()
    row = await query.first()
    if row is None:
        raise NotFound(f"{what} {row_id} not found")
    return row
