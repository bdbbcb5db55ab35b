"""Retention: trimming entries older than `audit_retention_days` (0 keeps them forever).

Only sealed entries are trimmed, oldest positions first; the hash of the last entry removed
becomes the chain's anchor, from which verify starts, so the kept chain stays verifiable. Trimming
takes the sealer's lock, so a chain head and its anchor never move at once.
"""

from __future__ import annotations

from datetime import timedelta

from tortoise.functions import Max

from app.core.after_commit import atomic
from app.core.clock import utcnow
from app.core.settings import Settings
from models.audit import AuditChain, AuditEntry
from models.db import is_postgres, pg_execute
from resolvers.audit.sealer import CHAIN_LOCK


async def trim_expired(settings: Settings) -> int:
    """Trim every organization's expired entries; returns how many were removed."""
    days = settings.audit_retention_days
    if days <= 0:
        return 0
    return await trim_before(utcnow() - timedelta(days=days))


async def trim_before(cutoff_time: object) -> int:
    """Remove, per organization, the sealed entries up to the last position made before `cutoff_time`."""
    removed = 0
    async with atomic() as conn:
        if is_postgres(conn):
            await pg_execute("SELECT pg_advisory_xact_lock($1)", CHAIN_LOCK, conn=conn)
        expired = (AuditEntry.filter(created_at__lt=cutoff_time, position__isnull=False)
                   .annotate(last=Max("position")).group_by("organization_id").using_db(conn))
        for organization_id, last in await expired.values_list("organization_id", "last"):
            kept_from = await AuditEntry.filter(organization_id=organization_id, position=last).using_db(conn).get()
            removed += await AuditEntry.filter(organization_id=organization_id, position__lte=last).using_db(
                conn).delete()
            await AuditChain.filter(organization_id=organization_id).using_db(conn).update(
                anchor_position=last, anchor_hash=kept_from.hash)
    return removed
