"""What the REST and GraphQL insert baselines share: the row they write and how they write it.

Both baselines must write the same row as Gatehouse's proposal (one `act_` row with JSONB actor and
params), so the comparison measures the framework layers above the insert and not a cheaper write.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

import asyncpg

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gatehouse_bench")
ORG_ID = "org_bench_baseline"
POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "10"))

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS bench_action (
    id text PRIMARY KEY,
    org_id text NOT NULL,
    type text NOT NULL,
    actor jsonb NOT NULL,
    target text,
    params jsonb NOT NULL,
    status text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""

INSERT_ACTION = """
INSERT INTO bench_action (id, org_id, type, actor, target, params, status)
VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7)
"""


def new_action_id() -> str:
    """An unguessable prefixed id, shaped like Gatehouse's."""
    return "act_" + secrets.token_urlsafe(16)


async def open_pool() -> asyncpg.Pool:
    """Open the pool and make sure the table exists (the baselines own their schema)."""
    pool = await asyncpg.create_pool(DATABASE_URL, min_size=POOL_SIZE, max_size=POOL_SIZE)
    async with pool.acquire() as conn:
        await conn.execute(CREATE_TABLE)
    return pool


async def insert_action(pool: asyncpg.Pool, type_: str, actor: Any, target: str | None, params: Any) -> str:
    """Insert one approved action row and return its id."""
    action_id = new_action_id()
    await pool.execute(
        INSERT_ACTION,
        action_id,
        ORG_ID,
        type_,
        json.dumps(actor or {}),
        target,
        json.dumps(params or {}),
        "approved",
    )
    return action_id


def approved_response(action_id: str) -> dict[str, Any]:
    """The documented proposal answer for an action no policy matched."""
    return {
        "actionId": action_id,
        "status": "approved",
        "policyIds": [],
        "decision": {"status": "approved", "checks": []},
    }
