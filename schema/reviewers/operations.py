"""Queries reviewerGroups, reviewerGroup; mutations create/update/deleteReviewerGroup (policies scopes)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.governance import reviewers
from schema.context import GraphQLContext
from schema.pagination import After, Connection, First
from schema.reviewers.types import CreateReviewerGroupInput, ReviewerGroup, UpdateReviewerGroupInput

I = Info[GraphQLContext, None]  # noqa: E741
GroupId = Annotated[strawberry.ID, strawberry.argument(description="The group's id (`grp_...`).")]


@strawberry.type
class ReviewerQueries:
    @strawberry.field(description="Reviewer groups, newest first (scope policies:read).")
    async def reviewer_groups(self, info: I, first: First = 50, after: After = None) -> Connection[ReviewerGroup]:
        page = await reviewers.list_groups(info.context.ctx, limit=first, cursor=after)
        return Connection.from_page(page, ReviewerGroup.from_row)

    @strawberry.field(description="One reviewer group (scope policies:read).")
    async def reviewer_group(self, info: I, id: GroupId) -> ReviewerGroup:
        return ReviewerGroup.from_row(await reviewers.get(info.context.ctx, str(id)))


@strawberry.type
class ReviewerMutations:
    @strawberry.mutation(description="Create a reviewer group; members must be keys of the organization "
                                     "(scope policies:write).")
    async def create_reviewer_group(
        self, info: I, input: Annotated[CreateReviewerGroupInput, strawberry.argument(description="The group.")]
    ) -> ReviewerGroup:
        body = {"name": input.name, "description": input.description, "members": input.members}
        return ReviewerGroup.from_row(await reviewers.create(info.context.ctx, body))

    @strawberry.mutation(description="Replace the given fields; CONFLICT when a rule naming the group would need "
                                     "more keys (scope policies:write).")
    async def update_reviewer_group(
        self, info: I, id: GroupId,
        input: Annotated[UpdateReviewerGroupInput, strawberry.argument(description="The fields to replace.")],
    ) -> ReviewerGroup:
        return ReviewerGroup.from_row(await reviewers.update(info.context.ctx, str(id), input.to_wire()))

    @strawberry.mutation(description="Delete a group no policy rule names; CONFLICT naming the policy otherwise "
                                     "(scope policies:write).")
    async def delete_reviewer_group(self, info: I, id: GroupId) -> ReviewerGroup:
        return ReviewerGroup.from_row(await reviewers.delete(info.context.ctx, str(id)))
