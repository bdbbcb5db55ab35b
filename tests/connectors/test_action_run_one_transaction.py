"""A direct connector call's call log row and its `connector.action_run` audit entry are written in
one transaction, after the provider answered: both or neither. When that write fails (here the
database refuses the entry: a trigger on audit_entries, made from a connection of the test's own)
the provider has acted all the same, so the caller still gets what it answered (200 with the
output, or 502 CONNECTOR_FAILED), never a 500 inviting a retry that acts twice, and no call log row
is left without its entry. (Before: the row was committed alone, then the entry's insert failed
and the call answered 500 INTERNAL.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from tests.conftest import DATABASE_URL, Tenant
from tests.connectors.fakes.base import serving
from tests.connectors.test_deleted_mid_call import Slow

KIND = "connector.action_run"
RUN = ("mutation($id: ID!, $i: JSON!) { runConnectorAction(connectorId: $id, action: \"request\", input: $i) "
       "{ output callId } }")
REFUSE = f"""
CREATE FUNCTION test_refuse_action_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.type = '{KIND}' THEN RAISE EXCEPTION 'test: audit entry refused'; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER test_refuse_action_run BEFORE INSERT ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION test_refuse_action_run();
"""
ALLOW = ("DROP TRIGGER IF EXISTS test_refuse_action_run ON audit_entries; "
         "DROP FUNCTION IF EXISTS test_refuse_action_run();")


@pytest.fixture
async def db() -> AsyncIterator[asyncpg.Connection]:
    """A connection of the test's own, beside the server's pool; the trigger never outlives the test."""
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        yield conn
    finally:
        await conn.execute(ALLOW)
        await conn.close()


async def _run(tenant: Tenant, kind: str, connector: str, path: str) -> tuple[int, dict[str, Any]]:
    """One direct call through `kind`'s door: (HTTP-like status, its answer or its error body)."""
    if kind == "rest":
        async with tenant.client() as c:
            ran = await c.post(f"/api/v1/connectors/{connector}/actions/request", json={"input": {"url": path}})
        return ran.status_code, ran.json()
    out = await tenant.graphql(RUN, {"id": connector, "i": {"url": path}})
    if out.get("errors"):
        extensions = out["errors"][0]["extensions"]
        return {"CONNECTOR_FAILED": 502}.get(extensions["code"], 500), {**extensions,
                                                                          "message": out["errors"][0]["message"]}
    return 200, out["data"]["runConnectorAction"]


async def _calls_and_entries(db: asyncpg.Connection, connector: str) -> tuple[set[str], set[str]]:
    """The connector's call log row ids, and the call ids its `connector.action_run` entries name."""
    calls = await db.fetch("SELECT id FROM connector_calls WHERE connector_id = $1", connector)
    named = await db.fetch("SELECT changes->'after'->>'callId' AS id FROM audit_entries "
                           "WHERE type = $1 AND resource_id = $2", KIND, connector)
    return {r["id"] for r in calls}, {r["id"] for r in named}


@pytest.mark.parametrize("kind", ["rest", "graphql"])
async def test_an_entry_refused_leaves_neither_row_and_the_caller_gets_what_the_provider_answered(
    tenant: Tenant, db: asyncpg.Connection, kind: str
) -> None:
    provider = Slow(delay=0)
    async with serving(provider) as base_url:
        async with tenant.client() as c:
            made = await c.post("/api/v1/connectors", json={"name": "h", "type": "http",
                                                             "config": {"baseUrl": base_url}})
        assert made.status_code == 201, made.text
        connector = made.json()["id"]

        await db.execute(REFUSE)
        ok_status, ok = await _run(tenant, kind, connector, "/ok")
        failed_status, failed = await _run(tenant, kind, connector, "/fail")
        await db.execute(ALLOW)
        again_status, again = await _run(tenant, kind, connector, "/ok")

    assert len(provider.requests) == 3
    # the provider acted: the caller is told what it answered, not a 500
    assert ok_status == 200, ok
    assert ok["output"]["body"] == {"sent": True} and ok["callId"].startswith("call_"), ok
    assert failed_status == 502, failed
    assert failed.get("error", failed.get("code")) == "CONNECTOR_FAILED" and failed["retryable"] is True, failed
    assert "Traceback" not in str(failed)
    # both or neither: the refused entries took their call log rows with them
    calls, entries = await _calls_and_entries(db, connector)
    assert calls == entries, (calls, entries)
    assert not {ok["callId"], failed["callId"]} & (calls | entries), (calls, entries)
    # once the database takes entries again, a call leaves its row and its entry
    assert again_status == 200, again
    assert calls == entries == {again["callId"]}
