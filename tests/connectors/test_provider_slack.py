"""The Slack provider against a fake Web API over a real socket: wire format, outputs, failures."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from resolvers.connectors.failures import ProviderFailure
from resolvers.connectors.providers.slack import KIND
from resolvers.errors import Invalid
from tests.connectors.calls import action_call
from tests.connectors.fakes.base import serving
from tests.connectors.fakes.slack import CHANNEL, OTHER_CHANNEL, TOKEN, SlackFake

SECRETS = {"bot_token": TOKEN}
TS_RE = re.compile(r"^[0-9]{10}\.[0-9]{6}$")
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Deploy* approved"}}]


@pytest.fixture
async def fake() -> AsyncIterator[SlackFake]:
    fake = SlackFake()
    async with serving(fake):
        yield fake


async def run(fake: SlackFake, action: str, input: dict[str, Any], secrets: dict[str, Any] | None = None,
              config: dict[str, Any] | None = None) -> dict[str, Any]:
    async with action_call(input, SECRETS if secrets is None else secrets, config,
                           slack_api_url=f"{fake.base_url}/api") as call:
        return await KIND.actions[action].run(call)


async def failure_of(fake: SlackFake, action: str, input: dict[str, Any], **kwargs: Any) -> ProviderFailure:
    with pytest.raises(ProviderFailure) as caught:
        await run(fake, action, input, **kwargs)
    return caught.value


def check_output(action: str, output: dict[str, Any]) -> None:
    Draft202012Validator(KIND.actions[action].output_schema).validate(output)


def test_kind_and_schemas() -> None:
    assert (KIND.type, KIND.name, KIND.credential_type) == ("slack", "Slack", "oauth")
    assert KIND.credential_required and KIND.required_fields == ("bot_token",)
    assert set(KIND.actions) == {"send_message", "update_message", "add_reaction"}
    Draft202012Validator.check_schema(KIND.config_schema)
    for action in KIND.actions.values():
        Draft202012Validator.check_schema(action.input_schema)
        Draft202012Validator.check_schema(action.output_schema)


def test_input_schemas_refuse_what_slack_would() -> None:
    send = Draft202012Validator(KIND.actions["send_message"].input_schema)
    assert not send.is_valid({"channel": CHANNEL})  # neither text nor blocks
    assert send.is_valid({"channel": CHANNEL, "text": "hi"}) and send.is_valid({"blocks": BLOCKS})
    assert not send.is_valid({"text": "hi", "thread_ts": "yesterday"})
    assert not Draft202012Validator(KIND.actions["update_message"].input_schema).is_valid({"text": "no ts"})
    react = Draft202012Validator(KIND.actions["add_reaction"].input_schema)
    assert react.is_valid({"timestamp": "1733200000.000100", "name": "thumbsup::skin-tone-2"})
    assert not react.is_valid({"timestamp": "1733200000.000100", "name": ":thumbsup:"})


async def test_send_message_wire_format_and_output(fake: SlackFake) -> None:
    given = {"channel": CHANNEL, "text": "Deploy approved", "blocks": BLOCKS, "thread_ts": "1733100000.000200",
             "unfurl_links": False, "mrkdwn": True}
    output = await run(fake, "send_message", given)

    [seen] = fake.requests
    assert (seen.method, seen.path) == ("POST", "/api/chat.postMessage")
    assert seen.headers["Authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["Content-Type"] == "application/json; charset=utf-8"
    assert seen.json == given
    assert output["ok"] is True and output["channel"] == CHANNEL and TS_RE.match(output["ts"])
    assert output["message"] == fake.messages[(CHANNEL, output["ts"])]
    assert output["message"]["thread_ts"] == "1733100000.000200" and output["message"]["blocks"] == BLOCKS
    assert set(output) == {"ok", "channel", "ts", "message"}
    check_output("send_message", output)


async def test_channel_defaults_to_config_and_input_wins(fake: SlackFake) -> None:
    config = {"defaultChannel": CHANNEL}
    first = await run(fake, "send_message", {"text": "to the default"}, config=config)
    second = await run(fake, "send_message", {"channel": OTHER_CHANNEL, "text": "elsewhere"}, config=config)
    assert [seen.json["channel"] for seen in fake.requests] == [CHANNEL, OTHER_CHANNEL]
    assert (first["channel"], second["channel"]) == (CHANNEL, OTHER_CHANNEL)


@pytest.mark.parametrize("action, input", [
    ("send_message", {"text": "nowhere"}),
    ("update_message", {"ts": "1733200000.000100", "text": "x"}),
    ("add_reaction", {"timestamp": "1733200000.000100", "name": "eyes"}),
])
async def test_missing_channel_is_invalid_before_sending(fake: SlackFake, action: str, input: dict[str, Any]) -> None:
    with pytest.raises(Invalid) as caught:
        await run(fake, action, input)
    assert "channel" in caught.value.message
    assert fake.requests == []


async def test_missing_token_is_invalid_before_sending(fake: SlackFake) -> None:
    with pytest.raises(Invalid) as caught:
        await run(fake, "send_message", {"channel": CHANNEL, "text": "hi"}, secrets={})
    assert "bot_token" in caught.value.message
    assert fake.requests == []


async def test_update_message(fake: SlackFake) -> None:
    posted = await run(fake, "send_message", {"channel": CHANNEL, "text": "pending"})
    output = await run(fake, "update_message", {"ts": posted["ts"], "text": "approved", "blocks": BLOCKS},
                       config={"defaultChannel": CHANNEL})

    seen = fake.requests[-1]
    assert (seen.method, seen.path) == ("POST", "/api/chat.update")
    assert seen.headers["Authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["Content-Type"] == "application/json; charset=utf-8"
    assert seen.json == {"channel": CHANNEL, "ts": posted["ts"], "text": "approved", "blocks": BLOCKS}
    assert output == {"ok": True, "channel": CHANNEL, "ts": posted["ts"], "text": "approved"}
    assert fake.messages[(CHANNEL, posted["ts"])]["text"] == "approved"
    check_output("update_message", output)


async def test_add_reaction(fake: SlackFake) -> None:
    posted = await run(fake, "send_message", {"channel": CHANNEL, "text": "ship it?"})
    given = {"channel": CHANNEL, "timestamp": posted["ts"], "name": "white_check_mark"}
    output = await run(fake, "add_reaction", given)

    seen = fake.requests[-1]
    assert (seen.method, seen.path) == ("POST", "/api/reactions.add")
    assert seen.headers["Authorization"] == f"Bearer {TOKEN}"
    assert seen.json == given
    assert output == {"ok": True}
    assert fake.reactions[(CHANNEL, posted["ts"])] == ["white_check_mark"]
    check_output("add_reaction", output)


async def test_ok_false_is_a_permanent_failure_with_slacks_error(fake: SlackFake) -> None:
    failure = await failure_of(fake, "send_message", {"channel": "C0NOSUCHONE", "text": "hi"})
    assert failure.message == "slack chat.postMessage: channel_not_found"
    assert (failure.retryable, failure.status, failure.retry_after) == (False, 200, None)


async def test_wrong_token_is_invalid_auth(fake: SlackFake) -> None:
    failure = await failure_of(fake, "add_reaction", {"channel": CHANNEL, "timestamp": "1733200000.000100",
                                                      "name": "eyes"}, secrets={"bot_token": "xoxb-wrong"})
    assert failure.message == "slack reactions.add: invalid_auth"
    assert not failure.retryable


async def test_unknown_message_is_permanent(fake: SlackFake) -> None:
    failure = await failure_of(fake, "update_message", {"channel": CHANNEL, "ts": "1733200000.999999", "text": "x"})
    assert failure.message == "slack chat.update: message_not_found"
    assert not failure.retryable


@pytest.mark.parametrize("code", ["ratelimited", "internal_error", "fatal_error", "service_unavailable",
                                  "request_timeout"])
async def test_transient_ok_false_codes_are_retryable(fake: SlackFake, code: str) -> None:
    fake.fail_next(200, {"ok": False, "error": code}, {"Retry-After": "7"})
    failure = await failure_of(fake, "send_message", {"channel": CHANNEL, "text": "hi"})
    assert failure.message == f"slack chat.postMessage: {code}"
    assert failure.retryable and failure.retry_after == 7.0


async def test_http_429_is_retryable_with_retry_after(fake: SlackFake) -> None:
    fake.fail_next(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"})
    failure = await failure_of(fake, "send_message", {"channel": CHANNEL, "text": "hi"})
    assert failure.message == "HTTP 429: slack chat.postMessage: ratelimited"
    assert (failure.retryable, failure.status, failure.retry_after) == (True, 429, 30.0)
    assert len(fake.requests) == 1 and fake.messages == {}


async def test_5xx_is_retryable(fake: SlackFake) -> None:
    fake.fail_next(503, "<html>upstream connect error</html>", {"Content-Type": "text/html"})
    failure = await failure_of(fake, "update_message", {"channel": CHANNEL, "ts": "1733200000.000100", "text": "x"})
    assert (failure.retryable, failure.status) == (True, 503)
    assert failure.message == "HTTP 503: slack chat.update: <html>upstream connect error</html>"


async def test_4xx_is_permanent_with_slacks_error(fake: SlackFake) -> None:
    fake.fail_next(400, {"ok": False, "error": "invalid_arguments"}, {"Retry-After": "5"})
    failure = await failure_of(fake, "send_message", {"channel": CHANNEL, "text": "hi"})
    assert failure.message == "HTTP 400: slack chat.postMessage: invalid_arguments"
    assert (failure.retryable, failure.status, failure.retry_after) == (False, 400, None)


async def test_unreadable_answer_is_permanent(fake: SlackFake) -> None:
    fake.fail_next(200, "<html>login</html>", {"Content-Type": "text/html"})
    failure = await failure_of(fake, "send_message", {"channel": CHANNEL, "text": "hi"})
    assert failure.message.startswith("slack chat.postMessage: unreadable answer")
    assert not failure.retryable
