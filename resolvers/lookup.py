"""Finding the caller's rows: ids as clients send them, scoped to the caller's organization.

Tenancy lives here once: another organization's row and an absent one are the same NotFound, and
an id no row can have is NotFound too, never a database error.
"""

from __future__ import annotations

from typing import Any, TypeVar

from tortoise import connections
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
    """The caller's `model` row `row_id`; `lock` takes a row lock for the caller's transaction.

    One statement written out, its row built as Tortoise builds the rows it reads
    (`_init_from_db`): Tortoise's query builder looked the connection up some thirty times per
    query, and was half of a `GET /actions/{id}`. `connections.get` gives the caller's transaction
    when there is one, as a QuerySet would."""
    db = conn if conn is not None else connections.get(model._meta.default_connection or "default")
    postgres = db.capabilities.dialect == "postgres"
    sql = _OWNED_PG if postgres else _OWNED_SQLITE
    rows = await db.execute_query_dict(
        sql.format(table=model._meta.db_table, lock=" FOR UPDATE" if lock and postgres else ""),
        [lookup_id(row_id, what), ctx.organization_id],
    )
    if not rows:
        raise NotFound(f"{what} {row_id} not found")
    return model._init_from_db(**rows[0])


_OWNED_PG = 'SELECT * FROM "{table}" WHERE id = $1 AND organization_id = $2 LIMIT 1{lock}'
_OWNED_SQLITE = 'SELECT * FROM "{table}" WHERE id = ? AND organization_id = ? LIMIT 1{lock}'


async def held_for_reference(model: type[M], ctx: Context, ids: set[str], conn: Any) -> dict[str, M]:
    """Those of `ids` that are still the caller's `model` rows, by id, each held (FOR KEY SHARE, in id
    order) until `conn`'s transaction ends, so that a saved reference to them cannot outlive a delete
    or an update racing the save: one that locks its row FOR UPDATE before checking who refers to it
    either waits for this transaction and sees its reference, or makes it wait, and the rows read
    here are then as it left them (or gone). KEY SHARE conflicts with nothing but FOR UPDATE, a
    delete or a key change, so saves never wait on each other. SQLite (embedded, one process) runs
    one transaction at a time and takes no row lock."""
    if not ids:
        return {}
    table, ordered = model._meta.db_table, sorted(ids)
    if conn.capabilities.dialect == "postgres":
        sql = f'SELECT * FROM "{table}" WHERE organization_id = $1 AND id = ANY($2::text[]) ORDER BY id FOR KEY SHARE'
        rows = await conn.execute_query_dict(sql, [ctx.organization_id, ordered])
    else:
        marks = ", ".join("?" for _ in ordered)
        sql = f'SELECT * FROM "{table}" WHERE organization_id = ? AND id IN ({marks})'
        rows = await conn.execute_query_dict(sql, [ctx.organization_id, *ordered])
    return {row["id"]: model._init_from_db(**row) for row in rows}
