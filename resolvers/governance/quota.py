"""The monthly action quota: counted in one atomic statement, so concurrent proposals never overshoot.

``INSERT ... ON CONFLICT DO UPDATE SET used = used + 1 WHERE used < limit RETURNING used`` either
takes a unit or returns no row; PostgreSQL's row lock on the counter serialises the increments and
SQLite runs the statement alone. It runs outside the proposal's transaction (so the lock is held
for one statement, not for the whole proposal); a proposal that fails afterwards gives its unit back.
"""

from __future__ import annotations

from typing import Final

from tortoise import connections

from app.core.clock import utcnow
from resolvers.errors import QuotaExceeded

MONTHLY_QUOTA: Final[dict[str, int | None]] = {"free": 1_000, "pro": 100_000, "enterprise": None}
UNLIMITED: Final = 2**31 - 1

_TAKE = (
    "INSERT INTO quota_usage (organization_id, month, used) VALUES ({0}, {1}, 1) "
    "ON CONFLICT (organization_id, month) DO UPDATE SET used = quota_usage.used + 1 "
    "WHERE quota_usage.used < {2} RETURNING used"
)
_GIVE_BACK = "UPDATE quota_usage SET used = used - 1 WHERE organization_id = {0} AND month = {1} AND used > 0"


def current_month() -> str:
    return utcnow().strftime("%Y-%m")


def monthly_limit(plan: str) -> int:
    """The plan's monthly allowance; unknown plans get the free one."""
    limit = MONTHLY_QUOTA.get(plan, MONTHLY_QUOTA["free"])
    return UNLIMITED if limit is None else limit


def _sql(template: str, count: int) -> str:
    conn = connections.get("default")
    marks = [f"${i}" for i in range(1, count + 1)] if conn.capabilities.dialect == "postgres" else ["?"] * count
    return template.format(*marks)


async def take(organization_id: str, plan: str) -> str | None:
    """Count one proposal this month, or raise QuotaExceeded (402); returns the month counted, or
    None for an unlimited plan: nothing reads its count, and one counter row per organization
    that every concurrent proposal updates would serialise them on its row lock for nothing."""
    if plan in MONTHLY_QUOTA and MONTHLY_QUOTA[plan] is None:
        return None
    month = current_month()
    limit = monthly_limit(plan)
    conn = connections.get("default")
    rows = await conn.execute_query_dict(_sql(_TAKE, 3), [organization_id, month, limit])
    if not rows:
        raise QuotaExceeded(f"monthly action quota of the {plan} plan ({limit}) is used up")
    return month


async def give_back(organization_id: str, month: str | None) -> None:
    """Undo `take` for a proposal that was not stored after all (nothing to undo when unlimited)."""
    if month is None:
        return
    conn = connections.get("default")
    await conn.execute_query(_sql(_GIVE_BACK, 2), [organization_id, month])
