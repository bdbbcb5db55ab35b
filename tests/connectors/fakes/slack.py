"""A fake Slack Web API: `chat.postMessage`, `chat.update` and `reactions.add` under `/api/`.

It answers the way Slack does: HTTP 200 for everything it understood, with `{"ok": false,
"error": ...}` for a missing token (`not_authed`), a wrong one (`invalid_auth`), an unknown channel
(`channel_not_found`) or message (`message_not_found`), and realistic success bodies otherwise.
Run the provider with `slack_api_url=f"{fake.base_url}/api"`.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from tests.connectors.fakes.base import FakeProvider, json_response

TOKEN = "xoxb-1111-2222-fake"
CHANNEL = "C0123ABCDEF"
OTHER_CHANNEL = "C0456GHIJKL"
TEAM, BOT_USER, BOT_ID, APP_ID = "T0FAKETEAM", "U0FAKEBOT", "B0FAKEBOT", "A0FAKEAPP"


class SlackFake(FakeProvider):
    def __init__(self, token: str = TOKEN, channels: tuple[str, ...] = (CHANNEL, OTHER_CHANNEL)) -> None:
        super().__init__()
        self.token = token
        self.channels = set(channels)
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.reactions: dict[tuple[str, str], list[str]] = {}
        self._sequence = 100
        self.app.router.add_post("/api/chat.postMessage", self.post_message)
        self.app.router.add_post("/api/chat.update", self.update)
        self.app.router.add_post("/api/reactions.add", self.react)

    def next_ts(self) -> str:
        self._sequence += 100
        return f"1733200000.{self._sequence:06d}"

    async def refusal(self, request: web.Request) -> tuple[dict[str, Any], web.Response | None]:
        """The JSON arguments, or Slack's `ok: false` answer for bad auth, a bad body or an unknown channel."""
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth.removeprefix("Bearer ").strip():
            return {}, error("not_authed")
        if auth != f"Bearer {self.token}":
            return {}, error("invalid_auth")
        if not request.content_type.startswith("application/json"):
            return {}, error("invalid_arguments")
        try:
            args = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return {}, error("invalid_json")
        if not isinstance(args, dict) or not args.get("channel"):
            return {}, error("channel_not_found")
        if args["channel"] not in self.channels:
            return args, error("channel_not_found")
        return args, None

    async def post_message(self, request: web.Request) -> web.Response:
        args, refused = await self.refusal(request)
        if refused:
            return refused
        if not args.get("text") and not args.get("blocks"):
            return error("no_text")
        ts = self.next_ts()
        message = {"user": BOT_USER, "type": "message", "ts": ts, "bot_id": BOT_ID, "app_id": APP_ID,
                   "text": args.get("text", ""), "team": TEAM, "blocks": args.get("blocks", []),
                   "bot_profile": {"id": BOT_ID, "app_id": APP_ID, "name": "gatehouse", "deleted": False}}
        if "thread_ts" in args:
            message["thread_ts"] = args["thread_ts"]
        self.messages[(args["channel"], ts)] = message
        return json_response({"ok": True, "channel": args["channel"], "ts": ts, "message": message,
                              "response_metadata": {"warnings": []}})

    async def update(self, request: web.Request) -> web.Response:
        args, refused = await self.refusal(request)
        if refused:
            return refused
        message = self.messages.get((args["channel"], str(args.get("ts"))))
        if message is None:
            return error("message_not_found")
        message.update({k: args[k] for k in ("text", "blocks") if k in args}, edited={"user": BOT_USER})
        return json_response({"ok": True, "channel": args["channel"], "ts": message["ts"],
                              "text": message["text"], "message": message})

    async def react(self, request: web.Request) -> web.Response:
        args, refused = await self.refusal(request)
        if refused:
            return refused
        key = (args["channel"], str(args.get("timestamp")))
        if key not in self.messages:
            return error("message_not_found")
        if args.get("name") in self.reactions.setdefault(key, []):
            return error("already_reacted")
        self.reactions[key].append(str(args.get("name")))
        return json_response({"ok": True})


def error(code: str) -> web.Response:
    """Slack's refusal: still HTTP 200."""
    return json_response({"ok": False, "error": code})
