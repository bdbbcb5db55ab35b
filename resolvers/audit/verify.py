"""Verify: recompute an organization's chain and name the first entry that does not match.

The walk goes by chain position from the anchor (or from the first entry of the range asked), in
batches of rows.BATCH, so its memory is bounded whatever the chain's length. A position with no
entry is a removed (or moved) entry; a hash that differs from the recomputed one is a changed or
reordered entry, or one after it. Over a time range, the entry either side of it is checked too
(there, and matching the hash before it): otherwise the range's last entries could be removed, or
its first or last moved out of it by editing their time, unseen. Entries not sealed yet are counted
as pending, not checked.
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


async def verify_for(ctx: Context, since: str | datetime | None = None,
                     before: str | datetime | None = None) -> Verification:
    """The caller's chain over [since, before) (scope audit:read; a bad time range is a 400)."""
    require(ctx, SCOPE)
    start, end = time_range(since, before)
    return await verify(ctx.organization_id, start, end)


async def verify(organization_id: str, since: datetime | None = None, before: datetime | None = None) -> Verification:
    """Check the sealed entries made in [since, before) (all when neither is given), and the entry
    either side of them. Retention trimming while the walk runs removes entries it was about to
    read, which read as missing: a walk that failed while the anchor moved starts again from it (the
    anchor only moves forward, so this ends)."""
    while True:
        result = await _verify_once(organization_id, since, before)
        if result.ok or await _anchor_of(organization_id) == result.anchor_position:
            return result


async def _anchor_of(organization_id: str) -> int:
    chain = await AuditChain.get_or_none(organization_id=organization_id)
    return chain.anchor_position if chain is not None else 0


async def _verify_once(organization_id: str, since: datetime | None, before: datetime | None) -> Verification:
    # pending first: an entry sealed between the two reads is then counted pending, never missed
    pending = await AuditEntry.filter(organization_id=organization_id, position__isnull=True).count()
    chain = await AuditChain.get_or_none(organization_id=organization_id)
    anchor, anchor_hash = (chain.anchor_position, chain.anchor_hash or GENESIS) if chain else (0, GENESIS)
    head = chain.position if chain else 0
    result = Verification(organization_id, True, 0, pending, None, None, anchor, head)
    start, end = await _positions(organization_id, anchor, head, since, before)
    result.first_position = start if start <= end else None
    previous = await _neighbour(organization_id, start - 1, anchor, anchor_hash, result)
    if previous is not None:
        await _check(organization_id, start, end, previous, result)
    if result.ok and end < head:
        await _neighbour(organization_id, end + 1, anchor, anchor_hash, result)
    return result


async def _positions(
    organization_id: str, anchor: int, head: int, since: datetime | None, before: datetime | None
) -> tuple[int, int]:
    """The first and last positions of the entries made in the range; (p + 1, p) when none was, p
    the last made before it (or the anchor)."""
    if since is None and before is None:
        return anchor + 1, head
    bounds = await rows.position_bounds(organization_id, anchor, head, since, before)
    if bounds is not None:
        return bounds
    earlier = await rows.position_bounds(organization_id, anchor, head, None, since) if since is not None else None
    last = earlier[1] if earlier is not None else anchor
    return last + 1, last


async def _neighbour(organization_id: str, position: int, anchor: int, anchor_hash: str,
                     result: Verification) -> str | None:
    """The stored hash of the entry at `position`, just outside the range (the anchor's at the
    anchor). It must be there and match the hash before it when that one is known: else an entry
    removed from the range's end, or moved out of the range by editing its time, went unseen.
    None, with the mismatch in `result`, when it does not hold."""
    if position == anchor:
        return anchor_hash
    found = {e.position: e for e in await rows.sealed(organization_id, max(anchor, position - 2), until=position)}
    entry = found.get(position)
    if entry is None:
        following = await rows.sealed(organization_id, position, until=result.head_position, limit=1)
        result.ok, result.mismatch = False, Mismatch("missing", position, following[0].id if following else None,
                                                     None, None)
        return None
    previous = anchor_hash if position - 1 == anchor else getattr(found.get(position - 1), "hash", None)
    mismatch = _mismatch(entry, position, previous) if previous is not None else None
    if mismatch is not None:
        result.ok, result.mismatch = False, mismatch
        return None
    return entry.hash


async def _check(organization_id: str, start: int, end: int, previous: str, result: Verification) -> None:
    expected_position = start
    while expected_position <= end:
        batch = await rows.sealed(organization_id, expected_position - 1, until=end)
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
    if expected_position <= end:  # the chain's last entries are gone
        result.ok, result.mismatch = False, Mismatch("missing", expected_position, None, None, None)


def _mismatch(entry: ChainEntry, position: int, previous: str) -> Mismatch | None:
    if entry.position != position:
        return Mismatch("missing", position, entry.id, None, None)
    expected = link(previous, entry, position)
    if expected != entry.hash:
        return Mismatch("hash", position, entry.id, expected, entry.hash)
    return None
