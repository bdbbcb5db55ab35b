"""The HTTP shell around every route: request id, body limit, auth, rate limit, errors, logs.

Written as pure ASGI rather than BaseHTTPMiddleware: it sits on the hot path of every agent
action, and it must be able to answer 413 while the body is still streaming.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth import Authenticator, presented_key
from app.core.ids import random_base62
from app.core.outages import RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE, is_outage
from app.core.storable import storage_refusal
from app.errors import error_response
from app.logs import get_logger
from app.metrics import observe_request
from app.ratelimit import RateLimiter

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/api/v1/openapi"})
CONSOLE_PREFIX = "/console"  # static files: the console authenticates its own GraphQL calls


def is_console(path: str) -> bool:
    """`/console` and everything under it."""
    return path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")


def is_public(path: str) -> bool:
    """Paths served without an API key: the system routes and the console's files."""
    return path in PUBLIC_PATHS or is_console(path)


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")
_log = get_logger("gatehouse.http")


CLIENT_CLOSED = 499  # the status counted in /metrics for a request whose client left mid-body (nginx's convention)


def with_extra_headers(raw: Any, extra: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """A response's raw headers plus `extra`, except those the response set itself (an agent's
    own cap wins over the key's budget). Raw bytes, not MutableHeaders: this runs on every answer."""
    present = {name.lower() for name, _ in raw}
    added = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in extra.items()]
    return [*raw, *((name, value) for name, value in added if name not in present)]


class BodyTooLarge(Exception):
    """Raised from `receive` once a streamed body passes the limit."""


class GatehouseMiddleware:
    """Authenticates, rate-limits and observes every HTTP request before the router sees it."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticator: Authenticator,
        limiter: Callable[[], RateLimiter],
        default_rate_limit: int,
        max_body_bytes: int,
        allow_anonymous: Callable[[str], bool] = is_public,
        console_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.app, self.authenticator, self.limiter = app, authenticator, limiter
        self.console_headers = dict(console_headers or {})  # on every answer under /console, errors too
        self.default_rate_limit, self.max_body_bytes = default_rate_limit, max_body_bytes
        self.allow_anonymous = allow_anonymous

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else random_base62(20)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 500, "started": False, "extra": {"X-Request-Id": request_id}}
        if is_console(scope["path"]):  # every console answer, the router's 405 and a 413 or 500 too
            state["extra"].update(self.console_headers)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"], state["started"] = message["status"], True
                message["headers"] = with_extra_headers(message.get("headers", ()), state["extra"])
            await send(message)

        try:
            await self._handle(scope, headers, self._bounded(receive), send_wrapper, state)
        except BodyTooLarge:
            await self._fail(send_wrapper, state, "PAYLOAD_TOO_LARGE", "request body is too large")
        except ClientDisconnect:  # gone before its body arrived: nothing ran, no one to answer, no server error
            state["status"] = CLIENT_CLOSED
            _log.info("client disconnected before its request was read", request_id=request_id, path=scope["path"])
        except Exception as exc:
            refusal = storage_refusal(exc)
            if refusal is not None:  # the client's text, where a check before the write was missed
                _log.warning("refused a value storage cannot hold", request_id=request_id, path=scope["path"],
                             refusal=refusal)
                await self._fail(send_wrapper, state, "VALIDATION_ERROR", refusal)
                return
            if is_outage(exc):  # the database or Redis is unreachable: retrying will work, alerting won't help
                _log.warning("backing service unavailable", request_id=request_id, path=scope["path"],
                             error=f"{type(exc).__name__}: {exc}"[:300])
                await self._fail(send_wrapper, state, "SERVICE_UNAVAILABLE", UNAVAILABLE_MESSAGE,
                                 {"Retry-After": str(RETRY_AFTER_SECONDS)})
                return
            _log.exception("unhandled error", request_id=request_id, path=scope["path"])
            await self._fail(send_wrapper, state, "INTERNAL", f"internal error (request id {request_id})")
        finally:
            self._observe(scope, state["status"], started, request_id)

    async def _handle(self, scope: Scope, headers: Headers, receive: Receive, send: Send, state: dict) -> None:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise BodyTooLarge
        if self.allow_anonymous(scope["path"]):
            await self.app(scope, receive, send)
            return
        caller = await self.authenticator.authenticate(presented_key(headers))
        if caller is None:
            await error_response("UNAUTHORIZED", "missing, invalid or revoked API key")(scope, receive, send)
            return
        scope["state"]["caller"] = caller
        verdict = await self.limiter().hit(caller.key_id, caller.rate_limit or self.default_rate_limit)
        state["extra"].update(verdict.headers())
        if not verdict.allowed:
            retry = {"Retry-After": str(verdict.retry_after())}
            await error_response("RATE_LIMITED", "rate limit exceeded for this API key", retry)(
                scope, receive, send
            )
            return
        await self.app(scope, receive, send)

    def _bounded(self, receive: Receive) -> Receive:
        seen = 0

        async def bounded_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body_bytes:
                raise BodyTooLarge
            return message

        return bounded_receive

    async def _fail(self, send: Send, state: dict, code: str, message: str,
                    headers: dict[str, str] | None = None) -> None:
        if state["started"]:
            return  # too late for a clean answer: the connection is closed by the server
        response = error_response(code, message, headers)

        async def no_body() -> Message:
            return {"type": "http.disconnect"}

        await response({"type": "http"}, no_body, send)

    @staticmethod
    def _observe(scope: Scope, status: int, started: float, request_id: str) -> None:
        elapsed = time.perf_counter() - started
        route = getattr(scope.get("route"), "path", "unmatched")
        observe_request(scope["method"], route, status, elapsed)
        if status == 500:  # ours: a bug
            _log.error("request failed", request_id=request_id, path=scope["path"], status=status)
        elif status > 500:  # a provider failed (502), a backing service is down (503): not a bug of ours
            _log.warning("request not served", request_id=request_id, path=scope["path"], status=status)

