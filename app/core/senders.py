"""The outgoing HTTP clients: aiohttp behind the same URL guard as app.core.http. `WebhookSender`
posts signed deliveries; `OutgoingClient` makes connector calls and workflow `http_request` steps.

Why not the shared httpx client: measured on this machine (scripts/measure_senders.py, 3,000
signed deliveries to a local receiver, two rounds), aiohttp reached 6,800-8,500 deliveries/s at
115-150 us CPU each in every pool configuration, the best httpx configuration 1,200-1,750/s at
560-770 us, and httpx with one client at concurrency 64 only 210-270/s (3.4 ms CPU each, its pool
walk). Connector calls moved for the same reason: in figure 7 the httpx call was 30% of the
runner's CPU per execution at concurrency 1 (profiled, about 2 ms of a 2.2 ms bare call).

The guard is the one in app.core.http: the URL's syntax and IP literals are checked before each
request, and host names are resolved and checked by `GuardedResolver`, so aiohttp connects only to
the addresses that were judged. Redirects are never followed. The syntax verdict depends on the URL
string alone, so it is kept per URL (parsing it with httpx was ~6% of the worker's CPU); addresses
are still resolved and judged for every new connection.

Per-request work aiohttp would do for a browser-like client is switched off: no cookie jar (a
receiver must not be able to set state for later deliveries), no Accept/Accept-Encoding and no
decompression (only a bounded excerpt of the answer is kept, as sent).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from app.core.http import USER_AGENT, UnsafeURL, check_url_syntax, resolve_and_check
from app.core.storable import storable_text

EXCERPT_BYTES = 1024
VERDICTS_KEPT = 4096  # distinct webhook URLs whose syntax verdict is remembered


@dataclass(slots=True)
class Answer:
    """What the receiver said: status, the headers that steer retries, the start of the body."""

    status: int
    retry_after: str | None
    excerpt: str
    duration_ms: int


class SendFailed(Exception):
    """No HTTP answer (refused, reset, timed out, unsafe URL). `permanent` means retrying cannot help."""

    def __init__(self, message: str, duration_ms: int, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message, self.duration_ms, self.permanent = message, duration_ms, permanent


class GuardedResolver(AbstractResolver):
    """Resolves with app.core.http.resolve_and_check: any internal address refuses the host."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
        addresses = await resolve_and_check(host, port, self._allow_private)
        return [_result(host, address, port) for address in addresses]

    async def close(self) -> None:
        """Nothing to release."""


def _result(host: str, address: str, port: int) -> ResolveResult:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return ResolveResult(
        hostname=host, host=address, port=port, family=family, proto=0, flags=socket.AI_NUMERICHOST
    )


class WebhookSender:
    """One aiohttp session with a bounded pool, for one dispatcher process."""

    def __init__(self, *, allow_private: bool, timeout: float, max_connections: int) -> None:
        self._allow_private = allow_private
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._verdicts: dict[str, URL | UnsafeURL] = {}

    def _checked(self, url: str) -> URL:
        """The URL to request, once `check_url_syntax` accepted it; raises its UnsafeURL otherwise."""
        verdict = self._verdicts.get(url)
        if verdict is None:
            verdict = _verdict(url, self._allow_private)
            if len(self._verdicts) >= VERDICTS_KEPT:
                self._verdicts.clear()
            self._verdicts[url] = verdict
        if isinstance(verdict, UnsafeURL):
            raise UnsafeURL(verdict.target, verdict.reason)
        return verdict

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(self._allow_private), limit=self._max_connections
            )
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, headers={"User-Agent": USER_AGENT}, trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(), skip_auto_headers=("Accept", "Accept-Encoding"),
                auto_decompress=False,
            )
        return self._session

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        """POST once; an HTTP answer of any status is an Answer, anything else SendFailed."""
        started = time.perf_counter()
        try:
            target = self._checked(url)
            async with self._open().post(target, data=body, headers=headers, allow_redirects=False) as response:
                excerpt = await response.content.read(EXCERPT_BYTES)
                return Answer(response.status, response.headers.get("Retry-After"),
                              storable_text(excerpt.decode("utf-8", "replace")), _ms(started))
        except UnsafeURL as exc:
            raise SendFailed(str(exc), _ms(started), permanent=True) from None
        except TimeoutError:
            raise SendFailed("timed out", _ms(started)) from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise SendFailed(_unsafe_or(exc), _ms(started), permanent=_is_unsafe(exc)) from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _verdict(url: str, allow_private: bool) -> URL | UnsafeURL:
    try:
        check_url_syntax(url, allow_private)
    except UnsafeURL as refused:
        return refused
    return URL(url)


def _is_unsafe(exc: BaseException) -> bool:
    return isinstance(exc, UnsafeURL) or isinstance(exc.__cause__, UnsafeURL)


def _unsafe_or(exc: BaseException) -> str:
    if isinstance(exc.__cause__, UnsafeURL):
        return str(exc.__cause__)
    return f"{type(exc).__name__}: {exc}"[:500]


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


@dataclass(slots=True)
class Response:
    """An outgoing call's answer: status, headers (names lower-cased, repeated ones joined with
    ", ", as httpx shows them) and the body read up to the caller's bound."""

    status: int
    headers: dict[str, str]
    body: bytes


class CallFailed(Exception):
    """No HTTP answer: refused, reset, timed out or unresolvable. `timed_out` says which."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.message, self.timed_out = message, timed_out


class OutgoingClient:
    """One aiohttp session for the user-directed calls of one process (lazily opened in its loop)."""

    def __init__(self, *, allow_private: bool, max_connections: int = 100) -> None:
        self._allow_private = allow_private
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(self._allow_private), limit=self._max_connections
            )
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": USER_AGENT}, trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def request(self, method: str, url: str, *, headers: Mapping[str, str], params: Mapping[str, str],
                      body: bytes | None, time_limit: float, max_bytes: int) -> Response:
        """Send once, never following a redirect; raises UnsafeURL for a URL the guard refuses
        (nothing was sent), ValueError for one that cannot be used, CallFailed for no answer."""
        check_url_syntax(url, self._allow_private)
        target = URL(url)
        if params:
            target = target.update_query(dict(params))
        try:
            async with self._open().request(
                method, target, headers=dict(headers), data=body, allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=time_limit),
            ) as response:
                content = await _read_bounded(response, max_bytes)
                return Response(response.status, _plain_headers(response.headers), content)
        except TimeoutError:
            raise CallFailed(f"{target.host}: timed out after {time_limit:g} s", timed_out=True) from None
        except (aiohttp.ClientError, OSError) as exc:
            if isinstance(exc.__cause__, UnsafeURL):
                raise exc.__cause__ from None
            if isinstance(exc, aiohttp.InvalidURL):
                raise ValueError(str(exc)) from None
            raise CallFailed(f"{target.host}: {type(exc).__name__}: {exc}"[:500]) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _read_bounded(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """At most `max_bytes` of the body; the rest is never read (the connection is then closed)."""
    body = bytearray()
    while len(body) < max_bytes:
        chunk = await response.content.read(max_bytes - len(body))
        if not chunk:
            break
        body += chunk
    if len(body) >= max_bytes and not response.content.at_eof():
        response.close()
    return bytes(body)


def _plain_headers(headers: Mapping[str, str]) -> dict[str, str]:
    plain: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        plain[key] = f"{plain[key]}, {value}" if key in plain else value
    return plain
