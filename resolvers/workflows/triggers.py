"""Triggers: which committed events start a workflow, checked on save and matched by the relay."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from resolvers.connectors import schemas
from resolvers.errors import Invalid
from resolvers.events.outbox import CATALOGUE

GLOB = {"type": "string", "minLength": 1, "maxLength": 200}
TRIGGER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "event": GLOB,
        "actionType": {"anyOf": [GLOB, {"type": "array", "items": GLOB, "minItems": 1, "maxItems": 50}]},
    },
    "required": ["event"],
    "additionalProperties": False,
}


def check_trigger(trigger: Any) -> dict[str, Any] | None:
    """None (no trigger) or `{"event": name-or-glob, "actionType"?: glob-or-list}` matching the catalogue."""
    if trigger is None:
        return None
    schemas.check(TRIGGER_SCHEMA, trigger, "trigger")
    if not any(fnmatchcase(name, trigger["event"]) for name in CATALOGUE):
        raise Invalid(f"trigger.event: {trigger['event']!r} matches no event; known: {', '.join(CATALOGUE)}")
    return dict(trigger)


def matches(trigger: dict[str, Any], event_type: str, data: dict[str, Any]) -> bool:
    """Whether an event of `event_type` carrying `data` starts a workflow with this trigger."""
    if not fnmatchcase(event_type, trigger["event"]):
        return False
    wanted = trigger.get("actionType")
    if wanted is None:
        return True
    action_type = str(data.get("type", ""))
    globs = [wanted] if isinstance(wanted, str) else wanted
    return any(fnmatchcase(action_type, glob) for glob in globs)
