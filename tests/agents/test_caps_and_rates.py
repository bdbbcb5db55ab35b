"""A per-agent cap on proposals per minute (429 for that agent only, with its budget's headers) and
per-agent proposal rates in /metrics with bounded labels."""

from __future__ import annotations

import time

import httpx

from app.core import agent_rates
from models.agents import Agent
from models.governance import Action
from tests.agents.helpers import as_key, bound_key, register
from tests.conftest import Tenant, away_from_a_minute_boundary

BODY = {"type": "send", "actor": {"kind": "agent"}}


async def test_cap_answers_429_for_that_agent_only(tenant: Tenant) -> None:
    capped = await register(tenant, "capped", proposalsPerMinute=3)
    free = await register(tenant, "free")
    first_key, second_key = await bound_key(tenant, capped["id"]), await bound_key(tenant, capped["id"])
    free_key = await bound_key(tenant, free["id"])
    await away_from_a_minute_boundary()
    answers = []
    for key in (first_key, second_key, first_key, second_key):  # one budget for the agent, whichever key
        async with as_key(tenant, key).client() as c:
            answers.append(await c.post("/actions", json=BODY))
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    refused = answers[3]
    assert refused.json()["error"] == "RATE_LIMITED" and "capped" in refused.json()["message"]
    assert refused.headers["X-RateLimit-Limit"] == "3" and refused.headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60 and int(refused.headers["X-RateLimit-Reset"]) > time.time()
    assert answers[0].headers["X-RateLimit-Limit"] == "100"  # accepted proposals show the key's own budget
    async with as_key(tenant, first_key).client() as c:
        assert (await c.get("/actions")).status_code == 200  # only proposing is capped
    async with as_key(tenant, free_key).client() as c:
        assert [(await c.post("/actions", json=BODY)).status_code for _ in range(5)] == [201] * 5
    assert await Action.filter(agent_id=capped["id"]).count() == 3
    assert (await Agent.get(id=capped["id"])).total_actions == 3

    out = await tenant.graphql(
        "mutation($id: ID!) { updateAgent(id: $id, input: {proposalsPerMinute: null}) { proposalsPerMinute } }",
        {"id": capped["id"]},
    )
    assert out["data"]["updateAgent"]["proposalsPerMinute"] is None
    async with as_key(tenant, first_key).client() as c:
        assert (await c.post("/actions", json=BODY)).status_code == 201


async def test_metrics_show_per_agent_rates(tenant: Tenant) -> None:
    agent = await register(tenant, "counted")
    async with as_key(tenant, await bound_key(tenant, agent["id"])).client() as c:
        for _ in range(3):
            assert (await c.post("/actions", json=BODY)).status_code == 201
    async with httpx.AsyncClient(base_url=tenant.base_url) as c:
        text = (await c.get("/metrics")).text
    line = f'gatehouse_agent_proposals_total{{agent="{agent["id"]}",status="approved"}} 3.0'
    assert line in text


def test_agent_labels_are_bounded() -> None:
    kept = set(agent_rates._labelled)
    try:
        seen = {agent_rates.agent_label(f"agt_bound_{n}") for n in range(agent_rates.MAX_AGENTS + 50)}
        assert len(seen) <= agent_rates.MAX_AGENTS + 1 and agent_rates.OTHER in seen
    finally:
        agent_rates._labelled.clear()
        agent_rates._labelled.update(kept)
