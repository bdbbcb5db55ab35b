"""A first end-to-end: one http_request step against a local server, over REST."""

from __future__ import annotations

from tests.conftest import Tenant
from tests.connectors.fakes.base import serving
from tests.connectors.fakes.customer import CustomerApi
from tests.workflows.helpers import create_workflow, execute, settled


async def test_one_http_step_runs(tenant: Tenant) -> None:
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        workflow = await create_workflow(c, [{"name": "call", "type": "http_request", "config": {
            "method": "POST", "url": f"{api.base_url}/echo", "body": {"who": "{{ input.name }}"}}}])
        execution = await settled(c, await execute(c, workflow["id"], {"name": "John"}))
    assert execution["status"] == "completed", execution
    assert api.requests[0].json == {"who": "John"}


async def test_a_header_that_is_one_template_of_a_number_is_sent_as_text(tenant: Tenant) -> None:
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        workflow = await create_workflow(c, [{"name": "call", "type": "http_request", "config": {
            "url": f"{api.base_url}/echo", "headers": {"X-Count": "{{ input.count }}", "X-On": "{{ input.on }}"}}}])
        execution = await settled(c, await execute(c, workflow["id"], {"count": 3, "on": True}))
    assert execution["status"] == "completed", execution
    assert api.requests[0].headers["X-Count"] == "3" and api.requests[0].headers["X-On"] == "true"
