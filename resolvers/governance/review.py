"""Review of a pending action: who may decide it, how many approvals it still needs, edits.

The action row carries its ``review`` (the combined rule keys, see engine.Review, plus ``eligible``:
the keys resolved when it started waiting, or None for "any key with approvals:write") and its
``votes`` (one per distinct approving key). An action without a review is decided by one approval
from any approving key, exactly as before reviews existed.
"""

from __future__ import annotations

from typing import Any

import orjson

from app.core.clock import isoformat_z, utcnow
from models.governance import Action
from resolvers.errors import Forbidden, Invalid
from resolvers.validation import unstorable


def needed(action: Action) -> int:
    review = action.review or {}
    return int(review.get("approvals") or 1) if review.get("quorum") else 1


def voters(action: Action) -> list[str]:
    return [vote["keyId"] for vote in action.votes or []]


def remaining(action: Action) -> int:
    return max(0, needed(action) - len(action.votes or []))


def waiting_for(action: Action) -> list[str] | None:
    """Keys whose approval would still count; None when any approving key (but the proposer's) would."""
    review = action.review or {}
    eligible = review.get("eligible")
    if eligible is None:
        return None
    excluded = set(voters(action)) | ({action.proposed_by} if review.get("quorum") else set())
    return [key for key in eligible if key not in excluded]


def barred(action: Action, key_id: str | None) -> str | None:
    """Why this key may not approve or reject the action under its rule; None when it may (its
    scopes aside). Reads show it to the key reading, so a console need not repeat the rule."""
    review = action.review or {}
    if review.get("quorum") and key_id is not None and key_id == action.proposed_by:
        return ("the key that proposed this action cannot decide it: its rule sets approvals or "
                "approvers (separation of duties)")
    eligible = review.get("eligible")
    if eligible is not None and key_id not in eligible:
        group = " (escalated to its escalateTo group)" if action.escalated_at else ""
        return f"key {key_id} is not among the approvers of this action{group}"
    return None


def check_may_decide(action: Action, key_id: str | None) -> None:
    """Forbidden, saying why, when this key may not approve or reject the action."""
    reason = barred(action, key_id)
    if reason is not None:
        raise Forbidden(reason)


def same_params(action: Action, params: Any) -> bool:
    """Whether `params` are the action's current ones, as JSON (`true` is not `1`): an approval
    that sends them back approves, it does not edit (an edit drops the approvals counted before)."""
    try:
        return bool(orjson.dumps(params, option=orjson.OPT_SORT_KEYS)
                    == orjson.dumps(action.params, option=orjson.OPT_SORT_KEYS))
    except TypeError:  # not writable as JSON: check_edit says why
        return False


def check_edit(action: Action, params: Any) -> dict[str, Any]:
    """The edited params, if the rule allows editing and they can be stored."""
    if not (action.review or {}).get("allowEdit"):
        raise Forbidden("the rule does not allow editing this action's params (allowEdit is not true)")
    if not isinstance(params, dict):
        raise Invalid("params: must be an object")
    if problem := unstorable(params):
        raise Invalid(f"params: {problem}")
    return params


def apply_edit(action: Action, params: dict[str, Any]) -> dict[str, Any]:
    """Make `params` the effective ones; approvals given to the previous params no longer count.
    Returns the history detail recording what they were."""
    previous, dropped = action.params, voters(action)
    if action.original_params is None:
        action.original_params = previous
    action.params, action.votes = params, []
    detail: dict[str, Any] = {"edited": True, "previousParams": previous}
    return detail | ({"approvalsDropped": dropped} if dropped else {})


def record_vote(action: Action, key_id: str | None, comment: str | None, approver: str | None) -> bool:
    """Count this key's approval; False when it had already approved (counted once)."""
    if key_id is not None and key_id in voters(action):
        return False
    vote = {"keyId": key_id, "comment": comment, "approver": approver, "at": isoformat_z(utcnow())}
    action.votes = [*(action.votes or []), vote]
    return True


def summary(action: Action) -> dict[str, Any] | None:
    """What reads show: approvals required, received and still needed, and from whom."""
    review = action.review
    if review is None:
        return None
    left, waiting = remaining(action) if action.status == "pending_approval" else 0, waiting_for(action)
    return {
        "approvalsRequired": needed(action), "approvalsReceived": len(action.votes or []),
        "approvalsRemaining": left, "quorumReachable": waiting is None or len(waiting) >= left,
        "approvedBy": [dict(vote) for vote in action.votes or []],
        "approvers": review.get("eligible"), "waitingFor": waiting,
        "proposerMayApprove": not review.get("quorum"),
        "allowEdit": bool(review.get("allowEdit")), "onExpire": review.get("onExpire", "expire"),
        "escalateTo": review.get("escalateTo"), "escalatedAt": isoformat_z(action.escalated_at),
    }
