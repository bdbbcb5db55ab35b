"""REST: evidence for a pending action, in the document's path style and the public SDK's."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.core.clock import isoformat_z
from app.rest.actions import decision_of
from app.rest.routing import RestCall, endpoint
from models.governance import EvidenceCheck
from resolvers.governance import evidence
from resolvers.governance.actions import approval_id_of
from resolvers.governance.inputs import EvidenceIn

TAGS = ["evidence"]


class SdkEvidenceIn(EvidenceIn):
    """The SDK's ``POST /evidence`` names the action in the body."""

    actionId: str = Field(min_length=1, max_length=64)


def serialise_result(result: evidence.EvidenceResult) -> dict[str, Any]:
    action = result.action
    return {
        "actionId": action.id,
        "status": action.status,
        "decision": decision_of(action),
        "approvalId": approval_id_of(action),
        "readyForApproval": result.ready_for_approval,
    }


def serialise_check(row: EvidenceCheck) -> dict[str, Any]:
    return {"name": row.name, "pass": row.passed, "note": row.note, "meta": row.meta,
            "submittedAt": isoformat_z(row.created_at)}


@endpoint("POST", "/actions/{actionId}/evidence", summary="Submit evidence", tags=TAGS, body=EvidenceIn,
          scopes=("actions:write",), also_at_root=True)
async def submit_evidence(call: RestCall) -> dict[str, Any]:
    return serialise_result(await evidence.submit(call.ctx, call.path["actionId"], call.body))


@endpoint("POST", "/evidence", summary="Submit evidence (SDK style)", tags=TAGS, body=SdkEvidenceIn,
          scopes=("actions:write",), also_at_root=True)
async def submit_evidence_sdk(call: RestCall) -> dict[str, Any]:
    body: SdkEvidenceIn = call.body
    return serialise_result(await evidence.submit(call.ctx, body.actionId, body))


@endpoint("GET", "/evidence/{actionId}", summary="Evidence submitted for an action", tags=TAGS,
          also_at_root=True)
async def get_evidence(call: RestCall) -> dict[str, Any]:
    action, rows = await evidence.list_evidence(call.ctx, call.path["actionId"])
    return {"actionId": action.id, "status": action.status, "decision": decision_of(action),
            "checks": [serialise_check(row) for row in rows]}
