"""Slack: post, edit and react to messages through the Web API with a bot token (`xoxb-...`).

Each action is one POST of a JSON body to `{slack_api_url}/<method>`. Slack answers HTTP 200 with
`{"ok": false, "error": "<code>"}` when it refuses; that is a permanent failure carrying the code,
except the codes that mean "try again later" (`ratelimited`, `internal_error`, ...). A non-2xx
answer (429 with `Retry-After`, 5xx) fails the way every provider's does (transport.fail_unless_ok).
"""

from __future__ import annotations

from typing import Any

from resolvers.connectors.failures import ProviderFailure
from resolvers.connectors.kinds import Action, ActionCall, ConnectorKind, schema
from resolvers.connectors.transport import Answer, fail_unless_ok, send
from resolvers.credentials.requirements import sendable_secret
from resolvers.errors import Invalid

# Slack's `ok: false` codes that say the request may succeed later; every other code is a refusal.
RETRYABLE_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                              "request_timeout"})

CHANNEL = {"type": "string", "minLength": 1, "maxLength": 255,
           "description": "a channel ID (C..., G..., D...) or name; defaults to the connector's config.defaultChannel"}
TS = {"type": "string", "pattern": r"^[0-9]{1,12}\.[0-9]{1,8}$",
      "description": "a message timestamp, e.g. 1733200000.000100"}
TEXT = {"type": "string", "maxLength": 40000,
        "description": "mrkdwn text; the notification fallback when blocks are given"}
BLOCKS = {"type": "array", "maxItems": 50, "items": {"type": "object"}, "description": "Block Kit blocks"}
TEXT_OR_BLOCKS = [{"required": ["text"]}, {"required": ["blocks"]}]
MESSAGE = {"type": "object", "properties": {"ts": {"type": "string"}, "text": {"type": "string"}},
           "additionalProperties": True, "description": "the message as Slack returns it"}

SEND_MESSAGE_INPUT = schema(
    {
        "channel": CHANNEL,
        "text": TEXT,
        "blocks": BLOCKS,
        "thread_ts": {**TS, "description": "reply in the thread of this message"},
        "unfurl_links": {"type": "boolean"},
        "mrkdwn": {"type": "boolean"},
    },
    anyOf=TEXT_OR_BLOCKS,
)
SEND_MESSAGE_OUTPUT = schema(
    {"ok": {"const": True}, "channel": {"type": "string"}, "ts": {"type": "string"}, "message": MESSAGE},
    ["ok", "channel", "ts", "message"],
)
UPDATE_MESSAGE_INPUT = schema({"channel": CHANNEL, "ts": TS, "text": TEXT, "blocks": BLOCKS}, ["ts"],
                              anyOf=TEXT_OR_BLOCKS)
UPDATE_MESSAGE_OUTPUT = schema(
    {"ok": {"const": True}, "channel": {"type": "string"}, "ts": {"type": "string"}, "text": {"type": "string"}},
    ["ok", "channel", "ts", "text"],
)
ADD_REACTION_INPUT = schema(
    {
        "channel": CHANNEL,
        "timestamp": {**TS, "description": "the ts of the message to react to"},
        "name": {"type": "string", "pattern": r"^[^:\s]{1,100}(::skin-tone-[2-6])?$",
                 "description": "emoji name without colons, e.g. thumbsup"},
    },
    ["timestamp", "name"],
)
ADD_REACTION_OUTPUT = schema({"ok": {"const": True}}, ["ok"])
CONFIG = schema({"defaultChannel": {**CHANNEL, "description": "channel used when an action names none"}})


def channel_of(call: ActionCall) -> str:
    """The input's channel, else the connector's default: Slack would refuse a message without one."""
    channel = call.input.get("channel") or call.config.get("defaultChannel")
    if not channel:
        raise Invalid("input.channel is required when the connector has no config.defaultChannel")
    return str(channel)


def given(source: dict[str, Any], *names: str) -> dict[str, Any]:
    """The named fields present in `source`: Slack treats an explicit null differently from absence."""
    return {name: source[name] for name in names if name in source}


def failure_of(method: str, answer: Answer, body: Any) -> ProviderFailure | None:
    """The failure an HTTP 200 answer means: `ok: false` (retryable only for Slack's transient codes)."""
    if not isinstance(body, dict):
        return ProviderFailure(f"slack {method}: unreadable answer: {answer.text(200)}", retryable=False,
                               status=answer.status)
    if body.get("ok") is True:
        return None
    error = str(body.get("error") or "unknown_error")
    retryable = error in RETRYABLE_ERRORS
    return ProviderFailure(f"slack {method}: {error}", retryable=retryable, status=answer.status,
                           retry_after=answer.retry_after if retryable else None)


async def call_slack(call: ActionCall, method: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST one Web API method with the bot token; Slack's answer when `ok`, else ProviderFailure."""
    token = sendable_secret(call.secrets, "bot_token", f"slack {method}")
    answer = await send(call, "POST", f"{call.settings.slack_api_url}/{method}", json=body, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=utf-8"})
    parsed = answer.json()
    error = parsed.get("error") if isinstance(parsed, dict) else None
    fail_unless_ok(answer, f"slack {method}: {error or answer.text()}")
    failure = failure_of(method, answer, parsed)
    if failure:
        raise failure
    return dict(parsed)


async def send_message(call: ActionCall) -> dict[str, Any]:
    body = {"channel": channel_of(call), **given(call.input, "text", "blocks", "thread_ts", "unfurl_links", "mrkdwn")}
    answer = await call_slack(call, "chat.postMessage", body)
    return {"ok": True, "channel": str(answer.get("channel", body["channel"])), "ts": str(answer.get("ts", "")),
            "message": answer.get("message") or {}}


async def update_message(call: ActionCall) -> dict[str, Any]:
    body = {"channel": channel_of(call), **given(call.input, "ts", "text", "blocks")}
    answer = await call_slack(call, "chat.update", body)
    return {"ok": True, "channel": str(answer.get("channel", body["channel"])), "ts": str(answer.get("ts", body["ts"])),
            "text": str(answer.get("text") or "")}


async def add_reaction(call: ActionCall) -> dict[str, Any]:
    body = {"channel": channel_of(call), **given(call.input, "timestamp", "name")}
    await call_slack(call, "reactions.add", body)
    return {"ok": True}


KIND = ConnectorKind(
    type="slack",
    name="Slack",
    description="Post, update and react to Slack messages as a bot (OAuth bot token)",
    credential_type="oauth",
    credential_required=True,
    required_fields=("bot_token",),
    config_schema=CONFIG,
    actions={
        "send_message": Action("send_message", "Post a message to a channel or thread (chat.postMessage)",
                               SEND_MESSAGE_INPUT, SEND_MESSAGE_OUTPUT, send_message),
        "update_message": Action("update_message", "Edit a message the bot posted (chat.update)",
                                 UPDATE_MESSAGE_INPUT, UPDATE_MESSAGE_OUTPUT, update_message),
        "add_reaction": Action("add_reaction", "Add an emoji reaction to a message (reactions.add)",
                               ADD_REACTION_INPUT, ADD_REACTION_OUTPUT, add_reaction),
    },
)
