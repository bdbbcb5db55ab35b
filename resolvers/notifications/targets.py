"""A policy's `notify`: which connectors to tell, validated when the policy is written.

Each entry is a connector id, or `{"connector": id, "action": name, "input": {...}}`. The connector
must be one of this organization's slack, smtp, discord or custom_api connectors; `action` defaults
to send_message (slack, discord) or send_email (smtp), and a custom_api connector with several
endpoints must name one. `input` is merged over the generated message (e.g. `{"to": [...]}` for
email, `{"channel": "C..."}` for Slack); a sample message must pass the action's input schema.
"""

from __future__ import annotations

from typing import Any, Final

from models.connectors import Connector
from resolvers.connectors import schemas
from resolvers.connectors.catalogue import kind_of
from resolvers.connectors.providers import smtp
from resolvers.context import Context
from resolvers.errors import Invalid
from resolvers.lookup import held_for_reference
from resolvers.notifications.messages import DEFAULT_ACTIONS, NOTIFY_TYPES, SAMPLE_EVENT, input_for

MAX_TARGETS: Final = 10
ENTRY_FIELDS: Final = frozenset({"connector", "action", "input"})


async def checked_notify(ctx: Context, raw: Any) -> list[dict[str, Any]]:
    """`notify` in stored form, or Invalid naming the entry (`notify[1].connector: ...`)."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_TARGETS:
        raise Invalid(f"notify: must be a list of at most {MAX_TARGETS} connector ids or entries")
    entries = [_entry(item, f"notify[{i}]") for i, item in enumerate(raw)]
    ids = {e["connector"] for e in entries}
    found = {c.id: c for c in await Connector.filter(organization_id=ctx.organization_id, id__in=list(ids))}
    return [_resolved(entry, found.get(entry["connector"]), f"notify[{i}]") for i, entry in enumerate(entries)]


async def hold_notified(ctx: Context, notify: list[dict[str, Any]], conn: Any) -> None:
    """Hold the connectors an active policy's checked `notify` names for the saving transaction
    (lookup.held_for_reference) and refuse one deleted, or updated to drop the entry's action, since
    `checked_notify` saw it: connectors.delete and connectors.update refuse while an active policy
    notifies the connector (with that action), under a FOR UPDATE lock this waits for (or makes wait),
    so a save racing either never leaves an active policy notifying what is gone."""
    present = await held_for_reference(Connector, ctx, {entry["connector"] for entry in notify}, conn)
    for i, entry in enumerate(notify):
        held = present.get(entry["connector"])  # as a connector update left it
        if held is None:
            raise Invalid(f"notify[{i}].connector: {entry['connector']} is not a {', '.join(NOTIFY_TYPES)} "
                          "connector of this organization")
        actions = kind_of(held.type).actions_of(held.config)
        if entry["action"] not in actions:
            raise Invalid(f"notify[{i}].action: must be one of {', '.join(actions)}")


def _entry(item: Any, path: str) -> dict[str, Any]:
    if isinstance(item, str):
        item = {"connector": item}
    if not isinstance(item, dict) or set(item) - ENTRY_FIELDS:
        raise Invalid(f"{path}: must be a connector id or an object with connector, action and input")
    connector, action, given = item.get("connector"), item.get("action"), item.get("input", {})
    if not isinstance(connector, str) or not connector or len(connector) > 32:
        raise Invalid(f"{path}.connector: must be a connector id (conn_...)")
    if action is not None and (not isinstance(action, str) or not 0 < len(action) <= 64):
        raise Invalid(f"{path}.action: must be an action name")
    if not isinstance(given, dict):
        raise Invalid(f"{path}.input: must be an object")
    return {"connector": connector, "action": action, "input": given}


def _resolved(entry: dict[str, Any], connector: Connector | None, path: str) -> dict[str, Any]:
    if connector is None or connector.type not in NOTIFY_TYPES:
        raise Invalid(f"{path}.connector: {entry['connector']} is not a {', '.join(NOTIFY_TYPES)} connector of "
                      "this organization")
    actions = kind_of(connector.type).actions_of(connector.config)
    action = entry["action"] or DEFAULT_ACTIONS.get(connector.type) or (next(iter(actions)) if len(actions) == 1
                                                                          else None)
    if action is None or action not in actions:
        raise Invalid(f"{path}.action: must be one of {', '.join(actions)}")
    sample = input_for(connector.type, action, entry["input"], "action.pending_approval", SAMPLE_EVENT)
    schemas.check(actions[action].input_schema, sample, f"{path}.input")
    _check_destination(connector, action, sample, path)
    _check_email(connector, action, sample, path)
    return {"connector": connector.id, "action": action, "input": entry["input"]}


def _check_destination(connector: Connector, action: str, sample: dict[str, Any], path: str) -> None:
    """Slack and Discord messages need a channel: from `input` or the connector's default."""
    if connector.type == "slack" and not (sample.get("channel") or connector.config.get("defaultChannel")):
        raise Invalid(f"{path}.input.channel: required when the connector has no config.defaultChannel")
    if connector.type == "discord" and action == "send_message" and not (
        sample.get("channel_id") or connector.config.get("defaultChannelId")
    ):
        raise Invalid(f"{path}.input.channel_id: required when the connector has no config.defaultChannelId")


def _check_email(connector: Connector, action: str, sample: dict[str, Any], path: str) -> None:
    """An email's addresses, subject and headers as every send will check them: one that can never
    go in a header (a line break, U+2028, ...) would fail every notice of the policy."""
    if connector.type != "smtp" or action != "send_email":
        return
    try:
        smtp.check_input(sample)
    except Invalid as refused:
        raise Invalid(f"{path}.input.{refused.message}") from None
