"""Retrying an execution calls out with the idempotency keys its first run used, so a provider that
took a call whose answer was lost (a Stripe charge that timed out but went through) replays it
instead of charging twice. A retry of a retry keeps them too (they are the chain's first run's);
`fromStart` runs every step again with fresh keys; an approval step asks again (a new action).

Before, every retry sent `{its own id}:{step}`: a second Idempotency-Key, a second charge.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from models.workflows import Execution
from tests.conftest import PROVIDER_PORTS, Tenant
from tests.connectors.fakes.base import serving
from tests.connectors.fakes.stripe import Route, StripeFake
from tests.workflows.helpers import create_workflow, execute, settled
from tests.workflows.test_story import manual_policy

SECRET = "sk_test_retry_keys_0000"
CHARGE = {"amount": 4200, "currency": "usd", "description": "order 17"}


class LateStripe(StripeFake):
    """Stripe that takes the first `late` payment intents, then answers after the caller gave up."""

    def __init__(self, late: int) -> None:
        super().__init__(SECRET)
        self.late = late

    async def _post(self, request: web.Request, route: Route) -> web.Response:
        response = await super()._post(request, route)
        if request.path == "/v1/payment_intents" and self.late > 0:
            self.late -= 1
            await asyncio.sleep(3)  # the step's timeoutMs is 500: the charge is made, its answer lost
        return response

    def keys(self) -> list[str | None]:
        return [seen.headers.get("Idempotency-Key") for seen in self.requests if seen.path == "/v1/payment_intents"]


@pytest.fixture
async def stripe() -> AsyncIterator[LateStripe]:
    fake = LateStripe(late=2)
    async with serving(fake, PROVIDER_PORTS["stripe"]):
        yield fake


async def _charging_workflow(c: httpx.AsyncClient) -> dict[str, Any]:
    credential = await c.post("/api/v1/credentials", json={"name": "stripe", "provider": "stripe", "type": "api_key",
                                                          "data": {"secret_key": SECRET}})
    assert credential.status_code == 201, credential.text
    connector = await c.post("/api/v1/connectors", json={"name": "stripe", "type": "stripe",
                                                        "credentialId": credential.json()["id"], "config": {}})
    assert connector.status_code == 201, connector.text
    return await create_workflow(c, [
        {"name": "prepare", "type": "delay", "config": {"seconds": 0}},
        {"name": "charge", "type": "connector", "timeoutMs": 500, "retry": {"maxAttempts": 1},
         "config": {"connectorId": connector.json()["id"], "action": "create_payment_intent", "input": CHARGE}}])


async def _retry(c: httpx.AsyncClient, execution_id: str, **extra: Any) -> dict[str, Any]:
    retried = await c.post(f"/api/v1/executions/{execution_id}", json={"action": "retry", **extra})
    assert retried.status_code == 200, retried.text
    return await settled(c, retried.json()["id"])


async def test_a_retry_charges_with_the_first_runs_idempotency_key(tenant: Tenant, stripe: LateStripe) -> None:
    async with tenant.client() as c:
        workflow = await _charging_workflow(c)
        first = await settled(c, await execute(c, workflow["id"]))
        second = await _retry(c, first["id"])  # the charge is late again
        third = await _retry(c, second["id"])  # a retry of the retry
        stripe.late = 1
        other = await settled(c, await execute(c, workflow["id"]))
        again = await _retry(c, other["id"], fromStart=True)
    assert [first["status"], second["status"], third["status"]] == ["failed", "failed", "completed"], third
    assert "timed out" in first["error"], first
    keys = stripe.keys()
    assert keys[:3] == [f"{first['id']}:charge"] * 3, keys  # the original attempt, the retry's, the retry's retry
    assert third["output"]["id"] in stripe.payment_intents
    # a run from the start is a new run: its own keys, its own charge (the other execution's was made too)
    assert (other["status"], again["status"], again["retryOf"]) == ("failed", "completed", other["id"]), again
    assert keys[3:] == [f"{other['id']}:charge", f"{again['id']}:charge"], keys
    assert len(stripe.payment_intents) == 3  # one for the chain of three runs, two for the other execution


async def test_a_retried_approval_step_asks_again(tenant: Tenant) -> None:
    """An approval step's key stays its execution's: a retry of a run whose approval was withdrawn
    (or rejected) proposes a new action to decide, rather than reading the old decision back."""
    async with tenant.client() as c:
        await manual_policy(c, "publish_note")
        workflow = await create_workflow(c, [{"name": "publish", "type": "approval", "config": {
            "type": "publish_note", "params": {"note": "hello"}}}])
        first_id = await execute(c, workflow["id"])
        await settled(c, first_id, statuses=("waiting",))
        first_action = (await Execution.get(id=first_id)).waiting_action_id
        assert (await c.post(f"/api/v1/executions/{first_id}", json={"action": "cancel"})).status_code == 200
        retried = await c.post(f"/api/v1/executions/{first_id}", json={"action": "retry"})
        assert retried.status_code == 200, retried.text
        retry = await settled(c, retried.json()["id"], statuses=("waiting",))
        action_id = (await Execution.get(id=retry["id"])).waiting_action_id
        action = (await c.get(f"/actions/{action_id}")).json()
    assert action_id not in (None, first_action)
    assert action["status"] == "pending_approval", action
