"""What storage refuses, recognised from the libraries' own errors (the doors answer them 400)."""

from __future__ import annotations

import asyncpg
import pytest
from tortoise.exceptions import ValidationError

from app.core.storable import refused_length
from models.audit import AuditEntry
from tests.conftest import DATABASE_URL, Tenant


async def test_a_value_longer_than_its_column_is_recognised_from_tortoise_and_postgresql(tenant: Tenant) -> None:
    with pytest.raises(ValidationError) as by_tortoise:
        await AuditEntry.filter(organization_id=tenant.organization_id, key_id="k" * 40).first()
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        await conn.execute("CREATE TEMP TABLE short (v varchar(3))")
        with pytest.raises(asyncpg.exceptions.StringDataRightTruncationError) as by_postgres:
            await conn.execute("INSERT INTO short VALUES ($1)", "four")
    finally:
        await conn.close()
    wrapped = RuntimeError("while listing")
    wrapped.__cause__ = by_tortoise.value
    assert refused_length(by_tortoise.value) and refused_length(by_postgres.value) and refused_length(wrapped)
    assert not refused_length(ValidationError("Value must not be None"))
    assert not refused_length(ValueError("Length of the queue 3 > 2"))
