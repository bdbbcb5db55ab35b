"""The action page shows why it was proposed, when the proposer said: a workflow approval step's
`reason` or an MCP agent's, as text above the params."""

from __future__ import annotations

from tests.conftest import Tenant
from tests.console.conftest import OpenReviewer
from tests.console.scenario import propose
from tests.console.test_untrusted_text import no_markup_ran
from tests.mcp.conftest import MODERN, mcp_session
from tests.workflows.test_approval_reason import HISTORY, RENDERED, waiting_for_a_reviewer
from tests.workflows.test_story import manual_policy


async def _shown(tenant: Tenant, reviewer: OpenReviewer, action_id: str) -> tuple[str, str]:
    person = await reviewer()
    await person.open(f"/console/approve/{action_id}")
    await person.sign_in(tenant.key)
    await person.page.wait_for_selector(".panel-why")
    await no_markup_ran(person.page)
    return await person.text(".panel-why h2"), await person.text(".panel-why p")


async def test_a_workflow_steps_reason(server: str, tenant: Tenant, reviewer: OpenReviewer) -> None:
    action_id = await waiting_for_a_reviewer(tenant)
    assert await _shown(tenant, reviewer, action_id) == ("Why the workflow asks", RENDERED)


async def test_an_agents_reason(server: str, tenant: Tenant, reviewer: OpenReviewer) -> None:
    async with tenant.client() as c:
        await manual_policy(c, "refund")
    async with mcp_session(f"{server}/mcp", tenant.key, protocol=MODERN) as session:
        result = await session.call_tool("propose_action", {"type": "refund", "reason": "charged twice <b>x</b>"})
    assert not result.is_error and result.structured_content is not None, result.content
    action_id = result.structured_content["action_id"]
    history = (await tenant.graphql(HISTORY, {"id": action_id}))["data"]["action"]["history"]
    assert history[0]["detail"]["agentReason"] == "charged twice <b>x</b>", history
    assert await _shown(tenant, reviewer, action_id) == ("Why the agent asks", "charged twice <b>x</b>")


async def test_no_reason_no_panel(server: str, tenant: Tenant, reviewer: OpenReviewer) -> None:
    async with tenant.client() as c:
        await manual_policy(c, "refund")
    proposed = await propose(tenant, "refund")
    person = await reviewer()
    await person.open(f"/console/approve/{proposed['actionId']}")
    await person.sign_in(tenant.key)
    await person.page.wait_for_selector(".panel-params")
    assert await person.page.query_selector(".panel-why") is None
