"""Shared steps of the workflow tests: create, execute and wait for an execution to settle."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from models.workflows import Execution

FINISHED = ("completed", "failed", "cancelled")


async def create_workflow(c: httpx.AsyncClient, steps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    created = await c.post("/api/v1/workflows", json={"name": "wf", "definition": {"steps": steps}, **extra})
    assert created.status_code == 201, created.text
    return dict(created.json())


async def execute(c: httpx.AsyncClient, workflow_id: str, given: dict[str, Any] | None = None) -> str:
    started = await c.post(f"/api/v1/workflows/{workflow_id}/execute", json={"input": given or {}})
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "pending"
    return str(started.json()["executionId"])


async def settled(c: httpx.AsyncClient, execution_id: str, within: float = 15.0,
                  statuses: tuple[str, ...] = FINISHED) -> dict[str, Any]:
    """The execution as the API shows it, once its status is one of `statuses` (watched in the
    database, so that waiting does not spend the key's rate limit)."""
    deadline = time.monotonic() + within
    while (await Execution.get(id=execution_id)).status not in statuses:
        if time.monotonic() > deadline:
            raise AssertionError(f"execution {execution_id} not {statuses} after {within}s")
        await asyncio.sleep(0.05)
    response = await c.get(f"/api/v1/executions/{execution_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())
