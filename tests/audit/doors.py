"""Every kind of change an organization can make, through either door; each returns the changed
resource's id so the test can expect exactly one audit entry per (type, resource)."""

from __future__ import annotations

from typing import Any

from tests.parity.doors import Door

PLANTED = "xoxb-PLANTED-audit-secret-5e7d1"  # a credential's data: must appear in no audit entry
RULE = {"when": {"actionType": "needs_review"}, "require": ["review"]}
STEPS = [{"name": "wait", "type": "delay", "config": {"seconds": 30}}]


class AuditDoor(Door):
    """`op(name, rest=(method, path, body), gql=(query, variables))` picks one side by `kind`."""

    async def _call(self, rest: tuple[str, str, Any], gql: tuple[str, dict[str, Any]]) -> Any:
        out = await (self._rest(*rest) if self.kind == "rest" else self._gql(*gql))
        assert not (isinstance(out, dict) and set(out) == {"error"}), out
        return out

    async def policy(self) -> str:
        out = await self._call(("POST", "/api/v1/policy", {"name": f"p-{self.kind}", "rules": [RULE]}),
                               ("mutation($i: CreatePolicyInput!) { createPolicy(input: $i) { id } }",
                                {"i": {"name": f"p-{self.kind}", "rules": [RULE]}}))
        return str(out["id"])

    async def update_policy(self, policy_id: str) -> None:
        await self._call(("PUT", f"/api/v1/policy/{policy_id}", {"description": "changed"}),
                         ("mutation($id: ID!) { updatePolicy(id: $id, input: {description: \"changed\"}) { id } }",
                          {"id": policy_id}))

    async def archive_policy(self, policy_id: str) -> None:
        await self._call(("DELETE", f"/api/v1/policy/{policy_id}", None),
                         ("mutation($id: ID!) { archivePolicy(id: $id) { id } }", {"id": policy_id}))

    async def propose(self, action_type: str) -> tuple[str, str | None]:
        body = {"type": action_type, "actor": {"kind": "agent", "name": "bot"}}
        if self.kind == "rest":
            out = await self._call(("POST", "/api/v1/actions", body), ("", {}))
            return out["actionId"], None
        out = await self._call(("", "", None), ("mutation($i: ProposeActionInput!) { proposeAction(input: $i) { "
                                                "action { id approvalId } } }", {"i": body}))
        return out["action"]["id"], out["action"]["approvalId"]

    async def evidence(self, action_id: str) -> None:
        await self._call(("POST", f"/api/v1/actions/{action_id}/evidence", {"checks": [{"name": "review",
                                                                                       "pass": True}]}),
                         ("mutation($id: ID!) { submitEvidence(actionId: $id, checks: [{name: \"review\", "
                          "pass: true}]) { __typename } }", {"id": action_id}))

    async def approve(self, action_id: str, approval_id: str | None) -> None:
        await self._call(("POST", f"/api/v1/actions/{action_id}/approve", {}),
                         ("mutation($id: ID!) { approveAction(approvalId: $id) { id } }", {"id": approval_id}))

    async def reject(self, action_id: str, approval_id: str | None) -> None:
        await self._call(("POST", f"/api/v1/actions/{action_id}/reject", {"reason": "no"}),
                         ("mutation($id: ID!) { rejectAction(approvalId: $id, reason: \"no\") { id } }",
                          {"id": approval_id}))

    async def cancel(self, action_id: str) -> None:
        await self._call(("POST", f"/api/v1/actions/{action_id}/cancel", {}),
                         ("mutation($id: ID!) { cancelAction(actionId: $id) { id } }", {"id": action_id}))

    async def consume(self, action_id: str) -> None:
        await self._call(("POST", f"/api/v1/actions/{action_id}/consume", {"params": {}}),
                         ("mutation($id: ID!) { consumeGrant(actionId: $id, params: {}) { id } }", {"id": action_id}))

    async def api_key(self) -> str:
        body = {"name": f"k-{self.kind}", "scopes": ["actions:read"]}
        out = await self._call(("POST", "/api/v1/api-keys", body),
                               ("mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } } }",
                                {"i": body}))
        return str(out["id"] if self.kind == "rest" else out["apiKey"]["id"])

    async def revoke_key(self, key_id: str) -> None:
        await self._call(("DELETE", f"/api/v1/api-keys/{key_id}", None),
                         ("mutation($id: ID!) { revokeApiKey(id: $id) { id } }", {"id": key_id}))

    async def crud(self, noun: str, path: str, create: dict[str, Any], change: dict[str, Any],
                   verb: str = "PUT", delete: str = "delete") -> str:
        """Create, change and delete one resource; returns its id."""
        title = noun[0].upper() + noun[1:]
        made = await self._call(("POST", path, create), (f"mutation($i: {_input_of(noun)}!) {{ {_create_of(noun)}"
                                                          f"(input: $i) {{ {_id_of(noun)} }} }}", {"i": create}))
        made_id = str(made["id"] if "id" in made else made["webhook"]["id"])
        await self._call((verb, f"{path}/{made_id}", change),
                         (f"mutation($id: ID!, $i: {_update_input_of(noun)}!) {{ update{title}(id: $id, input: $i) "
                          "{ id } }", {"id": made_id, "i": change}))
        await self._call(("DELETE", f"{path}/{made_id}", None),
                         (f"mutation($id: ID!) {{ {delete}{title}(id: $id) {{ id }} }}", {"id": made_id}))
        return made_id

    async def webhook_extras(self) -> str:
        """A webhook created, disabled by hand, re-enabled and its secret rotated (not deleted)."""
        body = {"name": "hook", "url": "http://127.0.0.1:9/hook", "events": ["webhook.*"]}
        made = await self._call(("POST", "/api/v1/webhooks", body),
                                ("mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { id } } }",
                                 {"i": body}))
        hook = str(made["id"] if self.kind == "rest" else made["webhook"]["id"])
        await self._call(("PUT", f"/api/v1/webhooks/{hook}", {"active": False}),
                         ("mutation($id: ID!) { updateWebhook(id: $id, input: {active: false}) { id } }",
                          {"id": hook}))
        await self._call(("POST", f"/api/v1/webhooks/{hook}/enable", None),
                         ("mutation($id: ID!) { enableWebhook(id: $id) { id } }", {"id": hook}))
        await self._call(("POST", f"/api/v1/webhooks/{hook}/rotate-secret", None),
                         ("mutation($id: ID!) { rotateWebhookSecret(id: $id) { webhook { id } } }", {"id": hook}))
        return hook

    async def workflow_run(self) -> tuple[str, str, str]:
        """A workflow executed; the execution cancelled, then retried: (workflow, execution, retry)."""
        body = {"name": f"wf-{self.kind}", "definition": {"steps": STEPS}}
        workflow = str((await self._call(("POST", "/api/v1/workflows", body), (
            "mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }", {"i": body})))["id"])
        started = await self._call(("POST", f"/api/v1/workflows/{workflow}/execute", {}),
                                   ("mutation($id: ID!) { executeWorkflow(id: $id) { id } }", {"id": workflow}))
        execution = str(started.get("executionId") or started.get("id"))
        await self._call(("POST", f"/api/v1/executions/{execution}", {"action": "cancel"}),
                         ("mutation($id: ID!) { cancelExecution(id: $id) { id } }", {"id": execution}))
        retried = await self._call(("POST", f"/api/v1/executions/{execution}", {"action": "retry"}),
                                   ("mutation($id: ID!) { retryExecution(id: $id) { id } }", {"id": execution}))
        return workflow, execution, str(retried["id"])


_GQL = {
    "agent": ("RegisterAgentInput", "registerAgent", "UpdateAgentInput"),
    "webhook": ("CreateWebhookInput", "createWebhook", "UpdateWebhookInput"),
    "credential": ("CreateCredentialInput", "createCredential", "UpdateCredentialInput"),
    "connector": ("CreateConnectorInput", "createConnector", "UpdateConnectorInput"),
    "workflow": ("CreateWorkflowInput", "createWorkflow", "UpdateWorkflowInput"),
    "mcpServer": ("McpServerInput", "createMcpServer", "McpServerInput"),
    "reviewerGroup": ("CreateReviewerGroupInput", "createReviewerGroup", "UpdateReviewerGroupInput"),
}


def _input_of(noun: str) -> str:
    return _GQL[noun][0]


def _create_of(noun: str) -> str:
    return _GQL[noun][1]


def _update_input_of(noun: str) -> str:
    return _GQL[noun][2]


def _id_of(noun: str) -> str:
    return "webhook { id }" if noun == "webhook" else "id"
