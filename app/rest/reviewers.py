"""REST: /api/v1/reviewer-groups, the named sets of keys that policy rules name as approvers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.core.clock import isoformat_z
from app.rest.lists import ListQuery, list_response
from app.rest.routing import RestCall, endpoint
from models.reviewers import ReviewerGroup
from resolvers.governance import reviewers
from resolvers.governance.reviewers import GroupIn, GroupPatch

TAGS = ["reviewer-groups"]


class ReviewerGroupOut(BaseModel):
    id: str
    name: str
    description: str | None
    members: list[str] = Field(description="API key ids (`key_...`) of this organization")
    createdAt: str
    updatedAt: str


def serialise_group(group: ReviewerGroup) -> dict[str, Any]:
    return {"id": group.id, "name": group.name, "description": group.description, "members": list(group.members),
            "createdAt": isoformat_z(group.created_at), "updatedAt": isoformat_z(group.updated_at)}


@endpoint("POST", "/reviewer-groups", summary="Create a reviewer group", tags=TAGS, body=GroupIn,
          scopes=("policies:write",), response=ReviewerGroupOut, status=201, errors=(409,))
async def create_group(call: RestCall) -> dict[str, Any]:
    return serialise_group(await reviewers.create(call.ctx, call.body))


@endpoint("GET", "/reviewer-groups", summary="List reviewer groups", tags=TAGS, query=ListQuery,
          scopes=("policies:read",), response=list[ReviewerGroupOut])
async def list_groups(call: RestCall) -> Any:
    page = await reviewers.list_groups(call.ctx, limit=call.query.limit, cursor=call.query.cursor)
    return list_response(call.request, page.items, page.next_cursor, serialise_group)


@endpoint("GET", "/reviewer-groups/{id}", summary="Get a reviewer group", tags=TAGS, response=ReviewerGroupOut)
async def get_group(call: RestCall) -> dict[str, Any]:
    return serialise_group(await reviewers.get(call.ctx, call.path["id"]))


@endpoint("PUT", "/reviewer-groups/{id}", summary="Replace a group's name, description and/or members (409 when a "
          "rule naming it would need more keys)", tags=TAGS, body=GroupPatch,
          scopes=("policies:write",), response=ReviewerGroupOut, errors=(409,))
async def update_group(call: RestCall) -> dict[str, Any]:
    body: GroupPatch = call.body
    return serialise_group(await reviewers.update(call.ctx, call.path["id"], body.model_dump(exclude_unset=True)))


@endpoint("DELETE", "/reviewer-groups/{id}", summary="Delete a reviewer group no policy rule names (409 naming the "
          "policy otherwise)", tags=TAGS, response=ReviewerGroupOut, errors=(409,))
async def delete_group(call: RestCall) -> dict[str, Any]:
    return serialise_group(await reviewers.delete(call.ctx, call.path["id"]))
