"""Expiry outcomes with two `gatehouse worker` processes racing for the same overdue actions:
`reject`, `approve`, `expire` and `escalate` each happen exactly once per action (one history row,
one event), and an escalation re-opens the approval to the `escalateTo` group only: its members
decide (REST and GraphQL), the original approvers no longer may, and an escalated action nobody
decides expires at its second deadline.

A `gatehouse serve` and the two workers run on their own database, so the in-process test
server's expiry job cannot take the work in their place.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
import pytest

from tests.approvals.review_helpers import Key, create_group, create_policy, make_key, propose, refused
from tests.conftest import PG_ROOT, REDIS_URL, TEST_DB, Tenant, free_port
from tests.processes import gatehouse_env, run_cli, running

EXPIRY_DB = f"{TEST_DB}_expiry"
PER_OUTCOME = 6


@pytest.fixture
async def expiry_db() -> AsyncIterator[str]:
    conn = await asyncpg.connect(f"{PG_ROOT}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{EXPIRY_DB}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{EXPIRY_DB}"')
    finally:
        await conn.close()
    yield f"{PG_ROOT}/{EXPIRY_DB}"


async def _rows(database_url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def _until(database_url: str, sql: str, ids: list[str], within: float = 60.0) -> None:
    """Wait until `sql` (taking the ids as $1) counts every one of them (watched in the database)."""
    deadline = time.monotonic() + within
    while (await _rows(database_url, sql, ids))[0][0] < len(ids):
        assert time.monotonic() < deadline, f"not all of {ids} reached: {sql}"
        await asyncio.sleep(0.1)


RULES = [
    {"when": {"actionType": "exp_reject"}, "approvers": ["leads"], "onExpire": "reject", "expiresIn": 1},
    {"when": {"actionType": "exp_approve"}, "approvers": ["leads"], "onExpire": "approve", "expiresIn": 1},
    {"when": {"actionType": "exp_expire"}, "approvers": ["leads"], "expiresIn": 1},
    {"when": {"actionType": "exp_escalate"}, "approvers": ["leads"], "onExpire": "escalate",
     "escalateTo": "oncall", "expiresIn": 4},
]


async def test_each_outcome_once_with_two_workers_and_escalation_reaches_the_second_group(expiry_db: str) -> None:
    env = gatehouse_env(
        DATABASE_URL=expiry_db, REDIS_URL=REDIS_URL, GATEHOUSE_INPROCESS_WORKERS="false",
        GATEHOUSE_DB_POOL_SIZE="4", GATEHOUSE_LOG_JSON="false",
    )
    assert (migrated := run_cli("migrate", env=env)).returncode == 0, migrated.stderr
    created = run_cli("create-org", "acme", "--plan", "enterprise", "--json", env=env)
    assert created.returncode == 0, created.stderr
    org = orjson.loads(created.stdout)
    port = free_port()
    with running("serve", "--port", str(port), env=env, port=port):
        admin = Tenant(org["organizationId"], org["apiKey"], f"http://127.0.0.1:{port}")
        agent = await make_key(admin, "agent", ["actions:write"])
        alice, bob, carol, dave = [await make_key(admin, n, ["approvals:write", "actions:read"])
                                   for n in ("alice", "bob", "carol", "dave")]
        await create_group(admin, "leads", [alice.id, bob.id])
        await create_group(admin, "oncall", [carol.id, dave.id])
        await create_policy(admin, RULES)
        ids: dict[str, list[str]] = {}
        for kind in ("exp_reject", "exp_approve", "exp_expire"):
            ids[kind] = [(await propose(agent, kind))["actionId"] for _ in range(PER_OUTCOME)]
        escalating = [await propose(agent, "exp_escalate") for _ in range(3)]
        ids["exp_escalate"] = [p["actionId"] for p in escalating]
        await asyncio.sleep(1.2)  # every short deadline has passed before any worker runs

        with running("worker", env=env), running("worker", env=env):
            decided = "SELECT count(*) FROM actions WHERE id = ANY($1) AND status = $2"
            for kind, status in (("exp_reject", "rejected"), ("exp_approve", "approved"),
                                 ("exp_expire", "expired")):
                await _until(expiry_db, decided.replace("$2", f"'{status}'"), ids[kind])
            await _until(expiry_db, "SELECT count(*) FROM actions WHERE id = ANY($1) AND escalated_at IS NOT NULL",
                         ids["exp_escalate"])
            await _decide_escalated(escalating, alice, carol, dave)
            await _until(expiry_db, decided.replace("$2", "'expired'"), ids["exp_escalate"][2:])
            await asyncio.sleep(1.0)  # give both workers time to do anything twice, were they to

        await _assert_once(expiry_db, ids)
        read = await agent.graphql('query($id: ID!) { action(id: $id) { status reason review { onExpire } } }',
                                   {"id": ids["exp_reject"][0]})
        assert read["data"]["action"]["status"] == "REJECTED".lower()
        assert "onExpire" in read["data"]["action"]["reason"]


async def _decide_escalated(escalating: list[dict[str, Any]], alice: Key, carol: Key, dave: Key) -> None:
    """The first two escalated actions: the original approver is refused, the second group decides."""
    first, second = escalating[0], escalating[1]
    async with alice.client() as c:
        refused(await c.post(f"/approvals/{first['approvalId']}/approve"), 403, "FORBIDDEN", "escalat")
        read = (await c.get(f"/actions/{first['actionId']}")).json()
    assert sorted(read["review"]["approvers"]) == sorted([carol.id, dave.id])
    assert read["review"]["escalatedAt"] is not None and read["review"]["escalateTo"].startswith("grp_")
    async with carol.client() as c:
        approved = await c.post(f"/actions/{first['actionId']}/approve", json={"comment": "on call says yes"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    mutation = 'mutation($id: ID!) { approveAction(approvalId: $id) { status } }'
    denied = await alice.graphql(mutation, {"id": second["approvalId"]})
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    review = await dave.graphql('query($id: ID!) { action(id: $id) { review { approvers escalatedAt } } }',
                                {"id": second["actionId"]})
    assert sorted(review["data"]["action"]["review"]["approvers"]) == sorted([carol.id, dave.id])
    assert (await dave.graphql(mutation, {"id": second["approvalId"]}))["data"]["approveAction"]["status"] == \
        "approved"


async def _assert_once(database_url: str, ids: dict[str, list[str]]) -> None:
    events = await _rows(database_url, "SELECT type, data->>'actionId' AS action FROM events "
                                       "WHERE type LIKE 'action.%' AND type <> 'action.pending_approval'")
    seen = Counter((row["action"], row["type"]) for row in events)
    history = await _rows(database_url, "SELECT action_id, kind, by FROM action_history WHERE kind <> 'proposed'")
    kinds = Counter((row["action_id"], row["kind"]) for row in history)
    expected = {"exp_reject": "rejected", "exp_approve": "approved", "exp_expire": "expired"}
    for kind, status in expected.items():
        for action_id in ids[kind]:
            assert {k: v for k, v in seen.items() if k[0] == action_id} == {(action_id, f"action.{status}"): 1}
            assert {k: v for k, v in kinds.items() if k[0] == action_id} == {(action_id, status): 1}
    escalated = ids["exp_escalate"]
    outcomes = ["approved", "approved", "expired"]
    for action_id, outcome in zip(escalated, outcomes, strict=True):
        assert {k: v for k, v in seen.items() if k[0] == action_id} == {
            (action_id, "action.escalated"): 1, (action_id, f"action.{outcome}"): 1}
        assert {k: v for k, v in kinds.items() if k[0] == action_id} == {
            (action_id, "escalated"): 1, (action_id, outcome): 1}
    assert all(row["by"] == "system:expiry" for row in history if row["kind"] in ("escalated", "expired"))
