"""What a decided action means for the one who proposed it: the params to use and why.

One place reads them so that edit-then-approve (the approver may change the params) is picked up by
every door: when the action carries ``effective_params``/``edited``, they are used, else the
proposed params.
"""

from __future__ import annotations

from typing import Any

from models.governance import Action


def effective_params(action: Action) -> dict[str, Any]:
    """The params to act on: an approver's edit when there is one, else the proposed params."""
    edited = getattr(action, "effective_params", None)
    return dict(edited) if isinstance(edited, dict) else dict(action.params or {})


def was_edited(action: Action) -> bool:
    flag = getattr(action, "edited", None)
    return bool(flag) if flag is not None else effective_params(action) != dict(action.params or {})


def reason_of(action: Action) -> str | None:
    """Why it was rejected or cancelled (a rejection reason field, else the action's reason)."""
    return getattr(action, "rejection_reason", None) or action.reason
