"""What agents send and reviewers type is shown as text, never run: markup in params, actor, target,
evidence notes, policy names and reasons stays visible as characters, and no element is made of it."""

from __future__ import annotations

from tests.conftest import Tenant
from tests.console.conftest import OpenReviewer
from tests.console.scenario import enforce, evidence, propose

PAYLOAD = '<img src=x onerror="window.__xss=1;alert(1)">'
PARAMS = {
    "body": PAYLOAD,
    "<script>window.__xss=2;alert(2)</script>": "a key that is markup",
    "nested": {"frame": "<iframe src=javascript:alert(3)></iframe>", "svg": "<svg onload=alert(4)>"},
}
SPAWNED = "main img, main script, main iframe, main svg, main object, main embed, main [onerror], main [onload]"


async def no_markup_ran(page) -> None:  # type: ignore[no-untyped-def]
    assert await page.evaluate("window.__xss") is None
    assert await page.query_selector_all(SPAWNED) == []


async def test_markup_from_agents_and_reviewers_is_shown_as_text(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    await enforce(tenant, [{"when": {"actionType": "send_email"}, "require": ["moderation", "legal"]}],
                  name="<b onmouseover=alert(5)>Policy</b>")
    proposed = await propose(tenant, params=PARAMS, target='"><svg onload=alert(6)>',
                             actor={"kind": "agent", "name": "<marquee>bot</marquee>", "provider": "<i>x</i>"})
    await evidence(tenant, proposed["actionId"], ("moderation", True, "<img src=y onerror=alert(7)>"))
    person = await reviewer()
    await person.open("/console/")
    await person.sign_in(tenant.key)
    card = await person.card(proposed["actionId"])
    card_text = await card.inner_text()
    assert PAYLOAD in card_text and "<marquee>bot</marquee>" in card_text and '"><svg onload=alert(6)>' in card_text
    await no_markup_ran(person.page)

    await person.open(f"/console/approve/{proposed['actionId']}")
    await person.page.wait_for_selector("text=<b onmouseover=alert(5)>Policy</b>")
    text = await person.text()
    for literal in ("<script>window.__xss=2;alert(2)</script>", "<iframe src=javascript:alert(3)></iframe>",
                    "<img src=y onerror=alert(7)>", "<i>x</i>"):
        assert literal in text
    await person.page.fill("#decision-reason", "<img src=z onerror=alert(8)> not today")
    await person.page.click("button.reject")
    await person.page.wait_for_selector(".decided.s-rejected")
    assert "<img src=z onerror=alert(8)> not today" in await person.text(".decision")
    await no_markup_ran(person.page)

    await person.page.click("a[data-nav='activity']")
    await person.page.wait_for_selector("text=<img src=z onerror=alert(8)> not today")
    await no_markup_ran(person.page)
    assert person.dialogs == [] and person.csp_violations == []
