"""Acceptance 1: document 002's workflow and execution examples work as written (base URL and key
aside): the create body, the list shape, the execute answer, the execution's status and cancel, and
the TypeScript, Python and cURL snippets run by node, a Python interpreter and the curl binary
against the live server."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import sys
from datetime import datetime
from typing import Any

from tests.conftest import Tenant
from tests.connectors.fakes.base import serving
from tests.connectors.fakes.customer import CustomerApi
from tests.workflows.helpers import create_workflow, execute, settled

# ------------------------------------------------------------------------ document 002, as written

DOC_CREATE_BODY: dict[str, Any] = {
    "name": "New Workflow",
    "description": "Optional description",
    "definition": {
        "steps": [
            {
                "name": "step1",
                "type": "http_request",
                "config": {
                    "method": "GET",
                    "url": "https://api.example.com/data"
                }
            }
        ]
    },
    "isPublic": False
}
DOC_EXECUTE_BODY = {"input": {"key": "value"}}
DOC_LIST_KEYS = {"id", "name", "description", "isPublic", "createdAt", "updatedAt"}
DOC_EXECUTE_KEYS = {"executionId", "status", "startedAt"}
DOC_KEY = "sk_xxxxxxxxxxxxxxxxxxxxx"
DOC_BASE = "https://your-domain.com/api/v1"

TYPESCRIPT_SNIPPET = """\
const API_KEY = 'sk_xxxxxxxxxxxxxxxxxxxxx';
const BASE_URL = 'https://your-domain.com/api/v1';

async function executeWorkflow(workflowId: string, input: any) {
  const response = await fetch(`${BASE_URL}/workflows/${workflowId}/execute`, {
    method: 'POST',
    headers: {
      'Authorization': `Bearer ${API_KEY}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({ input }),
  });
  
  if (!response.ok) {
    throw new Error(`API error: ${response.statusText}`);
  }
  
  return response.json();
}
"""  # noqa: W293  (verbatim: the document's blank lines carry two spaces)

PYTHON_SNIPPET = """\
import requests

API_KEY = 'sk_xxxxxxxxxxxxxxxxxxxxx'
BASE_URL = 'https://your-domain.com/api/v1'

def execute_workflow(workflow_id, input_data):
    response = requests.post(
        f'{BASE_URL}/workflows/{workflow_id}/execute',
        headers={
            'Authorization': f'Bearer {API_KEY}',
            'Content-Type': 'application/json',
        },
        json={'input': input_data}
    )
    response.raise_for_status()
    return response.json()
"""

CURL_EXECUTE = """\
curl -X POST https://your-domain.com/api/v1/workflows/wf_123/execute \\
  -H "Authorization: Bearer sk_xxxxxxxxxxxxxxxxxxxxx" \\
  -H "Content-Type: application/json" \\
  -d '{"input": {"name": "John"}}'
"""
CURL_STATUS = """\
curl -X GET https://your-domain.com/api/v1/executions/exec_456 \\
  -H "Authorization: Bearer sk_xxxxxxxxxxxxxxxxxxxxx"
"""
CURL_LIST = """\
curl -X GET https://your-domain.com/api/v1/workflows \\
  -H "Authorization: Bearer sk_xxxxxxxxxxxxxxxxxxxxx" \\
  -H "Content-Type: application/json"
"""


# ---------------------------------------------------------------------------------------- helpers


def replaced(text: str, *pairs: tuple[str, str]) -> str:
    """`text` with each (old, new) replaced; every `old` must be there, so nothing else is edited."""
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text


def is_utc_timestamp(value: Any) -> bool:
    return isinstance(value, str) and value.endswith("Z") and datetime.fromisoformat(value).tzinfo is not None


async def run(*argv: str) -> tuple[int, str, str]:
    """A program run without blocking the event loop the test server lives in."""
    env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, env=env)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def curl(command: str, tenant: Tenant, *pairs: tuple[str, str]) -> Any:
    """One of the document's curl commands, with the live base URL and key, run by the curl binary."""
    text = replaced(command, (DOC_BASE, f"{tenant.base_url}/api/v1"), (DOC_KEY, tenant.key), *pairs)
    argv = shlex.split(text.replace("\\\n", " "))
    assert argv[0] == "curl"
    code, out, err = await run(*argv)
    assert code == 0, err
    return json.loads(out)


async def echo_workflow(c: Any, api: CustomerApi) -> dict[str, Any]:
    """The document's one-step workflow, its URL pointed at the local echo, sending the input's name."""
    step = DOC_CREATE_BODY["definition"]["steps"][0]
    config = {**step["config"], "method": "POST", "url": f"{api.base_url}/echo", "body": {"who": "{{ input.name }}"}}
    return await create_workflow(c, [{**step, "config": config}])


def sent(api: CustomerApi, execution_id: str) -> list[Any]:
    """The bodies the echo received from one execution (its idempotency key names it)."""
    return [seen.json for seen in api.requests if seen.headers["Idempotency-Key"].startswith(f"{execution_id}:")]


# ------------------------------------------------------------------------------------------ tests


async def test_document_create_body_as_written_and_list_shape(tenant: Tenant) -> None:
    async with tenant.client() as c:
        created = await c.post("/api/v1/workflows", json=DOC_CREATE_BODY)
        listed = await c.get("/api/v1/workflows")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"].startswith("wf_") and body["version"] == 1
    assert (body["name"], body["description"], body["isPublic"]) == ("New Workflow", "Optional description", False)
    step = body["definition"]["steps"][0]
    assert (step["name"], step["type"]) == ("step1", "http_request")
    assert step["config"]["method"] == "GET" and step["config"]["url"] == "https://api.example.com/data"
    assert listed.status_code == 200 and isinstance(listed.json(), list) and len(listed.json()) == 1
    item = listed.json()[0]
    assert item.keys() >= DOC_LIST_KEYS, item
    assert {k: item[k] for k in ("id", "name", "description", "isPublic")} == {
        "id": body["id"], "name": "New Workflow", "description": "Optional description", "isPublic": False}
    assert is_utc_timestamp(item["createdAt"]) and is_utc_timestamp(item["updatedAt"])


async def test_document_execute_body_and_execution_status(tenant: Tenant) -> None:
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        step = DOC_CREATE_BODY["definition"]["steps"][0]
        local = {**DOC_CREATE_BODY, "definition": {"steps": [
            {**step, "config": {**step["config"], "url": f"{api.base_url}/echo"}}]}}
        workflow = (await c.post("/api/v1/workflows", json=local)).json()
        started = await c.post(f"/api/v1/workflows/{workflow['id']}/execute", json=DOC_EXECUTE_BODY)
        assert started.status_code == 202, started.text
        answer = started.json()
        execution = await settled(c, answer["executionId"])
    assert answer.keys() == DOC_EXECUTE_KEYS and answer["status"] == "pending"
    assert answer["executionId"].startswith("exec_") and is_utc_timestamp(answer["startedAt"])
    assert execution["id"] == answer["executionId"] and execution["startedAt"] == answer["startedAt"]
    assert execution["status"] == "completed" and execution["error"] is None
    assert execution["input"] == {"key": "value"} and execution["workflowId"] == workflow["id"]
    assert [(s["name"], s["status"], s["attempts"]) for s in execution["steps"]] == [("step1", "completed", 1)]
    assert execution["output"]["status"] == 200 and execution["output"]["body"]["method"] == "GET"
    assert [(seen.method, seen.path) for seen in api.requests] == [("GET", "/echo")]


async def test_document_cancel_body(tenant: Tenant) -> None:
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        workflow = await create_workflow(c, [
            {"name": "wait", "type": "delay", "config": {"seconds": 60}},
            {"name": "call", "type": "http_request", "config": {"url": f"{api.base_url}/echo"}}])
        execution_id = await execute(c, workflow["id"])
        await settled(c, execution_id, statuses=("waiting",))
        cancelled = await c.post(f"/api/v1/executions/{execution_id}", json={"action": "cancel"})
        again = await c.post(f"/api/v1/executions/{execution_id}", json={"action": "cancel"})
        status = await c.get(f"/api/v1/executions/{execution_id}")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["finishedAt"]
    assert [(s["name"], s["status"]) for s in cancelled.json()["steps"]] == [("wait", "cancelled")]
    assert again.status_code == 409 and again.json()["error"] == "CONFLICT"
    assert status.json()["status"] == "cancelled"
    assert api.requests == []


async def test_document_python_snippet(tenant: Tenant) -> None:
    code = replaced(PYTHON_SNIPPET, (DOC_KEY, tenant.key), (DOC_BASE, f"{tenant.base_url}/api/v1"))
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        workflow = await echo_workflow(c, api)
        script = code + "\nimport json, sys\nprint(json.dumps(execute_workflow(sys.argv[1], {'name': 'John'})))\n"
        rc, out, err = await run(sys.executable, "-c", script, workflow["id"])
        assert rc == 0, err
        answer = json.loads(out)
        execution = await settled(c, answer["executionId"])
        missing = script.replace("execute_workflow(sys.argv[1]", "execute_workflow('wf_missing'")
        rc_missing, _, err_missing = await run(sys.executable, "-c", missing)
    assert answer.keys() == DOC_EXECUTE_KEYS and answer["status"] == "pending"
    assert is_utc_timestamp(answer["startedAt"])
    assert execution["status"] == "completed" and execution["input"] == {"name": "John"}
    assert sent(api, answer["executionId"]) == [{"who": "John"}]
    assert rc_missing != 0 and "requests.exceptions.HTTPError: 404" in err_missing  # raise_for_status


async def test_document_typescript_snippet_as_javascript(tenant: Tenant) -> None:
    javascript = replaced(
        TYPESCRIPT_SNIPPET, ("(workflowId: string, input: any)", "(workflowId, input)"),  # the annotations only
        (DOC_KEY, tenant.key), (DOC_BASE, f"{tenant.base_url}/api/v1"))
    call = ("\nexecuteWorkflow(process.argv[1], { name: 'John' })"
            ".then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e.message); process.exit(3); });\n")
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        workflow = await echo_workflow(c, api)
        rc, out, err = await run("node", "-e", javascript + call, workflow["id"])
        assert rc == 0, err
        answer = json.loads(out)
        execution = await settled(c, answer["executionId"])
        rc_missing, _, err_missing = await run("node", "-e", javascript + call, "wf_missing")
    assert answer.keys() == DOC_EXECUTE_KEYS and answer["status"] == "pending"
    assert is_utc_timestamp(answer["startedAt"])
    assert execution["status"] == "completed" and execution["input"] == {"name": "John"}
    assert sent(api, answer["executionId"]) == [{"who": "John"}]
    assert rc_missing == 3 and "API error: Not Found" in err_missing


async def test_document_curl_commands(tenant: Tenant) -> None:
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        workflow = await echo_workflow(c, api)
        listed = await curl(CURL_LIST, tenant)
        answer = await curl(CURL_EXECUTE, tenant, ("wf_123", workflow["id"]))
        await settled(c, answer["executionId"])
        status = await curl(CURL_STATUS, tenant, ("exec_456", answer["executionId"]))
    assert [item["id"] for item in listed] == [workflow["id"]] and listed[0].keys() >= DOC_LIST_KEYS
    assert answer.keys() == DOC_EXECUTE_KEYS and answer["status"] == "pending"
    assert status["id"] == answer["executionId"] and status["status"] == "completed"
    assert status["input"] == {"name": "John"} and status["steps"][0]["status"] == "completed"
    assert status["output"]["body"]["method"] == "POST"
    assert sent(api, answer["executionId"]) == [{"who": "John"}]
