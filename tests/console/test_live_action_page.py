"""The action page (an approvalUrl) keeps up with what happens to its action while it is open,
without a reload: evidence arriving, and whatever changed while its live socket was down."""

from __future__ import annotations

from tests.conftest import Tenant
from tests.console.browser import SECONDS
from tests.console.conftest import OpenReviewer
from tests.console.scenario import enforce, evidence, propose


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
