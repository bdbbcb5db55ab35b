"""A reviewer's day in the console: sign in, see actions arrive live, open one, decide it.

Acceptance 1 and 2 of the console issue: the pending list is live, the action page decides, the
list follows, another organization sees nothing, and an approvalUrl opened cold asks for a key.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from models.events import Event
from models.governance import Action
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


async def test_approving_params_that_changed_since_they_were_shown_is_refused(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    """The console sends the params on screen with its approval: changed meanwhile without the page
    hearing of it (here: in the database, no event), the approval is refused and the page reloads."""
    await enforce(tenant)
    key = await make_key(tenant, "alice-reviewer", ["approvals:write", "actions:read", "policies:read"])
    proposed = await propose(tenant, params={"subject": "Refund issued", "amount": 120})
    alice = await reviewer()
    await alice.open(f"/console/approve/{proposed['actionId']}")
    await alice.sign_in(key["key"])
    await alice.page.wait_for_selector("text=Refund issued")
    await Action.filter(id=proposed["actionId"]).update(params={"subject": "Refund issued", "amount": 12000})
    await alice.page.click("button.approve")
    await alice.page.wait_for_selector("text=changed since they were shown", timeout=10 * SECONDS)
    await alice.page.wait_for_selector("text=12000")  # reloaded: what is there now
    assert (await action(tenant, proposed["actionId"]))["status"] == "pending_approval"


async def test_a_quorum_shows_its_progress_and_who_may_not_decide(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    """Under `approvals: 2` from a group: the count and who is still awaited; a key outside the group
    sees both buttons disabled with the reason (the server would answer 403); a quorum the group
    cannot reach (its proposer is one of the two members) is flagged."""
    alice_key = await make_key(tenant, "alice", ["approvals:write", "actions:read"])
    bob_key = await make_key(tenant, "bob", ["approvals:write", "actions:read", "actions:write"])
    outsider_key = await make_key(tenant, "outsider", ["approvals:write", "actions:read"])
    async with tenant.client() as c:
        group = {"name": "pair", "members": [alice_key["id"], bob_key["id"]]}
        assert (await c.post("/api/v1/reviewer-groups", json=group)).status_code == 201
    await enforce(tenant, [{"when": {"actionType": "send_email"}, "approvals": 2, "approvers": ["pair"]}])
    proposed = await propose(tenant, params={"subject": "Refund issued"})
    async with httpx.AsyncClient(base_url=server, headers={"x-api-key": alice_key["key"]}) as c:
        assert (await c.post(f"/approvals/{proposed['approvalId']}/approve")).status_code == 200
    bob = await reviewer()
    await bob.open(f"/console/approve/{proposed['actionId']}")
    await bob.sign_in(bob_key["key"])
    await bob.page.wait_for_selector(".quorum")
    quorum = await bob.text(".quorum")
    assert "1 of 2 approvals counted" in quorum and alice_key["id"] in quorum, quorum
    assert f"1 more needed, from: {bob_key['id']} (this key)" in quorum, quorum
    assert not await bob.page.is_disabled("button.approve")
    outsider = await reviewer()
    await outsider.open(f"/console/approve/{proposed['actionId']}")
    await outsider.sign_in(outsider_key["key"])
    await outsider.page.wait_for_selector(".quorum")
    assert await outsider.page.is_disabled("button.approve") and await outsider.page.is_disabled("button.reject")
    assert "is not among the approvers of this action" in await outsider.text(".decision")
    by_bob = await propose(tenant, params={"subject": "Bob's own"}, headers={"x-api-key": bob_key["key"]})
    await bob.open(f"/console/approve/{by_bob['actionId']}")
    await bob.page.wait_for_selector("text=cannot be approved and waits for its deadline")
    assert await bob.page.is_disabled("button.approve")
    assert "the key that proposed this action cannot decide it" in await bob.text(".decision")


async def test_the_pending_list_marks_the_actions_this_key_may_not_decide(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    """Emails need an approver of the group "pair" (Alice alone); deploys any reviewer. An outsider
    with approvals:write sees both waiting, but the email's card says why it may not decide it (the
    server would answer 403 to either verb) and offers to view it, not to review it; the deploy's
    card, and the email's card in Alice's list, carry no such mark."""
    from playwright.async_api import expect

    alice_key = await make_key(tenant, "alice", ["approvals:write", "actions:read"])
    outsider_key = await make_key(tenant, "outsider", ["approvals:write", "actions:read"])
    async with tenant.client() as c:
        group = {"name": "pair", "members": [alice_key["id"]]}
        assert (await c.post("/api/v1/reviewer-groups", json=group)).status_code == 201
    await enforce(tenant, [{"when": {"actionType": "send_email"}, "approvers": ["pair"]},
                           {"when": {"actionType": "deploy"}}])
    email = await propose(tenant, params={"subject": "Only for the pair"})
    deploy = await propose(tenant, "deploy", params={"version": "1.2.3"})

    outsider = await reviewer()
    await outsider.open("/console/")
    await outsider.sign_in(outsider_key["key"])
    barred_card = await outsider.card(email["actionId"])
    reason = f"You may not decide this: key {outsider_key['id']} is not among the approvers of this action."
    card_text = await barred_card.inner_text()
    assert reason in card_text and "Not yours to decide" in card_text and "Ready to decide" not in card_text, card_text
    card = outsider.page.locator(f"li.card[data-action-id='{email['actionId']}']")
    await expect(card.get_by_text(reason)).to_be_visible()
    await expect(card.get_by_role("link", name=f"View send_email {email['actionId']}")).to_be_visible()
    free_card = await outsider.card(deploy["actionId"])
    assert "may not decide" not in await free_card.inner_text()
    async with httpx.AsyncClient(base_url=server, headers={"x-api-key": outsider_key["key"]}) as c:
        refused = await c.post(f"/approvals/{email['approvalId']}/approve")
    assert refused.status_code == 403, refused.text  # what the mark spares the reviewer

    alice = await reviewer()
    await alice.open("/console/")
    await alice.sign_in(alice_key["key"])
    own_card = await alice.card(email["actionId"])
    own_text = await own_card.inner_text()
    assert "may not decide" not in own_text and "Ready to decide" in own_text, own_text
