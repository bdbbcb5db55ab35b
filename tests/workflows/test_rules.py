"""Acceptance 6 and the workflow rules: definitions checked on save (400 naming the step), tenancy,
versions (an execution runs the version it started with), REST/GraphQL parity, execution lists,
templates, missing values, the step output limit, retries and continueOnError."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from app.core.settings import Settings
from models.workflows import Execution
from resolvers.workflows.checkpoints import CUT_MARKER
from tests.conftest import Tenant
from tests.connectors.fakes.base import serving
from tests.connectors.fakes.customer import CustomerApi
from tests.parity.doors import Door as BaseDoor
from tests.workflows.helpers import create_workflow, execute, settled

EXAMPLE = "https://api.example.com/data"


def http_step(name: str, url: str = EXAMPLE, **config: Any) -> dict[str, Any]:
    return {"name": name, "type": "http_request", "config": {"url": url, **config}}


async def status_reached(execution_id: str, statuses: tuple[str, ...], within: float = 15.0) -> None:
    """Wait in the database (no API call) until the execution's status is one of `statuses`."""
    deadline = time.monotonic() + within
    while (await Execution.get(id=execution_id)).status not in statuses:
        assert time.monotonic() < deadline, f"execution {execution_id} not {statuses} after {within}s"
        await asyncio.sleep(0.05)


def by_execution(api: CustomerApi) -> dict[str, list[str]]:
    """The paths the fake was called on, per execution (the Idempotency-Key is `{executionId}:{step}`)."""
    calls: dict[str, list[str]] = {}
    for seen in api.requests:
        calls.setdefault(seen.headers["Idempotency-Key"].split(":")[0], []).append(seen.path)
    return calls


# ------------------------------------------------------------------------------ definitions on save

BAD_DEFINITIONS: dict[str, tuple[list[dict[str, Any]], list[str]]] = {
    "unknown type": ([{"name": "fetch", "type": "teleport", "config": {}}],
                     ["steps[0] 'fetch'", "unknown step type 'teleport'"]),
    "filter in a template": ([http_step("fetch", body={"x": "{{ input.x | upper }}"})],
                             ["steps[0] 'fetch'", "config.body.x", "bad template"]),
    "later step": ([http_step("first", body={"x": "{{ steps.second.output.body }}"}), http_step("second")],
                   ["steps[0] 'first'", "config.body.x", "'second', which runs later"]),
    "unknown step": ([http_step("first"), http_step("second", url="{{ steps.nowhere.output.url }}")],
                     ["steps[1] 'second'", "config.url", "unknown step 'nowhere'"]),
    "duplicate names": ([http_step("same"), http_step("same")], ["steps[1] 'same'", "already used by steps[0]"]),
    "bad config field": ([http_step("ok"), http_step("fetch", method="FETCH")], ["steps[1] 'fetch'", "config.method"]),
}


@pytest.mark.parametrize("case", BAD_DEFINITIONS)
async def test_invalid_definition_is_400_naming_the_step(tenant: Tenant, case: str) -> None:
    steps, expected = BAD_DEFINITIONS[case]
    async with tenant.client() as c:
        refused = await c.post("/api/v1/workflows", json={"name": "wf", "definition": {"steps": steps}})
        listed = await c.get("/api/v1/workflows")
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "VALIDATION_ERROR"
    for part in expected:
        assert part in refused.json()["message"], (part, refused.json())
    assert listed.json() == []


async def test_connector_steps_checked_against_the_callers_connectors_and_input_schema(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    async with other_tenant.client() as c:
        foreign = await c.post("/api/v1/connectors", json={"name": "theirs", "type": "http"})
        assert foreign.status_code == 201, foreign.text
    async with tenant.client() as c:
        own = (await c.post("/api/v1/connectors", json={"name": "mine", "type": "http"})).json()

        async def save(connector_id: str, action: str, given: dict[str, Any]) -> Any:
            step = {"name": "notify", "type": "connector",
                    "config": {"connectorId": connector_id, "action": action, "input": given}}
            return await c.post("/api/v1/workflows", json={"name": "wf", "definition": {"steps": [
                http_step("first"), step]}})

        theirs = await save(foreign.json()["id"], "request", {"url": EXAMPLE})
        bad_enum = await save(own["id"], "request", {"url": EXAMPLE, "method": "FETCH"})
        no_url = await save(own["id"], "request", {"method": "GET"})
        no_action = await save(own["id"], "fly", {"url": EXAMPLE})
        templated = await save(own["id"], "request", {"url": "{{ steps.first.output.body.next }}"})
    for refused, parts in ((theirs, ["config.connectorId", "not found"]),
                           (bad_enum, ["config.input.method"]),
                           (no_url, ["config.input", "'url' is a required property"]),
                           (no_action, ["config.action", "no action 'fly'"])):
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == "VALIDATION_ERROR"
        for part in ["steps[1] 'notify'", *parts]:
            assert part in refused.json()["message"], (part, refused.json())
    assert templated.status_code == 201, templated.text  # a template's value is only known at run time


# ----------------------------------------------------------------------------------------- tenancy


async def test_executing_a_deleted_workflow_is_404(tenant: Tenant) -> None:
    async with tenant.client() as c:
        workflow = await create_workflow(c, [{"name": "pause", "type": "delay", "config": {"seconds": 0}}])
        before = await settled(c, await execute(c, workflow["id"]))
        deleted = await c.delete(f"/api/v1/workflows/{workflow['id']}")
        executed = await c.post(f"/api/v1/workflows/{workflow['id']}/execute", json={"input": {}})
        got = await c.get(f"/api/v1/workflows/{workflow['id']}")
        listed = await c.get("/api/v1/workflows")
        old = await c.get(f"/api/v1/executions/{before['id']}")
    graphql = await tenant.graphql("mutation($id: ID!) { executeWorkflow(id: $id) { id } }", {"id": workflow["id"]})
    assert before["status"] == "completed" and deleted.status_code == 200
    assert executed.status_code == 404 and executed.json()["error"] == "NOT_FOUND"
    assert got.status_code == 404 and listed.json() == []
    assert graphql["errors"][0]["extensions"]["code"] == "NOT_FOUND" and graphql["data"] is None
    assert old.status_code == 200 and old.json()["status"] == "completed"  # its executions stay readable
    assert await Execution.filter(workflow_id=workflow["id"]).count() == 1


async def test_another_organizations_workflow_and_execution_are_404(tenant: Tenant, other_tenant: Tenant) -> None:
    async with tenant.client() as c:
        workflow = await create_workflow(c, [{"name": "pause", "type": "delay", "config": {"seconds": 60}}])
        execution_id = await execute(c, workflow["id"])
        await settled(c, execution_id, statuses=("waiting",))
    wf, ex = workflow["id"], execution_id
    async with other_tenant.client() as c:
        answers = [
            await c.get(f"/api/v1/workflows/{wf}"),
            await c.put(f"/api/v1/workflows/{wf}", json={"name": "stolen"}),
            await c.delete(f"/api/v1/workflows/{wf}"),
            await c.post(f"/api/v1/workflows/{wf}/execute", json={"input": {}}),
            await c.get(f"/api/v1/workflows/{wf}/executions"),
            await c.get(f"/api/v1/executions/{ex}"),
            await c.post(f"/api/v1/executions/{ex}", json={"action": "cancel"}),
            await c.post(f"/api/v1/executions/{ex}", json={"action": "retry"}),
        ]
        lists = [(await c.get("/api/v1/workflows")).json(), (await c.get("/api/v1/executions")).json()]
    for answer in answers:
        assert answer.status_code == 404 and answer.json()["error"] == "NOT_FOUND", (answer.request.url, answer.text)
    assert lists == [[], []]
    queries = [
        ("query($id: ID!) { workflow(id: $id) { id } }", wf),
        ("mutation($id: ID!) { updateWorkflow(id: $id, input: {name: \"stolen\"}) { id } }", wf),
        ("mutation($id: ID!) { deleteWorkflow(id: $id) { id } }", wf),
        ("mutation($id: ID!) { executeWorkflow(id: $id) { id } }", wf),
        ("query($id: ID!) { executions(workflowId: $id) { edges { node { id } } } }", wf),
        ("query($id: ID!) { execution(id: $id) { id } }", ex),
        ("mutation($id: ID!) { cancelExecution(id: $id) { id } }", ex),
        ("mutation($id: ID!) { retryExecution(id: $id) { id } }", ex),
    ]
    for query, given in queries:
        out = await other_tenant.graphql(query, {"id": given})
        assert out["errors"][0]["extensions"]["code"] == "NOT_FOUND", (query, out)
    mine = await tenant.graphql("query($w: ID!, $e: ID!) { workflow(id: $w) { name } execution(id: $e) { status } }",
                                {"w": wf, "e": ex})
    assert mine["data"] == {"workflow": {"name": "wf"}, "execution": {"status": "waiting"}}


# ---------------------------------------------------------------------------------------- versions


async def test_new_definition_is_a_new_version_and_a_started_execution_keeps_its_own(tenant: Tenant) -> None:
    api = CustomerApi()
    pause = {"name": "pause", "type": "delay", "config": {"seconds": 1}}
    async with serving(api), tenant.client() as c:
        workflow = await create_workflow(c, [pause, http_step("call", f"{api.base_url}/echo")])
        first = await execute(c, workflow["id"])
        await settled(c, first, statuses=("waiting",))
        changed = await c.put(f"/api/v1/workflows/{workflow['id']}", json={"definition": {"steps": [
            pause, http_step("call", f"{api.base_url}/text")]}})
        second = await execute(c, workflow["id"])
        renamed = await c.put(f"/api/v1/workflows/{workflow['id']}", json={"name": "renamed"})
        refused = await c.put(f"/api/v1/workflows/{workflow['id']}", json={"definition": {"steps": [
            pause, http_step("pause")]}})
        current = (await c.get(f"/api/v1/workflows/{workflow['id']}")).json()
        done = [await settled(c, first), await settled(c, second)]
    assert workflow["version"] == 1
    assert changed.status_code == 200 and changed.json()["version"] == 2
    assert renamed.json()["version"] == 2 and renamed.json()["name"] == "renamed"
    assert refused.status_code == 400 and "steps[1] 'pause'" in refused.json()["message"]
    assert current["version"] == 2 and current["definition"]["steps"][1]["config"]["url"].endswith("/text")
    assert [e["status"] for e in done] == ["completed", "completed"]
    assert by_execution(api) == {first: ["/echo"], second: ["/text"]}
    assert done[0]["output"]["body"]["method"] == "GET" and done[1]["output"]["body"] == "plain answer"


# ------------------------------------------------------------------------------------ GraphQL parity

EXECUTION_FIELDS = "id status error retryOf steps { name status }"


class Door(BaseDoor):
    """The workflow operations over REST or over GraphQL, answered in one shape, errors as their code."""

    rest_prefix = "/api/v1"

    @staticmethod
    def _execution(out: dict[str, Any]) -> dict[str, Any]:
        if "error" in out and set(out) == {"error"}:
            return out
        return {"id": out["id"], "status": out["status"], "error": out["error"], "retryOf": out["retryOf"],
                "steps": [(s["name"], s["status"]) for s in out["steps"]]}

    async def create(self, steps: list[dict[str, Any]]) -> dict[str, Any]:
        if self.kind == "rest":
            out = await self._rest("POST", "/workflows", {"name": "wf", "definition": {"steps": steps}})
        else:
            q = "mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id version name } }"
            out = await self._gql(q, {"i": {"name": "wf", "definition": {"steps": steps}}})
        return out if "error" in out else {"id": out["id"], "version": out["version"], "name": out["name"]}

    async def workflow(self, workflow_id: str) -> dict[str, Any]:
        if self.kind == "rest":
            out = await self._rest("GET", f"/workflows/{workflow_id}")
        else:
            out = await self._gql("query($id: ID!) { workflow(id: $id) { id version name definition } }",
                                  {"id": workflow_id})
        return out if "error" in out else {"id": out["id"], "version": out["version"],
                                           "steps": [s["name"] for s in out["definition"]["steps"]]}

    async def execute(self, workflow_id: str, given: Any) -> dict[str, Any]:
        if self.kind == "rest":
            out = await self._rest("POST", f"/workflows/{workflow_id}/execute", {"input": given})
            return out if "error" in out else {"id": out["executionId"], "status": out["status"]}
        out = await self._gql("mutation($id: ID!, $in: JSON) { executeWorkflow(id: $id, input: $in) { id status } }",
                              {"id": workflow_id, "in": given})
        return out

    async def execution(self, execution_id: str) -> dict[str, Any]:
        if self.kind == "rest":
            return self._execution(await self._rest("GET", f"/executions/{execution_id}"))
        return self._execution(await self._gql(f"query($id: ID!) {{ execution(id: $id) {{ {EXECUTION_FIELDS} }} }}",
                                               {"id": execution_id}))

    async def cancel(self, execution_id: str) -> dict[str, Any]:
        if self.kind == "rest":
            return self._execution(await self._rest("POST", f"/executions/{execution_id}", {"action": "cancel"}))
        q = f"mutation($id: ID!) {{ cancelExecution(id: $id) {{ {EXECUTION_FIELDS} }} }}"
        return self._execution(await self._gql(q, {"id": execution_id}))

    async def retry(self, execution_id: str, from_start: bool = False) -> dict[str, Any]:
        if self.kind == "rest":
            body = {"action": "retry", "fromStart": from_start}
            return self._execution(await self._rest("POST", f"/executions/{execution_id}", body))
        q = f"mutation($id: ID!, $f: Boolean!) {{ retryExecution(id: $id, fromStart: $f) {{ {EXECUTION_FIELDS} }} }}"
        return self._execution(await self._gql(q, {"id": execution_id, "f": from_start}))


@pytest.mark.parametrize("kind", ["rest", "graphql"])
async def test_graphql_and_rest_apply_the_same_rules(tenant: Tenant, kind: str) -> None:
    door = Door(tenant, kind)
    api = CustomerApi()
    async with serving(api):
        assert await door.create([{"name": "x", "type": "teleport", "config": {}}]) == {"error": "VALIDATION_ERROR"}
        assert await door.create([http_step("x", body="{{ input.x | upper }}")]) == {"error": "VALIDATION_ERROR"}
        assert await door.create([http_step("a", body="{{ steps.b.output }}"), http_step("b")]) == {
            "error": "VALIDATION_ERROR"}
        created = await door.create([{"name": "pause", "type": "delay", "config": {"seconds": "{{ input.wait }}"}},
                                     http_step("call", f"{api.base_url}/echo", method="POST",
                                               body={"n": "{{ input.n }}"})])
        assert created["version"] == 1 and created["name"] == "wf"
        assert await door.workflow(created["id"]) == {"id": created["id"], "version": 1, "steps": ["pause", "call"]}
        assert await door.workflow("wf_missing") == {"error": "NOT_FOUND"}
        assert await door.execute("wf_missing", {}) == {"error": "NOT_FOUND"}
        assert await door.execute(created["id"], "not an object") == {"error": "VALIDATION_ERROR"}
        assert await door.execution("exec_missing") == {"error": "NOT_FOUND"}
        assert await door.cancel("exec_missing") == {"error": "NOT_FOUND"}
        assert await door.retry("exec_missing") == {"error": "NOT_FOUND"}

        quick = await door.execute(created["id"], {"wait": 0, "n": 7})
        assert quick["status"] == "pending"
        await status_reached(quick["id"], ("completed", "failed", "cancelled"))
        assert await door.execution(quick["id"]) == {"id": quick["id"], "status": "completed", "error": None,
                                                     "retryOf": None,
                                                     "steps": [("pause", "completed"), ("call", "completed")]}
        assert await door.cancel(quick["id"]) == {"error": "CONFLICT"}
        assert await door.retry(quick["id"]) == {"error": "CONFLICT"}

        slow = await door.execute(created["id"], {"wait": 60, "n": 8})
        await status_reached(slow["id"], ("waiting",))
        assert await door.retry(slow["id"]) == {"error": "CONFLICT"}
        assert await door.cancel(slow["id"]) == {"id": slow["id"], "status": "cancelled", "error": None,
                                                 "retryOf": None, "steps": [("pause", "cancelled")]}
        retried = await door.retry(slow["id"], from_start=True)
        assert retried["retryOf"] == slow["id"] and retried["status"] == "pending" and retried["id"] != slow["id"]
        await status_reached(retried["id"], ("waiting",))
        assert (await door.cancel(retried["id"]))["status"] == "cancelled"
    assert [seen.json for seen in api.requests] == [{"n": 7}]


# ----------------------------------------------------------------------------------- execution lists


async def test_execution_lists_by_status_and_by_workflow(tenant: Tenant) -> None:
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        good = await create_workflow(c, [http_step("call", f"{api.base_url}/echo")])
        bad = await create_workflow(c, [http_step("call", f"{api.base_url}/actions/delete")])  # 401: no key
        a1 = (await settled(c, await execute(c, good["id"])))["id"]
        b1 = (await settled(c, await execute(c, bad["id"])))["id"]
        a2 = (await settled(c, await execute(c, good["id"])))["id"]
        answers = {path: await c.get(f"/api/v1{path}") for path in (
            "/executions", "/executions?status=completed", "/executions?status=failed",
            "/executions?status=running", f"/workflows/{good['id']}/executions",
            f"/workflows/{bad['id']}/executions", f"/workflows/{good['id']}/executions?status=failed",
            "/executions?status=bogus")}
    ids = {path: [e["id"] for e in r.json()] for path, r in answers.items() if r.status_code == 200}
    assert ids == {
        "/executions": [a2, b1, a1],
        "/executions?status=completed": [a2, a1],
        "/executions?status=failed": [b1],
        "/executions?status=running": [],
        f"/workflows/{good['id']}/executions": [a2, a1],
        f"/workflows/{bad['id']}/executions": [b1],
        f"/workflows/{good['id']}/executions?status=failed": [],
    }
    assert {e["status"] for e in answers["/executions?status=completed"].json()} == {"completed"}
    assert answers["/executions?status=bogus"].status_code == 400
    assert answers["/executions?status=bogus"].json()["error"] == "VALIDATION_ERROR"
    graphql = await tenant.graphql("query($w: ID!) { executions(workflowId: $w, status: \"completed\") "
                                   "{ edges { node { id status } } } }", {"w": good["id"]})
    assert [e["node"]["id"] for e in graphql["data"]["executions"]["edges"]] == [a2, a1]


# ---------------------------------------------------------------------------------------- templates


async def test_templates_carry_values_and_a_whole_string_template_keeps_its_json_type(tenant: Tenant) -> None:
    api = CustomerApi()
    given = {"count": 3, "ratio": 0.5, "flag": True, "tags": ["a", "b"], "user": {"name": "Ann"}}
    async with serving(api), tenant.client() as c:
        workflow = await create_workflow(c, [
            http_step("first", f"{api.base_url}/echo", method="POST",
                      query={"who": "{{ input.user.name }}"}, headers={"X-Count": "{{ input.count }} items"},
                      body={"count": "{{ input.count }}", "ratio": "{{ input.ratio }}", "flag": "{{ input.flag }}",
                            "tags": "{{ input.tags }}", "user": "{{ input.user }}",
                            "label": "n={{ input.count }} tags={{ input.tags }}"}),
            http_step("second", f"{api.base_url}/echo", method="PUT",
                      body={"method": "{{ steps.first.output.body.method }}", "status": "{{ steps.first.status }}",
                            "code": "{{ steps.first.output.status }}",
                            "who": "{{ steps.first.output.body.query.who }}"}),
        ])
        execution = await settled(c, await execute(c, workflow["id"], given))
    assert execution["status"] == "completed", execution["error"]
    first, second = api.requests
    assert first.json == {"count": 3, "ratio": 0.5, "flag": True, "tags": ["a", "b"], "user": {"name": "Ann"},
                          "label": 'n=3 tags=["a","b"]'}
    assert first.query == {"who": "Ann"} and first.headers["X-Count"] == "3 items"
    echoed = json.loads(execution["steps"][0]["output"]["body"]["body"])  # what the echo received, as JSON
    assert echoed["count"] == 3 and type(echoed["count"]) is int and echoed["flag"] is True
    assert second.json == {"method": "POST", "status": "completed", "code": 200, "who": "Ann"}


async def test_a_missing_template_value_fails_that_step_naming_it(tenant: Tenant) -> None:
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        workflow = await create_workflow(c, [
            http_step("first", f"{api.base_url}/echo"),
            http_step("second", f"{api.base_url}/echo", method="POST", body={"x": "{{ input.absent.deep }}"}),
            http_step("third", f"{api.base_url}/echo")])
        execution = await settled(c, await execute(c, workflow["id"], {"present": 1}))
    assert execution["status"] == "failed"
    assert "'second'" in execution["error"] and "input.absent.deep" in execution["error"]
    assert [(s["name"], s["status"]) for s in execution["steps"]] == [("first", "completed"), ("second", "failed")]
    assert execution["steps"][1]["attempts"] == 1 and "input.absent.deep" in execution["steps"][1]["error"]
    assert len(api.requests) == 1  # neither the failed step nor the one after it called out


# ------------------------------------------------------------------------------------- output limit


async def test_step_output_over_the_limit_is_cut_with_a_marker(tenant: Tenant, settings: Settings) -> None:
    limit = settings.workflow_step_output_max_bytes
    blob = "x" * 150_000  # sent twice: a ~300 KB body, echoed back in a ~300 KB answer
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        workflow = await create_workflow(c, [
            http_step("big", f"{api.base_url}/echo", method="POST", body={"a": "{{ input.blob }}",
                                                                          "b": "{{ input.blob }}"}),
            http_step("small", f"{api.base_url}/echo", method="POST", body={"seen": "{{ steps.big.output.marker }}"})])
        execution = await settled(c, await execute(c, workflow["id"], {"blob": blob}))
    assert execution["status"] == "completed", execution["error"]
    assert len(api.requests[0].body) > limit
    cut = execution["steps"][0]["output"]
    assert cut["truncated"] is True and cut["marker"] == CUT_MARKER and cut["bytes"] > limit
    assert isinstance(cut["preview"], str) and len(json.dumps(cut)) < limit
    assert api.requests[1].json == {"seen": CUT_MARKER}  # later steps see the cut output
    assert execution["steps"][1]["output"]["body"]["method"] == "POST"  # a small output is kept whole


# ------------------------------------------------------------------------------ failures and retries

RETRY = {"maxAttempts": 2, "backoffMs": 50}


async def test_a_4xx_fails_at_once_while_a_503_is_retried(tenant: Tenant) -> None:
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        workflow = await create_workflow(c, [{**http_step("call", f"{api.base_url}/echo"), "retry": RETRY},
                                             http_step("after", f"{api.base_url}/echo")])
        api.fail_next(404, {"error": "no such thing"})
        refused = await settled(c, await execute(c, workflow["id"]))
        api.fail_next(503, {"error": "busy"})
        recovered = await settled(c, await execute(c, workflow["id"]))
        api.fail_next(503, {"error": "busy"})
        api.fail_next(503, {"error": "still busy"})
        exhausted = await settled(c, await execute(c, workflow["id"]))
    calls = by_execution(api)
    assert refused["status"] == "failed" and "404" in refused["error"]
    assert [(s["name"], s["status"], s["attempts"]) for s in refused["steps"]] == [("call", "failed", 1)]
    assert calls[refused["id"]] == ["/echo"]  # one call, and the next step never ran
    assert recovered["status"] == "completed", recovered
    assert [(s["name"], s["attempts"]) for s in recovered["steps"]] == [("call", 2), ("after", 1)]
    assert calls[recovered["id"]] == ["/echo", "/echo", "/echo"]
    assert exhausted["status"] == "failed" and "503" in exhausted["error"]
    assert [(s["name"], s["status"], s["attempts"]) for s in exhausted["steps"]] == [("call", "failed", 2)]
    assert calls[exhausted["id"]] == ["/echo", "/echo"]  # maxAttempts 2


async def test_a_429_is_retried_no_sooner_than_its_retry_after(tenant: Tenant) -> None:
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        workflow = await create_workflow(c, [{**http_step("call", f"{api.base_url}/echo"), "retry": RETRY}])
        api.fail_next(429, {"error": "slow down"}, {"Retry-After": "1"})
        began = time.monotonic()
        execution = await settled(c, await execute(c, workflow["id"]))
        took = time.monotonic() - began
    assert execution["status"] == "completed", execution["error"]
    assert execution["steps"][0]["attempts"] == 2 and len(api.requests) == 2
    assert took >= 1.0  # the 50 ms backoff gave way to the provider's Retry-After


async def test_an_answer_that_cannot_be_stored_as_it_came_ends_the_execution_all_the_same(tenant: Tenant) -> None:
    """A Retry-After in digits that are not ASCII is unreadable (the backoff applies) and an answer
    holding NUL is kept with U+FFFD in its place: before, either crashed the pass, and the execution
    was taken over and its step called again, past its attempts, for ever."""
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        workflow = await create_workflow(c, [{**http_step("call", f"{api.base_url}/echo"), "retry": RETRY},
                                             http_step("after", f"{api.base_url}/echo")])
        api.fail_next(429, {"error": "slow\u0000down"}, {"Retry-After": "\u00b2"})
        api.fail_next(200, {"a\u0000": "x\u0000y"})
        execution = await settled(c, await execute(c, workflow["id"]))
    assert execution["status"] == "completed", execution
    assert [(s["name"], s["attempts"]) for s in execution["steps"]] == [("call", 2), ("after", 1)]
    assert execution["steps"][0]["output"]["body"] == {"a\ufffd": "x\ufffdy"}
    assert len(api.requests) == 3


async def test_continue_on_error_lets_the_next_step_run(tenant: Tenant) -> None:
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        workflow = await create_workflow(c, [
            {**http_step("flaky", f"{api.base_url}/echo"), "continueOnError": True, "retry": RETRY},
            http_step("after", f"{api.base_url}/echo", method="POST", body={"previous": "{{ steps.flaky.status }}"})])
        api.fail_next(400, {"error": "bad"})
        execution = await settled(c, await execute(c, workflow["id"]))
    assert execution["status"] == "completed" and execution["error"] is None, execution
    flaky, after = execution["steps"]
    assert (flaky["status"], flaky["attempts"]) == ("failed", 1) and "400" in flaky["error"]
    assert (after["status"], after["attempts"]) == ("completed", 1)
    assert api.requests[1].json == {"previous": "failed"}


async def test_executions_of_an_empty_workflow_id_is_not_found_not_every_execution(tenant: Tenant) -> None:
    """`executions(workflowId: "")` names no workflow: NOT_FOUND, as any id that is not the
    organization's. It was read as no filter and listed every execution."""
    async with tenant.client() as c:
        workflow = await create_workflow(c, [{"name": "wait", "type": "delay", "config": {"seconds": 60}}])
        await execute(c, workflow["id"])
    listed = "query($w: ID) { executions(workflowId: $w) { edges { node { id } } } }"
    assert len((await tenant.graphql(listed, {"w": workflow["id"]}))["data"]["executions"]["edges"]) == 1
    out = await tenant.graphql(listed, {"w": ""})
    assert out["errors"][0]["extensions"]["code"] == "NOT_FOUND", out
