"""Saving a definition keeps none of its text in the server's memory: the save-time template check
went through the runner's parse cache (4,096 entries), so every definition sent, stored or refused,
left its strings there, up to a body's size each: 40 refused saves of a 900 KB string kept 73 MB,
and 4,096 such saves, storing nothing, would hold gigabytes of the API server's memory."""

from __future__ import annotations

import gc
from pathlib import Path

import httpx

from tests.conftest import Tenant

SAVES = 40
WARM_UP = 10
TEXT_BYTES = 900_000


def _resident_mb() -> int:
    """This process's resident memory (the test server runs in it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no VmRSS in /proc/self/status")


async def _refused_saves(c: httpx.AsyncClient, first: int, count: int) -> None:
    for index in range(first, first + count):
        body = f"{index}" + "a" * TEXT_BYTES + "{{ steps.later.output }}"
        refused = await c.post("/api/v1/workflows", json={"name": "w", "definition": {"steps": [
            {"name": "call", "type": "http_request", "config": {"url": "https://api.example.com/x", "body": body}}]}})
        assert refused.status_code == 400, refused.text
        assert "refers to unknown step 'later'" in refused.json()["message"], refused.text


async def test_refused_definitions_leave_their_text_nowhere(tenant: Tenant) -> None:
    async with tenant.client() as c:
        await _refused_saves(c, 0, WARM_UP)  # the allocator's arenas grow to a request's size first
        gc.collect()
        before = _resident_mb()
        await _refused_saves(c, WARM_UP, SAVES)
        gc.collect()
        grown = _resident_mb() - before
    assert grown < SAVES * TEXT_BYTES // 2**20 // 2, f"{grown} MB kept after {SAVES} refused saves"
