"""Re-sealing every credential under the keyring's active key, in batches (`gatehouse rotate-keys`).

Each batch is one transaction that locks its rows (others skip them), so the command is safe to
stop at any moment and to run again, or to run twice at once; when nothing remains under an old
key, that key can be removed from `GATEHOUSE_ENCRYPTION_KEYS`. Each re-sealed credential appends a
`credential.rekeyed` audit entry by `system:rotate-keys` (key id and fingerprint, never its data).
A credential that cannot be opened (its key already removed, or its token copied from elsewhere)
is left as it is and reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tortoise.expressions import Q
from tortoise.functions import Count

from app.core.after_commit import atomic
from app.core.crypto import DecryptionError, Keyring
from models.connectors import Credential
from resolvers.audit import trail
from resolvers.credentials.sealing import associated_data, fingerprint

DEFAULT_BATCH_SIZE = 100


@dataclass(slots=True)
class RotationReport:
    active_key: str
    moved: int = 0
    unreadable: list[str] = field(default_factory=list)
    remaining: dict[str, int] = field(default_factory=dict)  # old key id -> credentials still under it


async def rotate_batch(keyring: Keyring, batch_size: int, skip: list[str]) -> tuple[int, list[str]]:
    """Re-seal up to `batch_size` credentials not under the active key; (moved, unreadable ids)."""
    moved, unreadable = 0, []
    async with atomic():
        query = Credential.filter(~Q(key_id=keyring.active_kid))
        if skip:
            query = query.exclude(id__in=skip)
        rows = await query.order_by("id").limit(batch_size).select_for_update(skip_locked=True)
        for row in rows:
            try:
                token = keyring.rotate(row.sealed, associated_data(row.organization_id, row.id))
            except DecryptionError:
                unreadable.append(row.id)
                continue
            # a queryset update: the data did not change, so neither does updated_at
            await Credential.filter(id=row.id).update(sealed=token, key_id=keyring.active_kid,
                                                      fingerprint=fingerprint(token))
            await trail.record(trail.Actor.system(row.organization_id, "rotate-keys"), "credential.rekeyed", row.id,
                               trail.diff({"keyId": row.key_id, "fingerprint": row.fingerprint},
                                          {"keyId": keyring.active_kid, "fingerprint": fingerprint(token)}))
            moved += 1
    return moved, unreadable


async def remaining_by_key(active_kid: str) -> dict[str, int]:
    rows = await (
        Credential.filter(~Q(key_id=active_kid)).annotate(n=Count("id")).group_by("key_id").values("key_id", "n")
    )
    return {str(row["key_id"]): int(row["n"]) for row in rows}


async def rotate_all(keyring: Keyring, batch_size: int = DEFAULT_BATCH_SIZE,
                     max_batches: int | None = None) -> RotationReport:
    """Batches until none is left (or `max_batches` ran), then what remains under each old key."""
    report = RotationReport(active_key=keyring.active_kid)
    batches = 0
    while max_batches is None or batches < max_batches:
        moved, unreadable = await rotate_batch(keyring, batch_size, report.unreadable)
        report.moved += moved
        report.unreadable += unreadable
        batches += 1
        if moved + len(unreadable) == 0:
            break
    report.remaining = await remaining_by_key(keyring.active_kid)
    return report
