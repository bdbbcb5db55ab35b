"""Policy versions: every create or update keeps the policy's state as a numbered, immutable version.

A version is written in the transaction of the change that made it, so a policy's ``version`` always
names a stored row. Versions stay readable once the policy is archived (the policy row is kept). The
diff between two versions answers the fields that changed and, rule by rule (by position, as authors
edit a list), the rules added, removed and changed.
"""

from __future__ import annotations

from typing import Any, Final

from tortoise.backends.base.client import BaseDBAsyncClient

from app.core.clock import utcnow
from models.governance import Policy, PolicyVersion
from resolvers.access import require
from resolvers.context import Context
from resolvers.errors import Invalid, NotFound
from resolvers.lookup import owned
from resolvers.pagination import Page, check_limit

COMPARED_FIELDS: Final = ("name", "description", "mode", "status", "notify")


async def record(policy: Policy, by: str | None, conn: BaseDBAsyncClient) -> PolicyVersion:
    """Keep `policy` as it now stands as version `policy.version` (inside the change's transaction)."""
    return await PolicyVersion.create(
        organization_id=policy.organization_id, policy_id=policy.id, number=policy.version, name=policy.name,
        description=policy.description, mode=policy.mode, status=policy.status, rules=policy.rules,
        notify=policy.notify, created_at=utcnow(), created_by=by, using_db=conn,
    )


async def list_versions(ctx: Context, policy_id: str, *, limit: int | None = None,
                        cursor: str | None = None) -> Page[PolicyVersion]:
    """A policy's versions, newest first (archived policies included); a cursor is a version number."""
    require(ctx, "policies:read")
    policy = await owned(Policy, ctx, policy_id, "policy")
    size = check_limit(limit)
    query = PolicyVersion.filter(policy_id=policy.id)
    if cursor is not None:
        query = query.filter(number__lt=_cursor_number(cursor))
    rows = await query.order_by("-number").limit(size + 1)
    items = rows[:size]
    cursors = [str(row.number) for row in items]
    return Page(items, cursors, cursors[-1] if len(rows) > size else None)


def _cursor_number(cursor: str) -> int:
    if not cursor.isdigit() or len(cursor) > 9:
        raise Invalid("cursor is not valid")
    return int(cursor)


async def get_version(ctx: Context, policy_id: str, number: int) -> PolicyVersion:
    require(ctx, "policies:read")
    policy = await owned(Policy, ctx, policy_id, "policy")
    row = await PolicyVersion.get_or_none(policy_id=policy.id, number=number)
    if row is None:
        raise NotFound(f"policy {policy_id} has no version {number}")
    return row


def version_number(raw: str | int, what: str) -> int:
    """A version number as a path or argument gives it: a positive whole number, else 404."""
    text = str(raw)
    if not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise NotFound(f"{what} {text[:20]!r} not found")
    return int(text)


async def diff(ctx: Context, policy_id: str, before: int, after: int) -> dict[str, Any]:
    """What changed from version `before` to version `after` of one policy."""
    old = await get_version(ctx, policy_id, before)
    new = await get_version(ctx, policy_id, after)
    return diff_versions(old, new)


def diff_versions(old: PolicyVersion, new: PolicyVersion) -> dict[str, Any]:
    """Changed fields as ``{field: {before, after}}``; rules compared position by position."""
    fields = {name: {"before": getattr(old, name), "after": getattr(new, name)}
              for name in COMPARED_FIELDS if getattr(old, name) != getattr(new, name)}
    return {"policyId": new.policy_id, "from": old.number, "to": new.number, "fields": fields,
            "rules": rules_diff(old.rules, new.rules)}


def rules_diff(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rules added (only in `new`), removed (only in `old`) and changed (same index, other content)."""
    changed = [{"index": i, "before": a, "after": b} for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b]
    added = [{"index": i, "rule": rule} for i, rule in enumerate(new) if i >= len(old)]
    removed = [{"index": i, "rule": rule} for i, rule in enumerate(old) if i >= len(new)]
    return {"added": added, "removed": removed, "changed": changed}
