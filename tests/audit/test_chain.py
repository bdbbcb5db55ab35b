"""Acceptance 1: a changed, removed or reordered audit row is found by verify, which names it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from resolvers.audit.chain import exact_time
from tests.audit.helpers import entries, sql, verified
from tests.conftest import Tenant


async def _five_changes(tenant: Tenant) -> list[dict]:
    """A policy created and updated four times: five entries, positions 1..5 once sealed."""
    async with tenant.client() as c:
        created = await c.post("/api/v1/policy", json={"name": "p0", "rules": [{"when": {"actionType": "a"}}]})
        assert created.status_code == 201, created.text
        for n in range(1, 5):
            assert (await c.put(f"/api/v1/policy/{created.json()['id']}", json={"name": f"p{n}"})).status_code == 200
    report = await verified(tenant)
    assert (report["ok"], report["checked"], report["headPosition"]) == (True, 5, 5)
    return sorted(await entries(tenant), key=lambda e: e["position"])


async def test_a_changed_entry_is_named(tenant: Tenant) -> None:
    chain = await _five_changes(tenant)
    target = chain[2]
    await sql("UPDATE audit_entries SET changes = '{\"after\": {\"name\": \"quiet edit\"}}' WHERE id = $1",
              target["id"])
    report = await verified(tenant)
    assert report["ok"] is False
    assert report["mismatch"]["problem"] == "hash"
    assert (report["mismatch"]["entryId"], report["mismatch"]["position"]) == (target["id"], 3)
    assert report["mismatch"]["stored"] == target["hash"] != report["mismatch"]["expected"]
    assert report["checked"] == 2



@pytest.mark.parametrize("position", [1, 3, 5])
async def test_a_removed_entry_is_found(tenant: Tenant, position: int) -> None:
    chain = await _five_changes(tenant)
    await sql("DELETE FROM audit_entries WHERE id = $1", chain[position - 1]["id"])
    report = await verified(tenant)
    assert report["ok"] is False
    assert report["mismatch"]["problem"] == "missing"
    assert report["mismatch"]["position"] == position
    assert report["mismatch"]["entryId"] == (chain[position]["id"] if position < 5 else None)


async def test_two_swapped_entries_are_found(tenant: Tenant) -> None:
    chain = await _five_changes(tenant)
    second, fourth = chain[1]["id"], chain[3]["id"]
    await sql("UPDATE audit_entries SET position = -1 WHERE id = $1", second)
    await sql("UPDATE audit_entries SET position = 2 WHERE id = $1", fourth)
    await sql("UPDATE audit_entries SET position = 4 WHERE id = $1", second)
    report = await verified(tenant)
    assert report["ok"] is False
    assert (report["mismatch"]["problem"], report["mismatch"]["position"]) == ("hash", 2)
    assert report["mismatch"]["entryId"] == fourth


async def test_verify_over_a_range_in_both_doors(tenant: Tenant) -> None:
    chain = await _five_changes(tenant)
    window = {"from": chain[1]["createdAt"], "to": chain[3]["createdAt"]}
    await sql("UPDATE audit_entries SET actor = 'someone else' WHERE id = $1", chain[4]["id"])
    ranged = await verified(tenant, **window)
    assert (ranged["ok"], ranged["checked"], ranged["firstPosition"], ranged["lastPosition"]) == (True, 2, 2, 3)
    out = await tenant.graphql("query($f: String, $t: String) { auditVerification(from: $f, to: $t) { ok checked "
                               "firstPosition lastPosition mismatch { problem position entryId } } }",
                               {"f": window["from"], "t": window["to"]})
    assert out["data"]["auditVerification"] == {"ok": True, "checked": 2, "firstPosition": 2, "lastPosition": 3,
                                                "mismatch": None}
    whole = await verified(tenant)
    assert (whole["ok"], whole["mismatch"]["entryId"], whole["mismatch"]["position"]) == (False, chain[4]["id"], 5)
    out = await tenant.graphql("{ auditVerification { ok mismatch { problem position entryId } } }")
    assert out["data"]["auditVerification"] == {"ok": False, "mismatch": {"problem": "hash", "position": 5,
                                                                          "entryId": chain[4]["id"]}}


@pytest.mark.parametrize("offset_hours", [None, 0, 2, -7])
def test_the_hashed_time_is_the_same_instant_whatever_its_zone(offset_hours: int | None) -> None:
    """`exact_time` skips the conversion for a time already in UTC (what asyncpg reads); every other
    form of the same instant must give the same string, or a chain sealed from one form would not
    verify from another."""
    instant = datetime(2026, 12, 5, 7, 40, 14, 5, tzinfo=UTC)
    if offset_hours is None:
        value = instant.replace(tzinfo=None)
    else:
        value = instant.astimezone(timezone(timedelta(hours=offset_hours)))
    assert exact_time(value) == "2026-12-05T07:40:14.000005Z"


@pytest.mark.parametrize("removed", [[4], [3, 4], [2, 3, 4]])
async def test_entries_removed_at_the_end_of_a_range_are_found(tenant: Tenant, removed: list[int]) -> None:
    """Verify over [from, to) checked the entries still there: with the range's last entries
    removed (all of them, in the last case), it answered ok. The entry after the range must follow
    on from it, as the one before it must precede it."""
    chain = await _five_changes(tenant)
    window = {"from": chain[1]["createdAt"], "to": chain[4]["createdAt"]}  # positions 2, 3 and 4
    for position in removed:
        await sql("DELETE FROM audit_entries WHERE id = $1", chain[position - 1]["id"])
    report = await verified(tenant, **window)
    assert report["ok"] is False, report
    assert report["mismatch"] == {"problem": "missing", "position": removed[0], "entryId": chain[4]["id"],
                                  "expected": None, "stored": None}
    out = await tenant.graphql("query($f: String, $t: String) { auditVerification(from: $f, to: $t) { ok "
                               "mismatch { problem position entryId } } }", {"f": window["from"], "t": window["to"]})
    assert out["data"]["auditVerification"] == {"ok": False, "mismatch": {
        "problem": "missing", "position": removed[0], "entryId": chain[4]["id"]}}


@pytest.mark.parametrize(("moved", "to", "broken"), [
    ([2], "2000-01-01T00:00:00Z", 2), ([4], "2099-01-01T00:00:00Z", 4), ([2, 3, 4], "2099-01-01T00:00:00Z", 2),
])
async def test_an_entry_moved_out_of_a_range_by_its_time_is_found(tenant: Tenant, moved: list[int], to: str,
                                                                   broken: int) -> None:
    """Verify over [from, to) walked the entries whose stored time lies in the range: an insider who
    edits the time of the range's first or last entries (or of all of them) takes them out of it,
    and the range verified ok. The entries either side of the range are checked too."""
    chain = await _five_changes(tenant)
    window = {"from": chain[1]["createdAt"], "to": chain[4]["createdAt"]}  # positions 2, 3 and 4
    for position in moved:
        await sql("UPDATE audit_entries SET created_at = $1 WHERE id = $2", datetime.fromisoformat(to),
                  chain[position - 1]["id"])
    report = await verified(tenant, **window)
    assert report["ok"] is False, report
    assert (report["mismatch"]["problem"], report["mismatch"]["position"], report["mismatch"]["entryId"]) == (
        "hash", broken, chain[broken - 1]["id"])
    assert report["mismatch"]["stored"] == chain[broken - 1]["hash"]
    out = await tenant.graphql("query($f: String, $t: String) { auditVerification(from: $f, to: $t) { ok "
                               "mismatch { problem position entryId } } }", {"f": window["from"], "t": window["to"]})
    assert out["data"]["auditVerification"] == {"ok": False, "mismatch": {
        "problem": "hash", "position": broken, "entryId": chain[broken - 1]["id"]}}
