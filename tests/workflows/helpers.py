"""Shared steps of the workflow tests: create, execute and wait for an execution to settle."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

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
    """The execution once its status is one of `statuses`."""
    deadline = time.monotonic() + within
    while True:
        response = await c.get(f"/api/v1/executions/{execution_id}")
        assert response.status_code == 200, response.text
        body = response.json()
        if body["status"] in statuses:
            return dict(body)
        if time.monotonic() > deadline:
            raise AssertionError(f"execution still {body['status']} after {within}s: {body}")
        await asyncio.sleep(0.05)
