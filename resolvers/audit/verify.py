"""Verify: recompute an organization's chain and name the first entry that does not match.

The walk goes by chain position from the anchor (or from the first entry of the range asked), in
batches of rows.BATCH, so its memory is bounded whatever the chain's length. A position with no
entry is a removed (or moved) entry; a hash that differs from the recomputed one is a changed or
reordered entry, or one after it. A range's neighbours must hold on to it: the entry before its
first must be there (its hash is where the walk starts) and so must the one after its last, or the
range's last entries (or all of them) could be removed unseen. Entries not sealed yet are counted as
pending, not checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.audit import AuditChain, AuditEntry
from resolvers.access import require
from resolvers.audit import rows
from resolvers.audit.chain import GENESIS, ChainEntry, link
from resolvers.audit.reads import SCOPE, time_range
from resolvers.context import Context


@dataclass(slots=True)
class Mismatch:
    """The first entry that breaks the chain; `entry_id` is None when the chain's last entries are missing."""

    problem: str  # "hash" (changed or reordered) | "missing" (no entry holds this position)
    position: int
    entry_id: str | None
    expected: str | None
    stored: str | None


    def to_wire(self) -> dict[str, Any]:
        return {"problem": self.problem, "position": self.position, "entryId": self.entry_id,
                "expected": self.expected, "stored": self.stored}


@dataclass(slots=True)
class Verification:
    organization_id: str
    ok: bool
    checked: int
    pending: int
    first_position: int | None
    last_position: int | None
    anchor_position: int
    head_position: int
    mismatch: Mismatch | None = None

    def to_wire(self) -> dict[str, Any]:
        """The answer of both doors and the CLI."""
        return {
            "organizationId": self.organization_id, "ok": self.ok, "checked": self.checked, "pending": self.pending,
            "firstPosition": self.first_position, "lastPosition": self.last_position,
            "anchorPosition": self.anchor_position, "headPosition": self.head_position,
            "mismatch": self.mismatch.to_wire() if self.mismatch is not None else None,
        }


@dataclass(slots=True)
class _Walk:
    start: int  # the first position to check
    end: int  # the last
    previous: str | None  # the hash the start follows; None when its predecessor is missing


async def verify_for(ctx: Context, since: str | datetime | None = None,
                     before: str | datetime | None = None) -> Verification:
    """The caller's chain over [since, before) (scope audit:read; a bad time range is a 400)."""
    require(ctx, SCOPE)
    start, end = time_range(since, before)
    return await verify(ctx.organization_id, start, end)


async def verify(organization_id: str, since: datetime | None = None, before: datetime | None = None) -> Verification:
    """Check the sealed entries made in [since, before) (all when neither is given)."""
    # pending first: an entry sealed between the two reads is then counted pending, never missed
    pending = await AuditEntry.filter(organization_id=organization_id, position__isnull=True).count()
    chain = await AuditChain.get_or_none(organization_id=organization_id)
    anchor, anchor_hash = (chain.anchor_position, chain.anchor_hash or GENESIS) if chain else (0, GENESIS)
    head = chain.position if chain else 0
    result = Verification(organization_id, True, 0, pending, None, None, anchor, head)
    walk = await _walk_of(organization_id, anchor, anchor_hash, head, since, before)
    if walk is None:  # no entry made in the range: the one after the last made before it must follow it
        last = await rows.position_bounds(organization_id, anchor, head, None, since) if since is not None else None
        result.mismatch = await _gap_after(organization_id, last[1] if last is not None else anchor, head)
        result.ok = result.mismatch is None
        return result
    result.first_position = walk.start
    if walk.previous is None:
        result.ok, result.mismatch = False, Mismatch("missing", walk.start - 1, None, None, None)
        return result
    await _check(organization_id, walk, result)
    if result.ok:
        result.mismatch = await _gap_after(organization_id, walk.end, head)
        result.ok = result.mismatch is None
    return result


async def _gap_after(organization_id: str, position: int, head: int) -> Mismatch | None:
    """`missing` when no entry holds the position after `position` in a chain that goes on past it."""
    if position >= head:
        return None
    following = await rows.sealed(organization_id, position, until=head, limit=1)
    if following and following[0].position == position + 1:
        return None
    return Mismatch("missing", position + 1, following[0].id if following else None, None, None)


async def _walk_of(
    organization_id: str, anchor: int, anchor_hash: str, head: int, since: datetime | None, before: datetime | None
) -> _Walk | None:
    """Where the range starts and ends in the chain, and the hash its first entry follows."""
    start, end = anchor + 1, head
    if since is not None or before is not None:
        bounds = await rows.position_bounds(organization_id, anchor, head, since, before)
        if bounds is None:
            return None
        start, end = bounds
    if start > end:
        return None
    if start - 1 == anchor:
        return _Walk(start, end, anchor_hash)
    predecessor = await AuditEntry.get_or_none(organization_id=organization_id, position=start - 1)
    return _Walk(start, end, predecessor.hash if predecessor is not None else None)


async def _check(organization_id: str, walk: _Walk, result: Verification) -> None:
    expected_position, previous = walk.start, walk.previous or GENESIS
    while expected_position <= walk.end:
        batch = await rows.sealed(organization_id, expected_position - 1, until=walk.end)
        if not batch:
            break
        for entry in batch:
            mismatch = _mismatch(entry, expected_position, previous)
            if mismatch is not None:
                result.ok, result.mismatch = False, mismatch
                return
            result.checked += 1
            result.last_position = expected_position
            previous, expected_position = entry.hash or "", expected_position + 1
    if expected_position <= walk.end:  # the chain's last entries are gone
        result.ok, result.mismatch = False, Mismatch("missing", expected_position, None, None, None)


def _mismatch(entry: ChainEntry, position: int, previous: str) -> Mismatch | None:
    if entry.position != position:
        return Mismatch("missing", position, entry.id, None, None)
    expected = link(previous, entry, position)
    if expected != entry.hash:
        return Mismatch("hash", position, entry.id, expected, entry.hash)
    return None
