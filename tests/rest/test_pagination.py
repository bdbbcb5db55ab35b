"""Keyset pages over rows made in the same millisecond: every row exactly once, newest first."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from models.governance import Action
from tests.conftest import Tenant

BODY = {"type": "send_email", "actor": {"kind": "agent", "name": "bot"}}


async def _made_in_one_millisecond(tenant: Tenant, count: int) -> set[str]:
    """`count` actions whose times are microseconds apart, as a busy server writes them."""
    async with tenant.client() as c:
        made = await asyncio.gather(*(c.post("/api/v1/actions", json=BODY) for _ in range(count)))
    ids = {answer.json()["actionId"] for answer in made}
    base = (await Action.filter(id__in=ids).order_by("created_at").first()).created_at  # type: ignore[union-attr]
    for index, action_id in enumerate(sorted(ids)):
        await Action.filter(id=action_id).update(created_at=base + timedelta(microseconds=20 * index))
    return ids


async def test_pages_lose_no_row_made_within_one_millisecond(tenant: Tenant) -> None:
    ids = await _made_in_one_millisecond(tenant, 40)
    seen: list[str] = []
    cursor = None
    async with tenant.client() as c:
        for _ in range(20):
            answer = await c.get("/api/v1/actions", params={"limit": 7, **({"cursor": cursor} if cursor else {})})
            seen += [a["id"] for a in answer.json()]
            cursor = answer.headers.get("X-Next-Cursor")
            if cursor is None:
                break
    assert sorted(seen) == sorted(ids)
    stamps = [(await Action.get(id=i)).created_at for i in seen]
    assert stamps == sorted(stamps, reverse=True)


async def test_graphql_pages_lose_no_row_either(tenant: Tenant) -> None:
    ids = await _made_in_one_millisecond(tenant, 15)
    seen: list[str] = []
    after = None
    for _ in range(10):
        page = (await tenant.graphql(
            "query($after: String) { actions(first: 4, after: $after) "
            "{ edges { node { id } } pageInfo { hasNextPage endCursor } } }", {"after": after}))["data"]["actions"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(ids)
