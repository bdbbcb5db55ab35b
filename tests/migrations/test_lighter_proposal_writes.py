"""Migration 0018 on PostgreSQL: a proposal's rows no longer lock their organization's row, and the
expiry, per-agent and idempotency indexes hold only the actions they serve."""

from __future__ import annotations

from tortoise import connections

PARTIAL = {
    "actions_pending_expiry": "WHERE ((status)::text = 'pending_approval'::text)",
    "actions_by_agent": "WHERE (agent_id IS NOT NULL)",
    "actions_idempotency_key": "WHERE (idempotency_key IS NOT NULL)",
}


async def test_proposal_tables_keep_no_key_to_organizations(server: str) -> None:
    rows = await connections.get("default").execute_query_dict(
        "SELECT conrelid::regclass::text AS tbl FROM pg_constraint WHERE contype = 'f' "
        "AND confrelid = 'organizations'::regclass AND conrelid::regclass::text IN ('actions', 'events', 'approvals')"
    )
    assert rows == []


async def test_three_action_indexes_are_partial(server: str) -> None:
    rows = await connections.get("default").execute_query_dict(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'actions'"
    )
    defs = {r["indexname"]: r["indexdef"] for r in rows}
    for name, predicate in PARTIAL.items():
        assert defs[name].endswith(predicate), defs[name]
    assert "UNIQUE" in defs["actions_idempotency_key"]
    assert not any("(status, expires_at)" in d for d in defs.values())
