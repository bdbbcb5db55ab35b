"""The Discord provider against a fake Discord API over a real socket: wire format, outputs, failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from resolvers.connectors.failures import ProviderFailure
from resolvers.connectors.providers.discord import KIND, nonce_of, webhook_url
from resolvers.errors import Invalid
from tests.connectors.calls import action_call
from tests.connectors.fakes.base import serving
from tests.connectors.fakes.discord import CHANNEL, OTHER_CHANNEL, TOKEN, WEBHOOK_ID, WEBHOOK_TOKEN, DiscordFake

SECRETS = {"bot_token": TOKEN}
EMBEDS = [{"title": "Deploy approved", "description": "by alice", "color": 5763719}]


@pytest.fixture
async def fake() -> AsyncIterator[DiscordFake]:
    fake = DiscordFake()
    async with serving(fake):
        yield fake


async def run(fake: DiscordFake, action: str, input: dict[str, Any], secrets: dict[str, Any] | None = None,
              config: dict[str, Any] | None = None, idempotency_key: str = "idem-test-1") -> dict[str, Any]:
    async with action_call(input, SECRETS if secrets is None else secrets, config, idempotency_key,
                           discord_api_url=f"{fake.base_url}/api/v10") as call:
        return await KIND.actions[action].run(call)


async def failure_of(fake: DiscordFake, action: str, input: dict[str, Any], **kwargs: Any) -> ProviderFailure:
    with pytest.raises(ProviderFailure) as caught:
        await run(fake, action, input, **kwargs)
    return caught.value


async def invalid(fake: DiscordFake, action: str, input: dict[str, Any], **kwargs: Any) -> str:
    """The Invalid's message; the fake must have received nothing."""
    with pytest.raises(Invalid) as caught:
        await run(fake, action, input, **kwargs)
    assert fake.requests == []
    return caught.value.message


def check_output(action: str, output: dict[str, Any]) -> None:
    Draft202012Validator(KIND.actions[action].output_schema).validate(output)


def hook(fake: DiscordFake, token: str = WEBHOOK_TOKEN) -> str:
    return f"{fake.base_url}/api/webhooks/{WEBHOOK_ID}/{token}"


def test_kind_and_schemas() -> None:
    assert (KIND.type, KIND.name, KIND.credential_type) == ("discord", "Discord", "token")
    assert not KIND.credential_required and KIND.required_fields == ("bot_token",)
    assert set(KIND.actions) == {"send_message", "edit_message", "send_webhook"}
    Draft202012Validator.check_schema(KIND.config_schema)
    for action in KIND.actions.values():
        Draft202012Validator.check_schema(action.input_schema)
        Draft202012Validator.check_schema(action.output_schema)


def test_input_schemas_refuse_bad_ids_and_empty_messages() -> None:
    send = Draft202012Validator(KIND.actions["send_message"].input_schema)
    assert send.is_valid({"channel_id": CHANNEL, "content": "hi"}) and send.is_valid({"embeds": EMBEDS})
    assert not send.is_valid({"channel_id": CHANNEL})
    assert not send.is_valid({"channel_id": "1/../../guilds/1", "content": "hi"})
    edit = Draft202012Validator(KIND.actions["edit_message"].input_schema)
    assert not edit.is_valid({"message_id": "12?x=1", "content": "hi"})
    assert not edit.is_valid({"content": "no message id"})
    assert not Draft202012Validator(KIND.config_schema).is_valid({"defaultChannelId": "general"})
    webhook = Draft202012Validator(KIND.actions["send_webhook"].input_schema)
    assert webhook.is_valid({"webhook_url": f"https://discord.com/api/webhooks/{WEBHOOK_ID}/abc_D-1", "content": "x"})
    assert not webhook.is_valid({"webhook_url": "https://discord.com/api/v10/channels/1/messages", "content": "x"})


async def test_send_message_wire_format_and_output(fake: DiscordFake) -> None:
    given = {"channel_id": CHANNEL, "content": "Deploy approved", "embeds": EMBEDS, "tts": False,
             "allowed_mentions": {"parse": []}}
    output = await run(fake, "send_message", given)

    [seen] = fake.requests
    assert (seen.method, seen.path) == ("POST", f"/api/v10/channels/{CHANNEL}/messages")
    assert seen.headers["Authorization"] == f"Bot {TOKEN}"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.json == {"content": "Deploy approved", "embeds": EMBEDS, "tts": False,
                         "allowed_mentions": {"parse": []}, "nonce": nonce_of("idem-test-1", CHANNEL),
                         "enforce_nonce": True}
    assert output == fake.messages[output["id"]]
    assert (output["channel_id"], output["content"], output["embeds"]) == (CHANNEL, "Deploy approved", EMBEDS)
    assert output["id"].isdigit() and output["author"]["bot"] is True
    check_output("send_message", output)


async def test_only_given_fields_are_sent_and_channel_defaults_to_config(fake: DiscordFake) -> None:
    config = {"defaultChannelId": CHANNEL}
    await run(fake, "send_message", {"content": "to the default"}, config=config)
    await run(fake, "send_message", {"channel_id": OTHER_CHANNEL, "embeds": EMBEDS}, config=config)
    assert [seen.path for seen in fake.requests] == [f"/api/v10/channels/{CHANNEL}/messages",
                                                     f"/api/v10/channels/{OTHER_CHANNEL}/messages"]
    sent = [{k: v for k, v in seen.json.items() if k not in ("nonce", "enforce_nonce")} for seen in fake.requests]
    assert sent == [{"content": "to the default"}, {"embeds": EMBEDS}]


async def test_a_retried_call_posts_one_message(fake: DiscordFake) -> None:
    """A step retried after its worker died mid-call sends the same idempotency key again: Discord
    answers the message it made the first time (enforce_nonce), so the channel gets one."""
    given = {"channel_id": CHANNEL, "content": "Deploy approved"}
    first = await run(fake, "send_message", given, idempotency_key="exe_1:notify")
    again = await run(fake, "send_message", given, idempotency_key="exe_1:notify")
    assert again == first and len(fake.messages) == 1
    other = await run(fake, "send_message", given, idempotency_key="exe_2:notify")
    elsewhere = await run(fake, "send_message", {**given, "channel_id": OTHER_CHANNEL},
                          idempotency_key="exe_1:notify")
    assert len({first["id"], other["id"], elsewhere["id"]}) == 3 and len(fake.messages) == 3
    assert elsewhere["channel_id"] == OTHER_CHANNEL


async def test_a_long_idempotency_key_still_fits_discords_nonce(fake: DiscordFake) -> None:
    key = "k" * 255  # the longest key the connectors API accepts
    output = await run(fake, "send_message", {"channel_id": CHANNEL, "content": "hi"}, idempotency_key=key)
    [seen] = fake.requests
    assert seen.json["nonce"] == output["nonce"] and len(output["nonce"]) == 25


async def test_missing_channel_is_invalid(fake: DiscordFake) -> None:
    assert "channel_id" in await invalid(fake, "send_message", {"content": "nowhere"})


async def test_missing_token_is_invalid(fake: DiscordFake) -> None:
    message = await invalid(fake, "send_message", {"channel_id": CHANNEL, "content": "hi"}, secrets={})
    assert message == "discord send_message needs a credential with bot_token"
    message = await invalid(fake, "edit_message", {"channel_id": CHANNEL, "message_id": "1", "content": "x"},
                            secrets={})
    assert "bot_token" in message


@pytest.mark.parametrize("action, input, config, field", [
    ("send_message", {"channel_id": "1/../../guilds/1", "content": "x"}, None, "input.channel_id"),
    ("send_message", {"channel_id": "", "content": "x"}, {"defaultChannelId": CHANNEL}, "input.channel_id"),
    ("send_message", {"content": "x"}, {"defaultChannelId": "../users/@me"}, "config.defaultChannelId"),
    ("edit_message", {"channel_id": CHANNEL, "message_id": "1?wait=1", "content": "x"}, None, "input.message_id"),
    ("edit_message", {"channel_id": "123456789012345678901", "message_id": "1", "content": "x"}, None,
     "input.channel_id"),
])
async def test_bad_snowflake_is_invalid(fake: DiscordFake, action: str, input: dict[str, Any],
                                        config: dict[str, Any] | None, field: str) -> None:
    assert (await invalid(fake, action, input, config=config)).startswith(field)


async def test_edit_message(fake: DiscordFake) -> None:
    sent = await run(fake, "send_message", {"channel_id": CHANNEL, "content": "pending"})
    output = await run(fake, "edit_message", {"channel_id": CHANNEL, "message_id": sent["id"], "content": "approved"})

    seen = fake.requests[-1]
    assert (seen.method, seen.path) == ("PATCH", f"/api/v10/channels/{CHANNEL}/messages/{sent['id']}")
    assert seen.headers["Authorization"] == f"Bot {TOKEN}"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.json == {"content": "approved"}
    assert (output["id"], output["content"]) == (sent["id"], "approved")
    assert output["edited_timestamp"] is not None
    check_output("edit_message", output)


async def test_send_webhook_wire_format_and_output(fake: DiscordFake) -> None:
    given = {"webhook_url": hook(fake), "content": "Build green", "username": "CI",
             "avatar_url": "https://example.com/ci.png", "embeds": EMBEDS}
    output = await run(fake, "send_webhook", given, secrets={})

    [seen] = fake.requests
    assert (seen.method, seen.path) == ("POST", f"/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}")
    assert seen.query == {"wait": "true"}
    assert "Authorization" not in seen.headers
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.json == {"content": "Build green", "username": "CI", "avatar_url": "https://example.com/ci.png",
                         "embeds": EMBEDS}
    assert output == fake.messages[output["id"]]
    assert (output["webhook_id"], output["channel_id"], output["author"]["username"]) == (WEBHOOK_ID, CHANNEL, "CI")
    check_output("send_webhook", output)


async def test_webhook_ignores_the_bot_token(fake: DiscordFake) -> None:
    await run(fake, "send_webhook", {"webhook_url": hook(fake), "content": "hi"})
    assert "Authorization" not in fake.requests[0].headers


@pytest.mark.parametrize("url", [
    "https://evil.example/api/webhooks/1300000000000000001/token",
    "{base}/api/v10/channels/1100000000000000001/messages",
    "{base}/api/webhooks/1300000000000000001/token?thread_id=1",
    "{base}/api/webhooks/1300000000000000001/../../v10/users/@me",
    "ftp://discord.com/api/webhooks/1300000000000000001/token",
    "not a url at all",
])
async def test_webhook_url_must_be_a_discord_webhook(fake: DiscordFake, url: str) -> None:
    message = await invalid(fake, "send_webhook", {"webhook_url": url.format(base=fake.base_url), "content": "x"})
    assert message.startswith("input.webhook_url")


@pytest.mark.parametrize("url", [
    f"https://discord.com/api/webhooks/{WEBHOOK_ID}/abc-DEF_123",
    f"https://discordapp.com/api/webhooks/{WEBHOOK_ID}/abc",
    f"https://canary.discord.com/api/v10/webhooks/{WEBHOOK_ID}/abc",
])
async def test_real_discord_webhook_urls_are_accepted(url: str) -> None:
    async with action_call({"webhook_url": url, "content": "x"}, {}) as call:
        assert webhook_url(call) == url


async def test_unknown_webhook_is_permanent(fake: DiscordFake) -> None:
    failure = await failure_of(fake, "send_webhook", {"webhook_url": hook(fake, "revoked"), "content": "x"})
    assert failure.message == "discord: Unknown Webhook (code 10015)"
    assert (failure.retryable, failure.status) == (False, 404)


async def test_unknown_channel_is_permanent(fake: DiscordFake) -> None:
    failure = await failure_of(fake, "send_message", {"channel_id": "1999999999999999999", "content": "x"})
    assert failure.message == "discord: Unknown Channel (code 10003)"
    assert (failure.retryable, failure.status, failure.retry_after) == (False, 404, None)


async def test_wrong_token_is_permanent(fake: DiscordFake) -> None:
    failure = await failure_of(fake, "send_message", {"channel_id": CHANNEL, "content": "x"},
                               secrets={"bot_token": "wrong"})
    assert failure.message == "discord: 401: Unauthorized (code 0)"
    assert (failure.retryable, failure.status) == (False, 401)


async def test_unknown_message_is_permanent(fake: DiscordFake) -> None:
    failure = await failure_of(fake, "edit_message", {"channel_id": CHANNEL, "message_id": "42", "content": "x"})
    assert failure.message == "discord: Unknown Message (code 10008)"
    assert not failure.retryable


async def test_4xx_carries_discords_message(fake: DiscordFake) -> None:
    fake.fail_next(403, {"code": 50001, "message": "Missing Access"})
    failure = await failure_of(fake, "send_message", {"channel_id": CHANNEL, "content": "x"})
    assert failure.message == "discord: Missing Access (code 50001)"
    assert (failure.retryable, failure.status, failure.retry_after) == (False, 403, None)


async def test_invalid_form_body_names_the_field(fake: DiscordFake) -> None:
    errors = {"embeds": {"0": {"title": {"_errors": [
        {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 256 or fewer in length."}]}}}}
    fake.fail_next(400, {"code": 50035, "errors": errors, "message": "Invalid Form Body"})
    failure = await failure_of(fake, "send_message", {"channel_id": CHANNEL, "embeds": EMBEDS})
    assert failure.message == "discord: Invalid Form Body (code 50035): embeds.0.title: Must be 256 or fewer in length."


async def test_429_takes_retry_after_from_the_json(fake: DiscordFake) -> None:
    fake.fail_next(429, {"message": "You are being rate limited.", "retry_after": 1.5, "global": False},
                   {"Retry-After": "2"})
    failure = await failure_of(fake, "send_message", {"channel_id": CHANNEL, "content": "x"})
    assert failure.message == "discord: You are being rate limited."
    assert (failure.retryable, failure.status, failure.retry_after) == (True, 429, 1.5)
    assert fake.messages == {}


async def test_429_without_json_retry_after_uses_the_header(fake: DiscordFake) -> None:
    fake.fail_next(429, "error code: 1015", {"Retry-After": "3", "Content-Type": "text/plain"})
    failure = await failure_of(fake, "send_webhook", {"webhook_url": hook(fake), "content": "x"})
    assert (failure.retryable, failure.status, failure.retry_after) == (True, 429, 3.0)
    assert failure.message == "discord: HTTP 429: error code: 1015"


async def test_5xx_is_retryable(fake: DiscordFake) -> None:
    fake.fail_next(502, "<html>Bad Gateway</html>", {"Content-Type": "text/html"})
    failure = await failure_of(fake, "edit_message", {"channel_id": CHANNEL, "message_id": "42", "content": "x"})
    assert (failure.retryable, failure.status, failure.retry_after) == (True, 502, None)
    assert "Bad Gateway" in failure.message
