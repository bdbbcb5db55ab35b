"""GraphQL types for reviewer groups and for how a pending action is reviewed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from app.core.clock import parse_timestamp
from models.reviewers import ReviewerGroup as GroupRow
from schema.node import Node


@strawberry.type(description="A named set of API keys that policy rules name as approvers or as `escalateTo`.")
class ReviewerGroup(Node):
    id: strawberry.ID = strawberry.field(description="The group's id (`grp_...`).")
    name: str = strawberry.field(description="Its name, unique in the organization; rules may name it so.")
    description: str | None = strawberry.field(description="What the group is for.")
    members: list[str] = strawberry.field(description="API key ids (`key_...`) of the organization.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @classmethod
    def from_row(cls, row: GroupRow) -> ReviewerGroup:
        return cls(id=strawberry.ID(row.id), name=row.name, description=row.description, members=list(row.members),
                   created_at=row.created_at, updated_at=row.updated_at)


@strawberry.type(description="One key's approval counted toward an action's quorum.")
class ApprovalVote:
    key_id: str | None = strawberry.field(description="The approving API key's id.")
    comment: str | None = strawberry.field(description="The comment it gave.")
    approver: str | None = strawberry.field(description="The approver's name, when the client gave one.")
    at: datetime = strawberry.field(description="When it approved.")


@strawberry.type(description="How a pending action is reviewed: approvals needed, from whom, and what happens "
                             "at its deadline. Null on actions whose rules set none of these keys.")
class Review:
    approvals_required: int = strawberry.field(description="Distinct approving keys needed.")
    approvals_received: int = strawberry.field(description="Approvals counted so far.")
    approvals_remaining: int = strawberry.field(description="Approvals still needed (0 once decided).")
    quorum_reachable: bool = strawberry.field(description="False when fewer keys may still approve than approvals "
                                                           "are needed (the proposer in the only group, say): it "
                                                           "waits for its deadline.")
    approved_by: list[ApprovalVote] = strawberry.field(description="The approvals counted, oldest first.")
    approvers: list[str] | None = strawberry.field(description="The keys that may decide (one revoked since it "
                                                               "started waiting is dropped); null: any key with "
                                                               "approvals:write (but the proposer's under a quorum).")
    waiting_for: list[str] | None = strawberry.field(description="Eligible keys that have not approved yet; null "
                                                                 "as for `approvers`.")
    proposer_may_approve: bool = strawberry.field(description="False when the rule sets approvals or approvers.")
    allow_edit: bool = strawberry.field(description="Whether an approver may approve with edited params.")
    on_expire: str = strawberry.field(description="What the deadline does: expire, reject, approve or escalate.")
    escalate_to: str | None = strawberry.field(description="The reviewer group it escalates to.")
    escalated_at: datetime | None = strawberry.field(description="When it escalated, if it did.")

    @classmethod
    def from_summary(cls, s: dict[str, Any]) -> Review:
        votes = [ApprovalVote(key_id=v.get("keyId"), comment=v.get("comment"), approver=v.get("approver"),
                              at=parse_timestamp(v["at"])) for v in s["approvedBy"]]
        return cls(approvals_required=s["approvalsRequired"], approvals_received=s["approvalsReceived"],
                   approvals_remaining=s["approvalsRemaining"], quorum_reachable=s["quorumReachable"],
                   approved_by=votes, approvers=s["approvers"],
                   waiting_for=s["waitingFor"], proposer_may_approve=s["proposerMayApprove"],
                   allow_edit=s["allowEdit"], on_expire=s["onExpire"], escalate_to=s["escalateTo"],
                   escalated_at=parse_timestamp(s["escalatedAt"]) if s["escalatedAt"] else None)


@strawberry.input(description="A new reviewer group.")
class CreateReviewerGroupInput:
    name: str = strawberry.field(description="Its name, unique in the organization.")
    description: str | None = strawberry.field(default=None, description="What it is for.")
    members: list[str] = strawberry.field(default_factory=list, description="API key ids of the organization.")


@strawberry.input(description="The fields of a reviewer group to replace; those left out keep their value.")
class UpdateReviewerGroupInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="A new name.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="A new description.")
    members: list[str] | None = strawberry.field(default=strawberry.UNSET, description="The new members, all of "
                                                                                      "them.")

    def to_wire(self) -> dict[str, Any]:
        fields = ("name", "description", "members")
        return {f: getattr(self, f) for f in fields if getattr(self, f) is not strawberry.UNSET}
