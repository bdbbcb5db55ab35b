"""An http_request step's header that can never be sent (a name that is not an HTTP token, a value
written with a line break or non-ASCII text) is refused when the definition is saved, at both doors,
naming the step and header; it used to be saved and the step failed on every run. A header written
as a template is known only at run time: it is saved, and the rendered value is checked at the call."""

from __future__ import annotations

from typing import Any

import pytest

from models.workflows import Workflow
from tests.conftest import Tenant
from tests.workflows.helpers import create_workflow, execute, settled

CREATE = "mutation($d: JSON!) { createWorkflow(input: {name: \"w\", definition: $d}) { id } }"
UNSENDABLE = [({"Bad Name": "x"}, "config.headers: 'Bad Name' is not an HTTP header name"),
              ({"X-Note": "a\r\nInjected: 1"}, "config.headers.X-Note: a header value is at most"),
              ({"X-Note": "café"}, "config.headers.X-Note: a header value is at most")]


def _steps(headers: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": "call", "type": "http_request", "config": {"url": "http://127.0.0.1:1/", "headers": headers}}]


@pytest.mark.parametrize(("headers", "refusal"), UNSENDABLE)
async def test_a_header_that_cannot_be_sent_is_refused_on_save(tenant: Tenant, headers: dict[str, Any],
                                                                refusal: str) -> None:
    expected = f"steps[0] 'call': {refusal}"
    async with tenant.client() as c:
        created = await c.post("/api/v1/workflows", json={"name": "w", "definition": {"steps": _steps(headers)}})
        assert created.status_code == 400, created.text
        assert created.json()["error"] == "VALIDATION_ERROR" and expected in created.json()["message"], created.text
        answer = await tenant.graphql(CREATE, {"d": {"steps": _steps(headers)}})
        assert answer["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", answer
        assert expected in answer["errors"][0]["message"], answer
        workflow = await create_workflow(c, _steps({"X-Note": "fine"}))
        updated = await c.put(f"/api/v1/workflows/{workflow['id']}", json={"definition": {"steps": _steps(headers)}})
        assert updated.status_code == 400 and expected in updated.json()["message"], updated.text
    assert [(w.version, w.definition["steps"][0]["config"]["headers"]) for w in await Workflow.all()] == [
        (1, {"X-Note": "fine"})]


async def test_a_templated_header_is_saved_and_its_rendered_value_checked_at_the_call(tenant: Tenant) -> None:
    async with tenant.client() as c:
        workflow = await create_workflow(c, _steps({"X-Note": "{{ input.note }}"}))
        execution = await settled(c, await execute(c, workflow["id"], {"note": "a\nb"}))
    assert execution["status"] == "failed", execution
    assert "X-Note: a header value is at most" in execution["error"], execution


async def test_headers_given_as_one_template_are_saved(tenant: Tenant) -> None:
    """`headers: "{{ input.headers }}"` is checked at the call; the save's header check answered 500."""
    step = {"name": "call", "type": "http_request",
            "config": {"url": "https://api.example.com/x", "headers": "{{ input.headers }}"}}
    async with tenant.client() as c:
        saved = await c.post("/api/v1/workflows", json={"name": "wf", "definition": {"steps": [step]}})
    assert saved.status_code == 201, saved.text
