"""Who still names a connector or a credential: deleting one a workflow step or a policy's `notify`
calls would only fail their next runs ("connector ... not found"), so the delete is refused first,
as a credential a connector uses already was."""

from __future__ import annotations

from typing import Any

from models.governance import Policy
from models.workflows import Workflow


def _calls(step: Any, connector_id: str | None, credential_id: str | None) -> bool:
    if not isinstance(step, dict) or not isinstance(step.get("config"), dict):
        return False
    config = step["config"]
    if step.get("type") == "connector":
        return connector_id is not None and config.get("connectorId") == connector_id
    if step.get("type") == "http_request":
        return credential_id is not None and config.get("credentialId") == credential_id
    return False


async def workflow_calling(organization_id: str, *, connector_id: str | None = None,
                           credential_id: str | None = None) -> Workflow | None:
    """A workflow (not deleted) whose current definition has a step calling the connector, or an
    http_request step sending the credential."""
    workflows = Workflow.filter(organization_id=organization_id, deleted_at__isnull=True).order_by("created_at")
    for workflow in await workflows:
        if any(_calls(step, connector_id, credential_id) for step in (workflow.definition or {}).get("steps") or []):
            return workflow
    return None


async def step_calling_action(organization_id: str, connector_id: str,
                              actions: set[str]) -> tuple[Workflow, int, str, str] | None:
    """A workflow (not deleted) with a step calling one of the connector's `actions`: the workflow,
    the step's index and name, and the action."""
    workflows = Workflow.filter(organization_id=organization_id, deleted_at__isnull=True).order_by("created_at")
    for workflow in await workflows:
        for index, step in enumerate((workflow.definition or {}).get("steps") or []):
            if _calls(step, connector_id, None) and step["config"].get("action") in actions:
                return workflow, index, str(step.get("name")), str(step["config"]["action"])
    return None


async def policy_notifying(organization_id: str, connector_id: str,
                           actions: set[str] | None = None) -> Policy | None:
    """An active policy whose `notify` names the connector (with one of `actions`, when given)."""
    for policy in await Policy.filter(organization_id=organization_id, status="active").order_by("created_at"):
        if any(isinstance(entry, dict) and entry.get("connector") == connector_id
               and (actions is None or entry.get("action") in actions) for entry in policy.notify or []):
            return policy
    return None
