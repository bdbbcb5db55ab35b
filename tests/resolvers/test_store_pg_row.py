"""The one-statement proposal store writes every Action column and answers with the instance Tortoise
would read back (resolvers/governance/store_pg.py builds it without Tortoise's conversions)."""

from __future__ import annotations

from models.governance import Action
from resolvers.governance import store_pg
from tests.conftest import Tenant


async def test_the_statement_writes_exactly_the_models_columns_under_their_own_names(tenant: Tenant) -> None:
    """(Tortoise knows a model's foreign keys once initialised: the tenant brings the server up.)"""
    meta = Action._meta
    assert set(store_pg._ACTION_COLUMNS) == set(meta.fields_db_projection.values())
    assert all(meta.fields_db_projection[column] == column for column in store_pg._ACTION_COLUMNS)


async def test_the_answered_action_is_the_one_tortoise_reads(tenant: Tenant) -> None:
    async with tenant.client() as c:
        response = await c.post("/actions", json={
            "type": "deploy", "actor": {"kind": "agent", "name": "bot"}, "target": "svc/api",
            "params": {"n": 1, "nested": {"list": [1, "two"]}}, "metadata": {"ticket": "T-1"},
        }, headers={"Idempotency-Key": "row-check"})
    assert response.status_code == 201, response.text
    stored = await Action.get(id=response.json()["actionId"])
    fields = {column: getattr(stored, column) for column in store_pg._ACTION_COLUMNS}
    built, read = store_pg.as_stored(fields), Action._init_from_db(**fields)
    assert built.__dict__ == read.__dict__
    assert built.request_hash is not None and built.params == {"n": 1, "nested": {"list": [1, "two"]}}
