"""The action page (an approvalUrl) keeps up with what happens to its action while it is open,
without a reload: evidence arriving, and whatever changed while its live socket was down."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx

from tests.conftest import Tenant, free_port
from tests.console.browser import SECONDS
from tests.console.conftest import OpenReviewer
from tests.console.scenario import action, decide, enforce, evidence, make_key, propose
from tests.console.test_reconnect import serving


async def test_evidence_arriving_while_the_page_is_open_enables_approve(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    """A wire transfer waits for two checks: the reviewer opens it (Approve disabled, both missing),
    the agent submits them, and Approve becomes enabled on the open page, the pending list's card
    says it is ready, both without a reload."""
    await enforce(tenant)
    proposed = await propose(tenant, "wire_transfer", params={"amount": 9000})
    carol = await reviewer()
    await carol.open(f"/console/approve/{proposed['actionId']}")
    await carol.sign_in(tenant.key)
    await carol.page.wait_for_selector("text=Approve is disabled until every required check has passed")
    assert await carol.page.is_disabled("button.approve")
    await carol.live_state("live")
    watcher = await reviewer()
    await watcher.open("/console/")
    await watcher.sign_in(tenant.key)
    card = await watcher.card(proposed["actionId"])
    assert "2 of 2 checks missing" in await card.inner_text()
    await watcher.live_state("live")
    await carol.page.wait_for_timeout(300)  # the subscriptions are joined

    await evidence(tenant, proposed["actionId"], ("cfo_signoff", True, "signed"), ("sanctions_screen", True, None))

    await carol.page.wait_for_selector("button.approve:not([disabled])", timeout=10 * SECONDS)
    assert "Approve is disabled" not in await carol.text(".decision")
    assert "cfo_signoff passed" in await carol.text(".panel-evidence")
    await watcher.page.wait_for_selector(
        f"li.card[data-action-id='{proposed['actionId']}'] >> text=Ready to decide", timeout=10 * SECONDS)


async def test_the_action_page_catches_up_on_a_decision_made_while_its_socket_was_down(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    """actionUpdated has no `since`: an event published while the page's socket was down is never
    delivered. Once live again the page reloads the action: a rejection made meanwhile (on another
    replica) shows, with no reload of the document and no Approve button left to press."""
    await enforce(tenant)
    proposed = await propose(tenant, params={"subject": "before the restart"})
    port = free_port()
    async with serving(port) as url:
        dave = await reviewer(url)
        await dave.open(f"/console/approve/{proposed['actionId']}")
        await dave.sign_in(tenant.key)
        await dave.page.wait_for_selector("button.approve:not([disabled])")
        await dave.live_state("live")
        await dave.page.evaluate("window.sameDocument = true")
        await dave.page.wait_for_timeout(300)  # the subscription is joined before the socket goes

    await dave.live_state("reconnecting")
    await decide(tenant, proposed, "reject", reason="Rejected while the console was away")

    async with serving(port):
        await dave.live_state("live", within=30)
        await dave.page.wait_for_selector(".decided.s-rejected", timeout=15 * SECONDS)
        text = await dave.text()
        assert "While you were looking, this action was rejected" in text
        assert "Rejected while the console was away" in text
        assert await dave.page.query_selector("button.approve") is None
    assert await dave.page.evaluate("window.sameDocument") is True


async def test_an_action_loading_when_the_reviewer_moves_on_does_not_draw_over_the_next_view(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    """The reviewer opens an action and, before it has loaded (a slow network: its query is held
    for a second on the way back), goes to Activity. The action's answer must not replace the
    Activity view: the page would show one view's content under another's address and nav."""
    await enforce(tenant)
    proposed = await propose(tenant, params={"subject": "Slow to load"})
    erin = await reviewer()
    await erin.open("/console/")
    await erin.sign_in(tenant.key)
    await erin.card(proposed["actionId"])

    async def slow_action_query(route: Any) -> None:
        if "query Action(" in (route.request.post_data or ""):
            answer = await route.fetch()
            await asyncio.sleep(1.5)
            await route.fulfill(response=answer)
        else:
            await route.continue_()

    await erin.page.route("**/graphql", slow_action_query)
    await erin.page.click(f"li.card[data-action-id='{proposed['actionId']}'] a.card-title")
    await erin.page.wait_for_url(f"**/console/approve/{proposed['actionId']}")
    await erin.page.click("a[data-nav='activity']")
    await erin.page.wait_for_selector("#filter-status")
    await erin.page.wait_for_timeout(2500)  # the held answer has arrived
    assert erin.page.url.endswith("/console/activity")
    assert await erin.page.query_selector("#filter-status") is not None
    assert await erin.page.query_selector(".panel-decision") is None
    assert "Slow to load" not in await erin.text()


async def test_params_edited_by_another_reviewer_while_the_page_is_open_are_called_out(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    """Under a quorum with allowEdit, Alice approves with edited params while Bob has the action
    open. Bob's page follows (the params on screen, and so the ones his approval would send, are the
    new ones), and it says so: an amount changing from 120 to 12000 under a reviewer's eyes without
    a word would let him approve what he did not read."""
    alice = await make_key(tenant, "alice", ["approvals:write", "actions:read"])
    bob = await make_key(tenant, "bob", ["approvals:write", "actions:read"])
    async with tenant.client() as c:
        group = {"name": "pair", "members": [alice["id"], bob["id"]]}
        assert (await c.post("/api/v1/reviewer-groups", json=group)).status_code == 201
    await enforce(tenant, [{"when": {"actionType": "send_email"}, "approvals": 2, "approvers": ["pair"],
                            "allowEdit": True}])
    proposed = await propose(tenant, params={"subject": "Refund issued", "amount": 120})
    page = await reviewer()
    await page.open(f"/console/approve/{proposed['actionId']}")
    await page.sign_in(bob["key"])
    await page.page.wait_for_selector("button.approve:not([disabled])")
    await page.live_state("live")
    await page.page.wait_for_timeout(300)  # the subscription is joined

    async with httpx.AsyncClient(base_url=server, headers={"x-api-key": alice["key"]}) as c:
        edited = await c.post(f"/approvals/{proposed['approvalId']}/approve",
                              json={"params": {"subject": "Refund issued", "amount": 12000}})
    assert edited.status_code == 200, edited.text

    await page.page.wait_for_selector(".panel-params >> text=12000", timeout=10 * SECONDS)
    text = await page.text()
    assert f"While you were looking, the params were edited by {alice['id']}" in text, text


class HeldReloads:
    """The browser's network holding the action page's `query Action(` answers (no Gatehouse code
    is touched): the first is fetched at once and delivered on `deliver_first`, every later one is
    sent only on `deliver_rest`. While held, the page cannot learn from the server that the expiry
    worker closed the action: whatever it shows then is its own doing."""

    def __init__(self, hold_first: bool) -> None:
        self.first, self.rest = asyncio.Event(), asyncio.Event()
        self.seen = 0
        if not hold_first:
            self.first.set()
            self.seen = 1

    async def __call__(self, route: Any) -> None:
        if "query Action(" not in (route.request.post_data or ""):
            await route.continue_()
            return
        self.seen += 1
        if self.seen == 1:
            answer = await route.fetch()
            await self.first.wait()
            await route.fulfill(response=answer)
        else:
            await self.rest.wait()
            await route.continue_()


async def _expiring(tenant: Tenant, seconds: int) -> tuple[dict[str, Any], float]:
    """A send_email under a rule expiring it after `seconds`, and its expiresAt as a Unix time."""
    await enforce(tenant, [{"when": {"actionType": "send_email"}, "expiresIn": seconds}])
    proposed = await propose(tenant, params={"subject": "Answer soon"})
    stored = await action(tenant, proposed["actionId"])
    return proposed, datetime.fromisoformat(stored["expiresAt"].replace("Z", "+00:00")).timestamp()


async def _shows_expired_while_pending(page: Any) -> None:
    """Both verbs disabled with the expiry message, while the page still shows the action pending
    (it has not heard from the server that the worker closed it)."""
    await page.wait_for_selector("button.approve[disabled]", timeout=10 * SECONDS)
    assert await page.is_disabled("button.reject")
    decision = await page.inner_text(".decision")
    assert "This action expired at" in decision and "can no longer be approved or rejected" in decision, decision
    assert await page.query_selector(".view-head .s-pending_approval") is not None
    assert await page.query_selector(".decided") is None


async def test_approve_and_reject_turn_off_when_expires_at_arrives_on_an_open_page(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    """The reviewer opens an action six seconds before its deadline: Approve is enabled. The
    deadline passes with the page open; the server refuses both verbs from then (409), before and
    after its expiry worker closes the action. The page's own timer must disable both and say it
    expired. The test app runs the expiry worker (every 0.5 s), whose event would reload the page:
    the page's reloads are held by the browser's network, so only the page's clock can do it."""
    proposed, expires_at = await _expiring(tenant, 6)
    frank = await reviewer()
    await frank.open(f"/console/approve/{proposed['actionId']}")
    await frank.sign_in(tenant.key)
    await frank.page.wait_for_selector("button.approve:not([disabled])")
    assert not await frank.page.is_disabled("button.reject")
    assert "expired" not in await frank.text(".decision")
    assert datetime.now().timestamp() < expires_at - 1, "opened too late to see the deadline pass"
    held = HeldReloads(hold_first=False)
    await frank.page.route("**/graphql", held)

    await asyncio.sleep(max(0.0, expires_at - datetime.now().timestamp()) + 0.5)
    await _shows_expired_while_pending(frank.page)

    held.rest.set()  # the page hears from the server again: the worker closed it meanwhile
    await frank.page.wait_for_selector(".decided.s-expired", timeout=10 * SECONDS)
    assert (await action(tenant, proposed["actionId"]))["status"] == "expired"


async def test_an_action_answered_after_its_deadline_is_drawn_expired(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    """The page's first answer (pending: read before the deadline) arrives after it, on a slow
    network: drawing it, the page checks expiresAt against the clock and offers no decision."""
    proposed, expires_at = await _expiring(tenant, 3)
    held = HeldReloads(hold_first=True)
    grace = await reviewer()
    await grace.page.route("**/graphql", held)
    await grace.open(f"/console/approve/{proposed['actionId']}")
    await grace.sign_in(tenant.key)
    for _ in range(100):
        if held.seen:
            break
        await asyncio.sleep(0.05)
    assert held.seen == 1 and datetime.now().timestamp() < expires_at - 0.5, "asked too late to read it pending"
    await asyncio.sleep(max(0.0, expires_at - datetime.now().timestamp()) + 0.5)
    held.first.set()
    await _shows_expired_while_pending(grace.page)
    held.rest.set()
    await grace.page.wait_for_selector(".decided.s-expired", timeout=10 * SECONDS)
