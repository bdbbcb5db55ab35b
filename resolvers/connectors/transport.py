"""One way for providers to call over HTTP: the guarded client, a timeout, a bounded answer, and
every way a call can fail turned into `ProviderFailure` (or `Invalid` for a URL the guard refuses,
which is the caller's input and nothing was sent)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from app.core.http import UnsafeURL, read_bounded
from resolvers.connectors.failures import ProviderFailure, is_retryable_status, retry_after_seconds
from resolvers.connectors.kinds import ActionCall
from resolvers.errors import Invalid


@dataclass(slots=True)
class Answer:
    """A provider's HTTP answer, its body read up to the configured bound."""

    status: int
    headers: httpx.Headers
    body: bytes

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return orjson.loads(self.body) if self.body else None
        except orjson.JSONDecodeError:
            return None

    def text(self, limit: int = 500) -> str:
        return self.body[:limit].decode("utf-8", "replace")

    @property
    def retry_after(self) -> float | None:
        return retry_after_seconds(self.headers.get("Retry-After"))


async def send(call: ActionCall, method: str, url: str, **request: Any) -> Answer:
    """Send one request (httpx keyword arguments: headers, json, data, params, content)."""
    try:
        outgoing = call.http.build_request(method, url, timeout=call.timeout, **request)
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise Invalid(f"url cannot be used: {exc}") from None
    try:
        response = await call.http.send(outgoing, stream=True)
        body = await read_bounded(response, call.settings.connector_max_response_bytes)
    except UnsafeURL as exc:
        raise Invalid(f"url: {exc}") from None
    except httpx.TimeoutException:
        raise ProviderFailure(f"{outgoing.url.host}: timed out after {call.timeout:g} s", retryable=True) from None
    except httpx.HTTPError as exc:
        raise ProviderFailure(f"{outgoing.url.host}: {type(exc).__name__}: {exc}", retryable=True) from None
    return Answer(response.status_code, response.headers, body)


def fail_unless_ok(answer: Answer, message: str) -> None:
    """Raise the failure a non-2xx answer means: retryable for 408/429/5xx, permanent otherwise.
    `message` is the provider's own explanation, already extracted by the caller."""
    if 200 <= answer.status < 300:
        return
    if 300 <= answer.status < 400:
        message = f"redirect to {answer.headers.get('Location', '?')} not followed"
    retryable = is_retryable_status(answer.status)
    raise ProviderFailure(
        f"HTTP {answer.status}: {message}", retryable=retryable, status=answer.status,
        retry_after=answer.retry_after if retryable else None,
    )
