"""REST: policies at /policy (singular, as document 001 writes it) and under /api/v1, plus simulation."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from starlette.responses import Response

from app.core.clock import isoformat_z
from app.rest.lists import ListQuery, list_response
from app.rest.routing import RestCall, endpoint, json_response, read_json
from models.governance import Policy
from resolvers.governance import actions, policies
from resolvers.governance.engine import Decision
from resolvers.governance.inputs import PolicyIn, PolicyPatch

TAGS = ["policies"]


class PolicyListQuery(ListQuery):
    status: str | None = None
    actionType: str | None = Field(None, min_length=1, max_length=200)


def serialise_policy(policy: Policy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "name": policy.name,
        "description": policy.description,
        "mode": policy.mode,
        "status": policy.status,
        "rules": policy.rules,
        "notify": policy.notify or [],
        "version": policy.version,
        "createdAt": isoformat_z(policy.created_at),
        "updatedAt": isoformat_z(policy.updated_at),
    }


def serialise_decision(decision: Decision) -> dict[str, Any]:
    checks = [{"name": c.name, "status": c.status, "note": c.note} for c in decision.checks]
    return {
        "status": decision.status,
        "policyIds": list(decision.policy_ids),
        "decision": {"status": decision.status, "checks": checks},
        "approval": decision.approval,
        "expiresIn": decision.expires_in,
        "observed": [o._asdict() for o in decision.observed],
        "review": decision.review.to_json() if decision.review is not None else None,
    }


@endpoint("POST", "/policy", summary="Create a policy", tags=TAGS, body=PolicyIn,
          scopes=("policies:write",), status=201, also_at_root=True)
async def create_policy(call: RestCall) -> dict[str, Any]:
    return serialise_policy(await policies.create(call.ctx, call.body))


@endpoint("GET", "/policy", summary="List policies", tags=TAGS, query=PolicyListQuery,
          scopes=("policies:read",), also_at_root=True)
async def list_policies(call: RestCall) -> Response:
    q: PolicyListQuery = call.query
    if q.actionType is not None:
        rows = await policies.for_action_type(call.ctx, q.actionType, status=q.status)
        return json_response([serialise_policy(row) for row in rows], 200)
    page = await policies.list_policies(call.ctx, status=q.status, limit=q.limit, cursor=q.cursor)
    return list_response(call.request, page.items, page.next_cursor, serialise_policy)


@endpoint("GET", "/policy/{id}", summary="Get a policy", tags=TAGS, also_at_root=True)
async def get_policy(call: RestCall) -> dict[str, Any]:
    return serialise_policy(await policies.get(call.ctx, call.path["id"]))


@endpoint("PUT", "/policy/{id}", summary="Update a policy (the version goes up)", tags=TAGS, body=PolicyPatch,
          scopes=("policies:write",), also_at_root=True)
async def update_policy(call: RestCall) -> dict[str, Any]:
    return serialise_policy(await policies.update(call.ctx, call.path["id"], call.body))


@endpoint("DELETE", "/policy/{id}", summary="Archive a policy", tags=TAGS, also_at_root=True)
async def archive_policy(call: RestCall) -> dict[str, Any]:
    return serialise_policy(await policies.archive(call.ctx, call.path["id"]))


@endpoint("POST", "/policy/simulate", summary="The decision an action would get; nothing is stored",
          tags=TAGS, also_at_root=True, scopes=("policies:read",))
async def simulate_decision(call: RestCall) -> dict[str, Any]:
    return serialise_decision(await actions.simulate(call.ctx, await read_json(call.request)))
