"""A reviewer's day in the console: sign in, see actions arrive live, open one, decide it.

Acceptance 1 and 2 of the console issue: the pending list is live, the action page decides, the
list follows, another organization sees nothing, and an approvalUrl opened cold asks for a key.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from models.events import Event
from tests.conftest import Tenant
from tests.console.browser import SECONDS
from tests.console.conftest import OpenReviewer
from tests.console.scenario import action, decide, enforce, make_key, propose


async def test_pending_action_appears_live_is_approved_and_leaves_the_list(
    server: str, tenant: Tenant, other_tenant: Tenant, reviewer: OpenReviewer
) -> None:
    await enforce(tenant)
    key = await make_key(tenant, "alice-reviewer", ["approvals:write", "actions:read", "policies:read"])
    alice = await reviewer()
    await alice.open("/console/")
    await alice.sign_in(key["key"])
    await alice.page.wait_for_selector("text=Nothing is waiting")
    await alice.live_state("live")
    watcher = await reviewer()  # a second tab on the list, to see it change without a reload
    await watcher.open("/console/")
    await watcher.sign_in(key["key"])
    stranger = await reviewer()
    await stranger.open("/console/")
    await stranger.sign_in(other_tenant.key)

    proposed = await propose(tenant, params={"subject": "Refund issued", "amount": 120, "currency": "EUR"})
    card = await alice.card(proposed["actionId"])
    card_text = await card.inner_text()
    assert "send_email" in card_text and "support-bot" in card_text and "customer@example.com" in card_text
    assert "Refund issued" in card_text and "Proposed just now" in card_text and "23 h 59 min left" in card_text
    await watcher.card(proposed["actionId"])

    await (await card.query_selector("a.card-title")).click()
    await alice.page.wait_for_url(f"**/console/approve/{proposed['actionId']}")
    await alice.page.wait_for_selector("text=Matched policies")
    page_text = await alice.text()
    assert "Human review" in page_text and "Refund issued" in page_text and "proposed" in page_text.lower()
    await alice.page.fill("#decision-comment", "Looks right, refund within policy")
    await alice.page.click("button.approve")
    await alice.page.wait_for_selector(".decided.s-approved")
    decided_text = await alice.text(".decision")
    assert f"Approved by {key['id']} (this key)" in decided_text
    assert "Looks right, refund within policy" in decided_text

    stored = await action(tenant, proposed["actionId"])
    assert stored["status"] == "approved" and stored["decidedBy"] == key["id"]  # which key decided
    await watcher.no_card(proposed["actionId"])  # live, no reload
    await alice.page.click("a[data-nav='pending']")
    await alice.page.wait_for_selector("text=Nothing is waiting")

    assert await stranger.page.query_selector(f"[data-action-id='{proposed['actionId']}']") is None
    assert "Nothing is waiting" in await stranger.text()
    await stranger.open(f"/console/approve/{proposed['actionId']}")
    await stranger.page.wait_for_selector("#session:not([hidden])")  # a reload keeps the tab's key
    await stranger.page.wait_for_selector("text=Action not available")
    assert "Refund issued" not in await stranger.text()


async def test_approval_url_opened_cold_asks_for_a_key_then_shows_the_action(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    await enforce(tenant)
    proposed = await propose(tenant, params={"subject": "Quarterly report"})
    event = await Event.get(organization_id=tenant.organization_id, type="action.pending_approval")
    approval_url = urlsplit(event.data["approvalUrl"])
    assert approval_url.path == f"/console/approve/{proposed['actionId']}"
    fresh = await reviewer()
    await fresh.open(approval_url.path)  # the public URL is https://gatehouse.test: same path, test server
    await fresh.page.wait_for_selector("#api-key")
    assert proposed["actionId"] in await fresh.text()
    await fresh.sign_in(tenant.key)
    await fresh.page.wait_for_selector("text=Quarterly report")
    assert fresh.page.url.endswith(f"/console/approve/{proposed['actionId']}")
    assert "send_email" in await fresh.text("h1")


async def test_action_page_follows_a_decision_made_elsewhere(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    await enforce(tenant)
    proposed = await propose(tenant)
    bob = await reviewer()
    await bob.open(f"/console/approve/{proposed['actionId']}")
    await bob.sign_in(tenant.key)
    await bob.page.wait_for_selector("button.approve:not([disabled])")
    await bob.live_state("live")
    await decide(tenant, proposed, "reject", reason="Customer asked us to stop")
    await bob.page.wait_for_selector(".decided.s-rejected", timeout=10 * SECONDS)
    text = await bob.text()
    assert "While you were looking, this action was rejected" in text
    assert "Customer asked us to stop" in text
    assert await bob.page.query_selector("button.approve") is None
