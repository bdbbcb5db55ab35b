"""How a provider call failed, classed for callers that retry (the workflow runner).

- permanent: the provider understood and refused (a 4xx other than 408/429, Slack's `ok: false`,
  a Stripe card error, an SMTP 5xx); the message is the provider's own.
- retryable: 408, 429, 5xx, timeouts and network errors; `retry_after` carries what the provider
  asked for (`Retry-After`, Discord's `retry_after`), in seconds.
"""

from __future__ import annotations

from resolvers.webhooks.policy import retry_after_seconds

__all__ = ["ProviderFailure", "is_retryable_status", "retry_after_seconds"]
RETRYABLE_STATUSES = frozenset({408, 429})
MESSAGE_LIMIT = 1000  # what a caller reads and the call log keeps
HELD_CHARACTERS = 64_000  # a provider's explanation as given, until it is scrubbed


class ProviderFailure(Exception):
    def __init__(
        self, message: str, *, retryable: bool, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message[:HELD_CHARACTERS]  # cut to MESSAGE_LIMIT once scrubbed (redaction.scrub_then_cut)
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES or status >= 500
