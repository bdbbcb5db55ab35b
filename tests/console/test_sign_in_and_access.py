"""Signing in and out, what each kind of key may do, and the console driven by keyboard alone."""

from __future__ import annotations

from tests.conftest import Tenant
from tests.console.conftest import PHONE, OpenReviewer
from tests.console.scenario import action, enforce, make_key, propose

STORED = "sessionStorage.getItem('gatehouse.console.apiKey')"


async def test_a_wrong_key_gets_a_clear_message(server: str, tenant: Tenant, reviewer: OpenReviewer) -> None:
    person = await reviewer()
    await person.open("/console/")
    for wrong in ("sk_this_is_not_a_key", tenant.key[:-1] + ("A" if tenant.key[-1] != "A" else "B")):
        await person.page.fill("#api-key", wrong)
        await person.page.press("#api-key", "Enter")
        await person.page.wait_for_selector("#signin-error:has-text('This API key was not accepted')")
        assert await person.page.evaluate(STORED) is None
        assert await person.page.is_hidden("#session")
    await person.page.fill("#api-key", "")
    await person.page.click("button[type=submit]")
    assert "Paste an API key" in await person.text("#signin-error")


async def test_sign_out_forgets_the_key_and_closes_the_socket(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    person = await reviewer()
    await person.open("/console/")
    await person.sign_in(tenant.key)
    await person.live_state("live")
    assert await person.page.evaluate(STORED) == tenant.key
    [socket] = person.sockets
    assert socket.url.endswith("/graphql") and tenant.key not in socket.url
    await person.page.click("#sign-out")
    await person.page.wait_for_selector("#api-key")
    await socket.wait_for_event("close") if not socket.is_closed() else None
    assert socket.is_closed()
    assert await person.page.evaluate(STORED) is None
    assert await person.page.evaluate("localStorage.length") == 0
    assert await person.context.cookies() == []
    assert tenant.key not in person.page.url and "Signed out" in await person.text()
    await person.page.reload()
    await person.page.wait_for_selector("#api-key")  # nothing kept: a reload asks again


async def test_a_read_only_key_sees_everything_and_decides_nothing(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    await enforce(tenant)
    proposed = await propose(tenant)
    auditor = await make_key(tenant, "auditor", ["*:read"])
    person = await reviewer(viewport=PHONE)
    await person.open(f"/console/approve/{proposed['actionId']}")
    await person.sign_in(auditor["key"])
    await person.page.wait_for_selector("#approve-why")
    why = await person.text("#approve-why")
    assert "read-only" in why and "approvals:write" in why
    assert await person.page.is_disabled("button.approve") and await person.page.is_disabled("button.reject")
    assert await person.page.is_disabled("#decision-comment")
    assert await person.page.get_attribute("button.approve", "aria-describedby") == "approve-why"
    assert "read-only" in await person.text("#who") or await person.page.query_selector("#who .tag")
    await person.page.click("a[data-nav='pending']")
    await person.card(proposed["actionId"])
    assert (await action(tenant, proposed["actionId"]))["status"] == "pending_approval"


async def test_a_key_without_read_scopes_is_told_what_it_lacks(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    narrow = await make_key(tenant, "hooks only", ["webhooks:read"])
    person = await reviewer()
    await person.open("/console/")
    await person.sign_in(narrow["key"])
    await person.page.wait_for_selector("text=This key lacks approvals:read and actions:read")
    await person.page.click("a[data-nav='activity']")
    await person.page.wait_for_selector("text=This key lacks the actions:read scope")
    await person.page.click("a[data-nav='webhooks']")
    await person.page.wait_for_selector("text=No webhooks yet.")


async def test_keyboard_alone_signs_in_opens_and_approves(server: str, tenant: Tenant, reviewer: OpenReviewer) -> None:
    await enforce(tenant)
    proposed = await propose(tenant)
    person = await reviewer()
    await person.open("/console/")
    assert await person.page.evaluate("document.activeElement.id") == "api-key"  # focus starts in the form
    await person.page.keyboard.type(tenant.key)
    await person.page.keyboard.press("Enter")
    await person.card(proposed["actionId"])
    await person.tab_to(f"a.card-title[href$='{proposed['actionId']}']")
    outline = await person.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), "keyboard focus must be visible"
    await person.page.keyboard.press("Enter")
    await person.page.wait_for_selector("#decision-comment")
    await person.tab_to("#decision-comment")
    await person.page.keyboard.type("ok by keyboard")
    await person.tab_to("button.approve")
    await person.page.keyboard.press("Enter")
    await person.page.wait_for_selector(".decided.s-approved")
    assert (await action(tenant, proposed["actionId"]))["status"] == "approved"
    for view in ("activity", "webhooks", "executions", "pending"):
        await person.tab_to(f"a[data-nav='{view}']")
        await person.page.keyboard.press("Enter")
        await person.page.wait_for_url(f"**/console/{'' if view == 'pending' else view}")
