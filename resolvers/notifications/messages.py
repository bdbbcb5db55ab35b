"""What a notice says, per connector type: pure functions from an action event to connector input.

The text names the action, who proposed it, its key params (the first few, each shortened) and the
approvalUrl; the policy's `input` for the connector (a channel, recipients, ...) is merged over it.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Final

import orjson

NOTIFIED_EVENTS: Final = frozenset({
    "action.pending_approval", "action.escalated", "action.approved", "action.rejected", "action.expired",
})
HEADLINES: Final = {
    "action.pending_approval": "waits for approval",
    "action.escalated": "was escalated and waits for approval",
    "action.approved": "was approved",
    "action.rejected": "was rejected",
    "action.expired": "expired undecided",
}
DEFAULT_ACTIONS: Final = {"slack": "send_message", "discord": "send_message", "smtp": "send_email"}
NOTIFY_TYPES: Final = ("slack", "smtp", "discord", "custom_api")
KEY_PARAMS: Final = 8
VALUE_CHARS: Final = 80


def key_params(params: Any) -> dict[str, str]:
    """The first KEY_PARAMS params, each value as short JSON text."""
    if not isinstance(params, dict):
        return {}
    shown: dict[str, str] = {}
    for name, value in list(params.items())[:KEY_PARAMS]:
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        shown[str(name)] = text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"
    return shown


def one_line(text: str) -> str:
    """`text` fit for a header such as an email subject: each control character (CR, LF, tab,
    NEL, ...) and each Unicode line or paragraph separator (U+2028, U+2029) becomes a space. An
    action's type is the proposer's text; a line break in it made every email notice fail."""
    return "".join(" " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char for char in text)


def text_of(event_type: str, data: dict[str, Any]) -> str:
    """Plain text that reads well in Slack, Discord and email alike."""
    target = f" on {data['target']}" if data.get("target") else ""
    actor = data.get("actor") or {}
    lines = [f"Gatehouse: {data.get('type')}{target} {HEADLINES.get(event_type, event_type)} ({data.get('actionId')})"]
    lines.append(f"Proposed by: {actor.get('kind', '?')}" + (f" {actor['name']}" if actor.get("name") else ""))
    params = key_params(data.get("params"))
    if params:
        lines.append("Params: " + ", ".join(f"{k}={v}" for k, v in params.items()))
    if data.get("reason"):
        lines.append(f"Reason: {data['reason']}")
    lines.append(f"Review: {data.get('approvalUrl')}")
    return "\n".join(lines)


def input_for(connector_type: str, action: str, extra: dict[str, Any], event_type: str,
              data: dict[str, Any]) -> dict[str, Any]:
    """The connector action's input for this event, with the policy's `input` merged over it."""
    text = text_of(event_type, data)
    if connector_type == "slack":
        return {"text": text, **extra}
    if connector_type == "discord":
        return {"content": text[:2000], **extra}
    if connector_type == "smtp":
        subject = one_line(f"[Gatehouse] {data.get('type')} {HEADLINES.get(event_type, event_type)}")
        return {"subject": subject[:200], "text": text, **extra}
    custom = {"event": event_type, "actionId": data.get("actionId"), "status": data.get("status"),
              "type": data.get("type"), "target": data.get("target"), "approvalUrl": data.get("approvalUrl"),
              "params": key_params(data.get("params")), "text": text, **(extra.get("custom") or {})}
    return {**extra, "content": {"id": str(data.get("actionId")), "content_type": "gatehouse.action"},
            "custom": custom}


SAMPLE_EVENT: Final = {
    "actionId": "act_sample", "type": "sample", "target": "sample", "actor": {"kind": "agent"},
    "params": {"a": 1}, "status": "pending_approval", "approvalUrl": "https://example.com/console/approve/act_sample",
}
