"""Discord: send and edit channel messages as a bot, or post through a channel webhook.

The bot actions call `{discord_api_url}/channels/{channel_id}/messages[/{message_id}]` with
`Authorization: Bot <token>`; the ids are checked as snowflakes (digits only) before they go into the
path, so no input can reach another endpoint. `send_webhook` needs no credential: the webhook URL is
its own secret, and it must be a Discord webhook URL (on a Discord host, or on the configured API's
host) so the action cannot post to an arbitrary server.

`send_message` carries a `nonce` made from the call's idempotency key and its channel, with
`enforce_nonce: true`: Discord then creates one message per nonce and bot for a few minutes and
answers a repeat with the message it already made, so a workflow step retried after its worker died
mid-call does not post twice. Editing is idempotent by itself; a webhook post takes no nonce.

A refusal is Discord's `{"code", "message"}`; a 429 carries `retry_after` (float seconds) in its
JSON body, which is more precise than the `Retry-After` header and preferred to it.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import httpx

from resolvers.connectors.failures import ProviderFailure, is_retryable_status
from resolvers.connectors.kinds import Action, ActionCall, ConnectorKind, schema
from resolvers.connectors.transport import Answer, send
from resolvers.credentials.requirements import sendable_secret
from resolvers.errors import Invalid

SNOWFLAKE_PATTERN = r"^[0-9]{1,20}$"
SNOWFLAKE_RE = re.compile(r"[0-9]{1,20}")
WEBHOOK_PATH_RE = re.compile(r"/api(/v[0-9]{1,2})?/webhooks/[0-9]{1,20}/[A-Za-z0-9_-]{1,100}")
WEBHOOK_URL_PATTERN = r"^https?://[^/?#\s]+/api(/v[0-9]{1,2})?/webhooks/[0-9]{1,20}/[A-Za-z0-9_-]{1,100}$"
NONCE_LENGTH = 25  # Discord's limit for a string nonce
DISCORD_ORIGINS = frozenset({"https://discord.com", "https://discordapp.com", "https://canary.discord.com",
                             "https://ptb.discord.com"})

SNOWFLAKE = {"type": "string", "pattern": SNOWFLAKE_PATTERN}
CHANNEL_ID = {**SNOWFLAKE, "description": "defaults to the connector's config.defaultChannelId"}
CONTENT = {"type": "string", "maxLength": 2000}
EMBEDS = {"type": "array", "maxItems": 10, "items": {"type": "object"}, "description": "Discord embed objects"}
CONTENT_OR_EMBEDS = [{"required": ["content"]}, {"required": ["embeds"]}]

SEND_MESSAGE_INPUT = schema(
    {
        "channel_id": CHANNEL_ID,
        "content": CONTENT,
        "embeds": EMBEDS,
        "tts": {"type": "boolean"},
        "allowed_mentions": {"type": "object", "description": "which mentions may ping, e.g. {\"parse\": []}"},
    },
    anyOf=CONTENT_OR_EMBEDS,
)
EDIT_MESSAGE_INPUT = schema(
    {"channel_id": CHANNEL_ID, "message_id": SNOWFLAKE, "content": CONTENT, "embeds": EMBEDS},
    ["message_id"],
    anyOf=CONTENT_OR_EMBEDS,
)
SEND_WEBHOOK_INPUT = schema(
    {
        "webhook_url": {"type": "string", "maxLength": 512, "pattern": WEBHOOK_URL_PATTERN,
                        "description": "https://discord.com/api/webhooks/{id}/{token}"},
        "content": CONTENT,
        "username": {"type": "string", "minLength": 1, "maxLength": 80},
        "avatar_url": {"type": "string", "maxLength": 2048},
        "embeds": EMBEDS,
    },
    ["webhook_url"],
    anyOf=CONTENT_OR_EMBEDS,
)
MESSAGE_OUTPUT = schema(
    {"id": SNOWFLAKE, "channel_id": SNOWFLAKE, "content": {"type": "string"}},
    ["id", "channel_id", "content"],
    additionalProperties=True,
    description="the message object Discord returns",
)
CONFIG = schema({"defaultChannelId": {**SNOWFLAKE, "description": "channel used when an action names none"}})


def snowflake(value: Any, field: str) -> str:
    """A Discord id fit for a URL path: digits only, so nothing can add segments or a query."""
    text = str(value)
    if not SNOWFLAKE_RE.fullmatch(text):
        raise Invalid(f"{field} must be a Discord id (1-20 digits)")
    return text


def channel_id_of(call: ActionCall) -> str:
    if "channel_id" in call.input:
        return snowflake(call.input["channel_id"], "input.channel_id")
    if call.config.get("defaultChannelId"):
        return snowflake(call.config["defaultChannelId"], "config.defaultChannelId")
    raise Invalid("input.channel_id is required when the connector has no config.defaultChannelId")


def bot_headers(call: ActionCall, action: str) -> dict[str, str]:
    token = sendable_secret(call.secrets, "bot_token", f"discord {action}")
    return {"Authorization": f"Bot {token}"}


def given(source: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: source[name] for name in names if name in source}


def explain(answer: Answer, body: Any) -> str:
    """Discord's own words: `message (code N)`, with the first field error of an Invalid Form Body."""
    if not isinstance(body, dict) or not body.get("message"):
        return f"HTTP {answer.status}: {answer.text(300)}"
    text = str(body["message"]) + (f" (code {body['code']})" if "code" in body else "")
    detail = first_field_error(body.get("errors"))
    return f"{text}: {detail}" if detail else text


def first_field_error(errors: Any, path: str = "") -> str | None:
    """`embeds.0.title: Must be 256 or fewer in length.` from Discord's nested `errors` object."""
    if not isinstance(errors, dict):
        return None
    if isinstance(errors.get("_errors"), list) and errors["_errors"]:
        return f"{path or 'body'}: {errors['_errors'][0].get('message', '')}"
    for key, value in errors.items():
        found = first_field_error(value, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def retry_after(answer: Answer, body: Any) -> float | None:
    """Discord's JSON `retry_after` (float seconds) when present, else the `Retry-After` header."""
    asked = body.get("retry_after") if isinstance(body, dict) else None
    if isinstance(asked, int | float) and not isinstance(asked, bool):
        return max(0.0, float(asked))
    return answer.retry_after


def message_of(answer: Answer) -> dict[str, Any]:
    """The message object of a 2xx answer, else the ProviderFailure Discord's answer means."""
    body = answer.json()
    if 200 <= answer.status < 300 and isinstance(body, dict):
        return body
    if 200 <= answer.status < 300:
        raise ProviderFailure(f"discord: no message object in the answer (HTTP {answer.status})",
                              retryable=False, status=answer.status)
    retryable = is_retryable_status(answer.status)
    raise ProviderFailure(f"discord: {explain(answer, body)}", retryable=retryable, status=answer.status,
                          retry_after=retry_after(answer, body) if retryable else None)


def nonce_of(idempotency_key: str, channel_id: str) -> str:
    """25 hex digits of SHA-256 over the key and the channel: the same on every retry of one call,
    within Discord's length limit whatever the key's, and a key reused for another channel does
    not answer with the first channel's message."""
    return hashlib.sha256(f"{channel_id}\n{idempotency_key}".encode()).hexdigest()[:NONCE_LENGTH]


async def send_message(call: ActionCall) -> dict[str, Any]:
    channel_id = channel_id_of(call)
    url = f"{call.settings.discord_api_url}/channels/{channel_id}/messages"
    body = {**given(call.input, "content", "embeds", "tts", "allowed_mentions"),
            "nonce": nonce_of(call.idempotency_key, channel_id), "enforce_nonce": True}
    return message_of(await send(call, "POST", url, json=body, headers=bot_headers(call, "send_message")))


async def edit_message(call: ActionCall) -> dict[str, Any]:
    message_id = snowflake(call.input.get("message_id", ""), "input.message_id")
    url = f"{call.settings.discord_api_url}/channels/{channel_id_of(call)}/messages/{message_id}"
    body = given(call.input, "content", "embeds")
    return message_of(await send(call, "PATCH", url, json=body, headers=bot_headers(call, "edit_message")))


def webhook_url(call: ActionCall) -> str:
    """The input's webhook URL if it is one: a webhook path on Discord (or the configured API's host)."""
    try:
        url = httpx.URL(str(call.input.get("webhook_url", "")))
    except (httpx.InvalidURL, UnicodeError):
        raise Invalid("input.webhook_url is not a URL") from None
    api = httpx.URL(call.settings.discord_api_url)
    origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
    allowed = DISCORD_ORIGINS | {f"{api.scheme}://{api.netloc.decode('ascii')}"}
    if origin not in allowed or url.query or url.fragment or not WEBHOOK_PATH_RE.fullmatch(url.path):
        raise Invalid("input.webhook_url must be a Discord webhook URL: https://discord.com/api/webhooks/{id}/{token}")
    return str(url)


async def send_webhook(call: ActionCall) -> dict[str, Any]:
    url = webhook_url(call)
    body = given(call.input, "content", "username", "avatar_url", "embeds")
    return message_of(await send(call, "POST", url, params={"wait": "true"}, json=body))


KIND = ConnectorKind(
    type="discord",
    name="Discord",
    description="Send and edit Discord channel messages as a bot, or post through a channel webhook",
    credential_type="token",
    credential_required=False,
    required_fields=("bot_token",),
    config_schema=CONFIG,
    actions={
        "send_message": Action("send_message", "Send a message to a channel as the bot",
                               SEND_MESSAGE_INPUT, MESSAGE_OUTPUT, send_message),
        "edit_message": Action("edit_message", "Edit a message the bot sent",
                               EDIT_MESSAGE_INPUT, MESSAGE_OUTPUT, edit_message),
        "send_webhook": Action("send_webhook", "Post a message through a channel webhook (no bot needed)",
                               SEND_WEBHOOK_INPUT, MESSAGE_OUTPUT, send_webhook),
    },
)
