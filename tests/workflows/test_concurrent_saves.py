"""Definitions saved at the same time, at either door, become one version each, numbered one after
the other; none is a 500. Each save read the same current version and the second insert of its
successor broke the unique (workflow, number) index: 500 INTERNAL."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from models.workflows import WorkflowVersion
from tests.conftest import Tenant
from tests.workflows.helpers import create_workflow

SAVES = 6
UPDATE = "mutation($id: ID!, $d: JSON!) { updateWorkflow(id: $id, input: {definition: $d}) { version } }"


def _definition(seconds: int) -> dict[str, Any]:
    return {"steps": [{"name": f"wait{seconds}", "type": "delay", "config": {"seconds": seconds}}]}


async def _save(c: httpx.AsyncClient, workflow_id: str, seconds: int) -> tuple[int, Any]:
    """One save, over REST for even `seconds` and GraphQL for odd: its status and the version it answered."""
    if seconds % 2 == 0:
        answer = await c.put(f"/api/v1/workflows/{workflow_id}", json={"definition": _definition(seconds)})
        return answer.status_code, answer.json().get("version", answer.text)
    variables = {"id": workflow_id, "d": _definition(seconds)}
    answer = await c.post("/graphql", json={"query": UPDATE, "variables": variables})
    body = answer.json()
    return (200, body["data"]["updateWorkflow"]["version"]) if body.get("data") else (500, body)


async def test_definitions_saved_at_once_become_one_version_each(tenant: Tenant) -> None:
    async with tenant.client() as c:
        workflow = await create_workflow(c, [{"name": "first", "type": "delay", "config": {"seconds": 60}}])
        answers = await asyncio.gather(*(_save(c, workflow["id"], seconds) for seconds in range(SAVES)))
        assert all(status == 200 for status, _ in answers), answers
        assert sorted(version for _, version in answers) == list(range(2, SAVES + 2)), answers
        versions = await WorkflowVersion.filter(workflow_id=workflow["id"]).order_by("number")
        assert [v.number for v in versions] == list(range(1, SAVES + 2))
        assert sorted(v.definition["steps"][0]["name"] for v in versions[1:]) == sorted(
            f"wait{seconds}" for seconds in range(SAVES))
        current = (await c.get(f"/api/v1/workflows/{workflow['id']}")).json()
        assert current["version"] == SAVES + 1 and current["definition"] == versions[-1].definition
