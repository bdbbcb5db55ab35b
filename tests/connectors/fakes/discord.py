"""A fake Discord API: channel messages under `/api/v10/` and webhooks under `/api/webhooks/`.

Like Discord it answers 401 `{"message": "401: Unauthorized", "code": 0}` without a valid `Bot`
token, 404 with Discord's codes for an unknown channel (10003), message (10008) or webhook (10015),
400 (50006) for an empty message, 400 (50035, Invalid Form Body) for a nonce past 25 characters,
and message objects with snowflake ids otherwise. A message keeps its `nonce`; with `enforce_nonce:
true` a second create by the same bot with the same nonce answers the first message and creates none. A webhook post
without `wait=true` gets Discord's 204 and no message. Run the provider with
`discord_api_url=f"{fake.base_url}/api/v10"`.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from tests.connectors.fakes.base import FakeProvider, json_response

TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMA.Gfake.bot-token"
CHANNEL = "1100000000000000001"
OTHER_CHANNEL = "1100000000000000002"
BOT_ID = "1200000000000000001"
WEBHOOK_ID, WEBHOOK_TOKEN = "1300000000000000001", "fake-webhook_TOKEN-abc123"
TIMESTAMP = "2024-12-03T04:26:40.000000+00:00"


class DiscordFake(FakeProvider):
    def __init__(self, token: str = TOKEN, channels: tuple[str, ...] = (CHANNEL, OTHER_CHANNEL)) -> None:
        super().__init__()
        self.token = token
        self.channels = set(channels)
        self.webhooks = {WEBHOOK_ID: (WEBHOOK_TOKEN, CHANNEL)}
        self.messages: dict[str, dict[str, Any]] = {}
        self._sequence = 1310000000000000000
        self.app.router.add_post("/api/v10/channels/{channel_id}/messages", self.create)
        self.app.router.add_patch("/api/v10/channels/{channel_id}/messages/{message_id}", self.edit)
        self.app.router.add_post("/api/webhooks/{webhook_id}/{token}", self.execute_webhook)

    def next_id(self) -> str:
        self._sequence += 1
        return str(self._sequence)

    def refusal(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bot {self.token}":
            return failure(401, "401: Unauthorized", 0)
        if request.match_info["channel_id"] not in self.channels:
            return failure(404, "Unknown Channel", 10003)
        return None

    def store(self, channel_id: str, args: dict[str, Any], author: dict[str, Any], **extra: Any) -> dict[str, Any]:
        message = {"id": self.next_id(), "type": 0, "channel_id": channel_id, "content": args.get("content", ""),
                   "embeds": args.get("embeds", []), "tts": bool(args.get("tts", False)), "author": author,
                   "attachments": [], "mentions": [], "mention_roles": [], "mention_everyone": False,
                   "pinned": False, "flags": 0, "components": [], "timestamp": TIMESTAMP,
                   "edited_timestamp": None, **extra}
        self.messages[message["id"]] = message
        return message

    async def create(self, request: web.Request) -> web.Response:
        refused = self.refusal(request)
        if refused:
            return refused
        args = await body_of(request)
        if not args.get("content") and not args.get("embeds"):
            return failure(400, "Cannot send an empty message", 50006)
        nonce = args.get("nonce")
        if nonce is not None and len(str(nonce)) > 25:
            return json_response({"message": "Invalid Form Body", "code": 50035, "errors": {"nonce": {"_errors": [
                {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 25 or fewer in length."}]}}}, status=400)
        if nonce is not None and args.get("enforce_nonce") is True:
            for message in self.messages.values():
                if message.get("nonce") == nonce and message["author"]["id"] == BOT_ID:
                    return json_response(message)
        author = {"id": BOT_ID, "username": "gatehouse", "discriminator": "0", "bot": True, "avatar": None}
        extra = {} if nonce is None else {"nonce": nonce}
        return json_response(self.store(request.match_info["channel_id"], args, author, **extra))

    async def edit(self, request: web.Request) -> web.Response:
        refused = self.refusal(request)
        if refused:
            return refused
        message = self.messages.get(request.match_info["message_id"])
        if message is None or message["channel_id"] != request.match_info["channel_id"]:
            return failure(404, "Unknown Message", 10008)
        args = await body_of(request)
        message.update({k: args[k] for k in ("content", "embeds") if k in args}, edited_timestamp=TIMESTAMP)
        return json_response(message)

    async def execute_webhook(self, request: web.Request) -> web.Response:
        known = self.webhooks.get(request.match_info["webhook_id"])
        if known is None or known[0] != request.match_info["token"]:
            return failure(404, "Unknown Webhook", 10015)
        args = await body_of(request)
        if not args.get("content") and not args.get("embeds"):
            return failure(400, "Cannot send an empty message", 50006)
        author = {"id": WEBHOOK_ID, "username": args.get("username", "Captain Hook"), "discriminator": "0000",
                  "bot": True, "avatar": None}
        message = self.store(known[1], args, author, webhook_id=WEBHOOK_ID)
        if request.query.get("wait") != "true":
            return web.Response(status=204)
        return json_response(message)


async def body_of(request: web.Request) -> dict[str, Any]:
    if not request.content_type.startswith("application/json"):
        return {}
    loaded = orjson.loads(await request.read() or b"{}")
    return loaded if isinstance(loaded, dict) else {}


def failure(status: int, message: str, code: int) -> web.Response:
    return json_response({"message": message, "code": code}, status=status)
