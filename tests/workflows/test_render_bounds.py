"""A step's templates may fill in at most MAX_RENDERED_CHARS: a small definition repeating a large
input (300 references to a 200 KB string) made a 60 MB step input, stored, returned and sent, and a
1 MB definition could grow to gigabytes in the worker. Now the step fails, naming the limit, before
anything is stored or sent; within the limit templates render as before."""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.workflows.templates import MAX_RENDERED_CHARS
from tests.conftest import Tenant
from tests.workflows.helpers import create_workflow, execute, settled

LARGE = {"a": "x" * 200_000}


def _calling(body: Any) -> list[dict[str, Any]]:
    return [{"name": "call", "type": "http_request",
             "config": {"method": "POST", "url": "https://api.example.com/x", "body": body}}]


@pytest.mark.parametrize("body", [
    [f"{n}:{{{{ input.a }}}}" for n in range(300)],  # interpolated into text
    {f"k{n}": "{{ input.a }}" for n in range(300)},  # whole values
], ids=["interpolated", "exact"])
async def test_a_config_filled_in_past_the_limit_fails_its_step(tenant: Tenant, body: Any) -> None:
    async with tenant.client() as c:
        workflow = await create_workflow(c, _calling(body))
        execution = await settled(c, await execute(c, workflow["id"], LARGE))
    assert execution["status"] == "failed", execution["status"]
    [step] = execution["steps"]
    assert step["status"] == "failed" and f"more than {MAX_RENDERED_CHARS:,} characters" in execution["error"], (
        execution["error"])
    assert len(str(step.get("input"))) < 1000, "nothing of the expansion was stored"


async def test_templates_within_the_limit_render_as_before(tenant: Tenant) -> None:
    async with tenant.client() as c:
        workflow = await create_workflow(c, [{"name": "wait", "type": "delay", "config": {"seconds": "{{ input.s }}"}}])
        execution = await settled(c, await execute(c, workflow["id"], {"s": 0, "pad": "y" * 200_000}))
    assert execution["status"] == "completed", execution
