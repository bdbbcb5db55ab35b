"""One way for providers to call over HTTP: the guarded client, a timeout, a bounded answer, and
every way a call can fail turned into `ProviderFailure` (or `Invalid` for a URL the guard refuses,
which is the caller's input and nothing was sent)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson

from app.core.http import UnsafeURL
from app.core.senders import CallFailed
from app.core.storable import storable_json, storable_text
from resolvers.connectors.failures import ProviderFailure, is_retryable_status, retry_after_seconds
from resolvers.connectors.kinds import ActionCall
from resolvers.connectors.redaction import call_secrets, scrub_then_cut
from resolvers.errors import Invalid


@dataclass(slots=True)
class Answer:
    """A provider's HTTP answer, its body read up to the configured bound; header names lower-cased."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    call: ActionCall | None = None  # whose secrets (`hidden_of`) are scrubbed from an excerpt before its cut

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            value = orjson.loads(self.body) if self.body else None
            return storable_json(value) if b"\\u0000" in self.body else value  # walked only when it holds one
        except orjson.JSONDecodeError:
            return None

    def text(self, limit: int = 500) -> str:
        """An excerpt of the body (read on failures only: the secrets' strings are found here, not per call)."""
        hidden = hidden_of(self.call) if self.call is not None else []
        if not hidden:
            return storable_text(self.body[:limit].decode("utf-8", "replace"))
        return storable_text(scrub_then_cut(self.body.decode("utf-8", "replace"), hidden, limit))

    @property
    def retry_after(self) -> float | None:
        return retry_after_seconds(self.headers.get("retry-after"))


async def send(call: ActionCall, method: str, url: str, *, headers: Mapping[str, str] | None = None,
               params: Mapping[str, str] | None = None, json: Any = None, data: Mapping[str, Any] | None = None,
               content: bytes | None = None) -> Answer:
    """Send one request: a `json` body, a form (`data`) or raw `content`, with `headers` and query `params`."""
    sent = dict(headers or {})
    names = {name.lower() for name in sent}
    body = content
    if json is not None:
        body = orjson.dumps(json)
        if "content-type" not in names:
            sent["Content-Type"] = "application/json"
    elif data is not None:
        body = urlencode(data, doseq=True).encode()
        if "content-type" not in names:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        answer = await call.http.request(method, url, headers=sent, params=params or {}, body=body,
                                         time_limit=call.timeout,
                                         max_bytes=call.settings.connector_max_response_bytes)
    except UnsafeURL as exc:
        raise Invalid(f"url: {exc}") from None
    except (ValueError, UnicodeError) as exc:
        raise Invalid(f"url cannot be used: {exc}") from None
    except CallFailed as failure:
        raise ProviderFailure(failure.message, retryable=True) from None
    return Answer(answer.status, answer.headers, answer.body, call)


def hidden_of(call: ActionCall) -> list[str]:
    """What a call's outputs and errors are scrubbed of: its credential's data and the credential-like
    headers typed beside it, in its connector's config or its input (redaction.call_secrets)."""
    config, given = call.config, call.input
    return call_secrets(call.secrets, config.get("headers") if isinstance(config, dict) else None,
                        given.get("headers") if isinstance(given, dict) else None)


def fail_unless_ok(answer: Answer, message: str) -> None:
    """Raise the failure a non-2xx answer means: retryable for 408/429/5xx, permanent otherwise.
    `message` is the provider's own explanation, already extracted by the caller."""
    if 200 <= answer.status < 300:
        return
    if 300 <= answer.status < 400:
        message = f"redirect to {answer.headers.get('location', '?')} not followed"
    retryable = is_retryable_status(answer.status)
    raise ProviderFailure(
        f"HTTP {answer.status}: {message}", retryable=retryable, status=answer.status,
        retry_after=answer.retry_after if retryable else None,
    )
