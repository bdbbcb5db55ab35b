"""Activity, webhooks and executions: filtered, paged, read-only views of what already happened."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from models.webhooks import WebhookDelivery
from tests.conftest import Tenant
from tests.console.conftest import PHONE, OpenReviewer
from tests.console.scenario import decide, enforce, propose
from tests.webhooks.receiver import Reply, eventually, receiving
from tests.workflows.helpers import create_workflow, execute, settled


async def test_activity_filters_by_status_and_type_and_pages(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    await enforce(tenant)
    emails = [await propose(tenant, params={"n": n}) for n in range(22)]
    for proposed in emails[:3]:
        await decide(tenant, proposed, "reject", reason="duplicate")
    await propose(tenant, "deploy")
    person = await reviewer()
    await person.open("/console/activity")
    await person.sign_in(tenant.key)
    await person.page.wait_for_selector("ol.rows")
    await person.count("li.row", 20)  # one page
    await person.page.click("text=Older →")
    await person.page.wait_for_selector(f"a[href$='{emails[0]['actionId']}']")
    await person.count("li.row", 3)
    await person.page.click("text=← Newer")
    await person.count("li.row", 20)

    await person.page.select_option("#filter-status", "rejected")
    await person.page.fill("#filter-type", "send_email")
    await person.page.press("#filter-type", "Enter")
    await person.count("li.row", 3)
    assert (await person.text(".results")).count("duplicate") == 3
    await person.page.select_option("#filter-status", "")
    await person.page.fill("#filter-type", "deploy")
    await person.page.click("button:has-text('Apply')")
    await person.count("li.row", 1)
    await person.screenshot("console-activity-desktop")


async def test_an_older_filter_answering_late_does_not_replace_the_newer_filters_rows(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    """The reviewer filters Activity by one type, then at once by another. The first filter's page
    is slow (held for 1.5 s on the way back by the browser's network), so it answers after the
    second: the list must keep showing the second filter's rows, the filter still on screen."""
    await enforce(tenant)
    for n in range(2):
        await propose(tenant, params={"n": n})
    deploy = await propose(tenant, "deploy")
    person = await reviewer()
    await person.open("/console/activity")
    await person.sign_in(tenant.key)
    await person.count("li.row", 3)

    held: list[str] = []

    async def slow_first_filter(route: Any) -> None:
        body = json.loads(route.request.post_data or "{}")
        if "query Activity(" in body.get("query", "") and body["variables"].get("type") == "send_email":
            held.append("send_email")
            answer = await route.fetch()
            await asyncio.sleep(1.5)
            await route.fulfill(response=answer)
        else:
            await route.continue_()

    await person.page.route("**/graphql", slow_first_filter)
    await person.page.fill("#filter-type", "send_email")
    await person.page.press("#filter-type", "Enter")
    await person.page.fill("#filter-type", "deploy")
    await person.page.press("#filter-type", "Enter")
    await person.count("li.row", 1)
    await person.page.wait_for_timeout(2500)  # the held answer has arrived
    assert held == ["send_email"]
    await person.count("li.row", 1)
    rows = await person.text(".results")
    assert deploy["actionId"] in rows and "send_email" not in rows, rows
    assert await person.page.input_value("#filter-type") == "deploy"


async def test_webhook_deliveries_and_executions_are_listed_with_their_details(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    async with receiving() as receiver, tenant.client() as c:
        receiver.answer(Reply(200), Reply(200), Reply(500))
        hook = (await c.post("/api/v1/webhooks", json={
            "name": "Ops alerts", "url": receiver.url, "events": ["action.*"],
            "retryPolicy": {"maxAttempts": 1, "backoffMs": 1000}})).json()
        await enforce(tenant)
        for n in range(12):
            await propose(tenant, params={"n": n})
        await eventually(lambda: _delivered(hook["id"], 12))
        workflow = await create_workflow(c, [
            {"name": "pause", "type": "delay", "config": {"seconds": 0}},
            {"name": "notify", "type": "http_request", "config": {"method": "POST", "url": receiver.url}},
        ])
        await settled(c, await execute(c, workflow["id"], {"order": "A-1"}))

        person = await reviewer(viewport=PHONE)
        await person.open("/console/webhooks")
        await person.sign_in(tenant.key)
        await person.page.wait_for_selector("text=Ops alerts")
        await person.page.wait_for_selector("table.data")
        await person.count(".deliveries tbody tr", 10)
        table = await person.text(".deliveries")
        await person.page.click(".deliveries >> text=Older →")
        await person.count(".deliveries tbody tr", 2)
        table += await person.text(".deliveries")
        assert "action.pending_approval" in table and "Succeeded\n200" in table and "Failed\n500" in table
        await person.screenshot("console-webhooks-phone")

        await person.page.click("a[data-nav='executions']")
        await person.page.wait_for_selector("details.execution")
        await person.page.click("details.execution summary")
        await person.page.wait_for_selector("text=notify")
        steps = await person.text(".steps")
        assert "pause" in steps and "delay" in steps and "http_request" in steps and "Completed" in steps
        await person.screenshot("console-executions-phone")


async def _delivered(hook_id: str, at_least: int) -> bool:
    return await WebhookDelivery.filter(webhook_id=hook_id, attempts__gte=1).count() >= at_least
