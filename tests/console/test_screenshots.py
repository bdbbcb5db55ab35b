"""Screenshots of the pending list and an action page, desktop (1280x800) and phone (390x844).

Written to tests/artifacts/ on every run (docs/console-*.png are copies of the desktop ones), in the
light scheme, plus the dark scheme of each view on a desktop, so a person can look at what ships.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Tenant
from tests.console.conftest import DESKTOP, PHONE, OpenReviewer
from tests.console.scenario import decide, enforce, evidence, make_key, propose

MONEY_RULES = [{"when": {"actionType": "wire_transfer"}, "require": ["cfo_signoff", "sanctions_screen"]}]


async def seed(tenant: Tenant) -> dict[str, Any]:
    """A morning's queue: emails, a wire transfer half-way through its checks, a deploy."""
    await enforce(tenant, [{"when": {"actionType": "send_email"}},
                           {"when": {"actionType": "deploy"}, "require": ["tests"]}])
    await enforce(tenant, MONEY_RULES, name="Money movement")
    done = await propose(tenant, params={"subject": "Welcome aboard", "template": "onboarding-v2"})
    await decide(tenant, done, "approve", comment="Standard onboarding mail")
    await propose(tenant, "deploy", actor={"kind": "agent", "name": "release-bot"}, target="api.prod",
                  params={"version": "2.14.0", "strategy": "canary", "regions": ["eu-west-1", "us-east-1"]})
    finance = {"kind": "agent", "name": "finance-agent", "provider": "anthropic"}
    wire = await propose(tenant, "wire_transfer", actor=finance,
                         target="IBAN DE89 3704 0044 0532 0130 00",
                         params={"amount": 18500, "currency": "EUR", "beneficiary": "Nordwind Logistics GmbH",
                                 "invoice": "INV-2291", "memo": "Freight, October"})
    await evidence(tenant, wire["actionId"], ("cfo_signoff", True, "Signed off by M. Keller in the finance channel"))
    await propose(tenant, params={"subject": "Your refund is on its way", "to": "dana@example.com", "amount": 42.5,
                                  "orderId": "A-10442"})
    return wire


async def test_screenshots_of_the_list_and_the_action_page(server: str, tenant: Tenant, reviewer: OpenReviewer) -> None:
    wire = await seed(tenant)
    key = await make_key(tenant, "dana (reviewer)", ["approvals:write", "actions:read", "policies:read"])
    shots = (("desktop", DESKTOP, "light"), ("phone", PHONE, "light"), ("desktop-dark", DESKTOP, "dark"))
    for name, viewport, scheme in shots:
        person = await reviewer(viewport=viewport, color_scheme=scheme)
        await person.open("/console/")
        await person.sign_in(key["key"])
        await person.live_state("live")
        await person.card(wire["actionId"])
        await person.page.wait_for_selector("text=3 actions waiting")
        await person.screenshot(f"console-pending-{name}")
        await person.open(f"/console/approve/{wire['actionId']}")
        await person.page.wait_for_selector("text=Money movement")
        await person.live_state("live")
        text = await person.text()
        assert "Approve is disabled until every required check has passed: sanctions_screen (missing)" in text
        assert await person.page.is_disabled("button.approve")
        await person.screenshot(f"console-action-{name}")
