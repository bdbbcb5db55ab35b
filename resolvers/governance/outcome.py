"""What a decided action means for the one who proposed it: the params to use and why.

One place reads them for every door (REST, GraphQL, MCP and the MCP gateway): an approver's edit
replaces `params` (edit-then-approve; the proposal's stay in `original_params`), and a rejection or
cancellation carries its `reason`.
"""

from __future__ import annotations

from typing import Any

from models.governance import Action


def effective_params(action: Action) -> dict[str, Any]:
    """The params to act on: the approved ones, an approver's edit included."""
    return dict(action.params or {})


def was_edited(action: Action) -> bool:
    return action.original_params is not None


def reason_of(action: Action) -> str | None:
    """Why it was rejected or cancelled (the kill switch and onExpire: reject give one too)."""
    return action.reason
