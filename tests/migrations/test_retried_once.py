"""Migration 0024: one retry per execution, on a database the old code may have given several.

The first retry of an execution (by creation) stays its retry; later ones lose their `retry_of`
and keep everything else; a chain (a retry of the retry) is untouched. After it the database
refuses a second retry and still takes any number of executions that retry nothing; its reverse
drops the index. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import PG_ROOT, TEST_DB
from tests.migrations.test_relay_queue import _tortoise_migrate
from tests.processes import gatehouse_env

BEFORE = "0023_mcp_call_claims"
MIGRATED_DB = f"{TEST_DB}_retried_once"
AT = "2026-01-01 00:00:0{}+00:00"
# (id, retry_of, second of creation): exec_b2 and exec_b3 retried exec_a after exec_b1 did (exec_b3
# at the same second as exec_b1: the id decides); exec_c retried exec_b1.
EXECUTIONS = [("exec_a", None, 1), ("exec_b2", "exec_a", 3), ("exec_b1", "exec_a", 2), ("exec_b3", "exec_a", 2),
              ("exec_c", "exec_b1", 4), ("exec_d", None, 5)]
SETUP = [
    "INSERT INTO organizations (id, name, plan, created_at) VALUES ('org_m', 'm', 'free', '2026-01-01')",
    "INSERT INTO workflows (id, organization_id, name, is_public, definition, version, created_at, updated_at)"
    " VALUES ('wf_m', 'org_m', 'w', false, '{}', 1, '2026-01-01', '2026-01-01')",
    "INSERT INTO workflow_versions (id, workflow_id, number, definition, created_at)"
    " VALUES (1, 'wf_m', 1, '{}', '2026-01-01')",
]


def _execution(execution_id: str, retry_of: str | None, second: int) -> str:
    retried = "NULL" if retry_of is None else f"'{retry_of}'"
    return ("INSERT INTO executions (id, organization_id, workflow_id, version_id, status, input, current_step,"
            f" lease, created_at, updated_at, retry_of) VALUES ('{execution_id}', 'org_m', 'wf_m', 1, 'failed',"
            f" '{{}}', 0, 0, '{AT.format(second)}', '{AT.format(second)}', {retried})")


Run = Callable[[str], Awaitable[list[tuple[str, str | None]]]]


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[str, Run]]:
    """A database URL and a way to run one statement on it (its rows as (id, retry_of) pairs)."""
    if request.param == "sqlite":
        path = tmp_path / "upgrade.db"

        async def on_sqlite(sql: str) -> list[tuple[str, str | None]]:
            with sqlite3.connect(path) as db:
                return list(db.execute(sql))

        yield f"sqlite://{path}", on_sqlite
        return
    admin = await asyncpg.connect(f"{PG_ROOT}/postgres")
    await admin.execute(f'DROP DATABASE IF EXISTS "{MIGRATED_DB}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{MIGRATED_DB}"')

    async def on_postgres(sql: str) -> list[tuple[str, str | None]]:
        conn = await asyncpg.connect(f"{PG_ROOT}/{MIGRATED_DB}")
        try:
            return [tuple(row) for row in await conn.fetch(sql)]
        finally:
            await conn.close()

    try:
        yield f"{PG_ROOT}/{MIGRATED_DB}", on_postgres
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{MIGRATED_DB}" WITH (FORCE)')
        await admin.close()


async def _refused(run: Run, sql: str) -> bool:
    try:
        await run(sql)
    except (sqlite3.IntegrityError, asyncpg.UniqueViolationError):
        return True
    return False


async def test_later_duplicate_retries_are_unlinked_and_a_second_retry_is_refused(
        database: tuple[str, Run]) -> None:
    url, run = database
    env = gatehouse_env(DATABASE_URL=url)
    _tortoise_migrate(env, "models", BEFORE)
    for sql in [*SETUP, *(_execution(*row) for row in EXECUTIONS)]:
        await run(sql)
    _tortoise_migrate(env)
    links = dict(await run("SELECT id, retry_of FROM executions"))
    second_retry = await _refused(run, _execution("exec_b4", "exec_a", 6))
    await run(_execution("exec_e", None, 7))  # executions that retry nothing: any number
    _tortoise_migrate(env, "models", BEFORE)  # the reverse
    allowed_after_reverse = not await _refused(run, _execution("exec_b5", "exec_a", 8))
    assert links == {"exec_a": None, "exec_b1": "exec_a", "exec_b2": None, "exec_b3": None,
                     "exec_c": "exec_b1", "exec_d": None}
    assert second_retry
    assert allowed_after_reverse
