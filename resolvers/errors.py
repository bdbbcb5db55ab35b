"""Domain errors: what went wrong, in the service's words, independent of transport.

    DomainError                      code
    ├── BadRequest                   BAD_REQUEST           malformed input (not JSON, wrong shape)
    ├── Invalid                      VALIDATION_ERROR      well-formed but breaks a rule
    ├── PayloadTooLarge              PAYLOAD_TOO_LARGE     body over the configured limit
    ├── Unauthorized                 UNAUTHORIZED          no key, bad key, revoked key
    ├── QuotaExceeded                USAGE_LIMIT_EXCEEDED  plan's monthly quota used up
    ├── Forbidden                    FORBIDDEN             the key lacks the scope
    ├── NotFound                     NOT_FOUND             absent, or another organization's
    ├── Conflict                     CONFLICT              state does not allow it
    ├── RateLimited                  RATE_LIMITED          too many requests for this key
    └── UpstreamFailed               CONNECTOR_FAILED      a provider refused or failed a connector call

Each transport maps `code` to its own shape once (app/rest/errors.py, app/graphql.py).
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every error a resolver raises on purpose."""

    code: ClassVar[str] = "INTERNAL"
    expose_details: ClassVar[bool] = False  # details go into the error body / GraphQL extensions

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class BadRequest(DomainError):
    code = "BAD_REQUEST"


class Invalid(DomainError):
    code = "VALIDATION_ERROR"


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"


class Unauthorized(DomainError):
    code = "UNAUTHORIZED"


class QuotaExceeded(DomainError):
    code = "USAGE_LIMIT_EXCEEDED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    code = "CONFLICT"


class RateLimited(DomainError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(message, details={"retryAfter": retry_after})
        self.retry_after = retry_after
        self.headers = headers or {}  # the budget that ran out (X-RateLimit-*), when not the key's own


class UpstreamFailed(DomainError):
    """A connector's provider answered with a failure or could not be reached. `retryable` says
    whether the same call may succeed later (429, 5xx, network), `retryAfter` how soon."""

    code = "CONNECTOR_FAILED"
    expose_details = True

    def __init__(
        self, message: str, *, retryable: bool, call_id: str, provider_status: int | None, retry_after: float | None
    ) -> None:
        details = {"retryable": retryable, "callId": call_id, "providerStatus": provider_status,
                   "retryAfter": retry_after}
        super().__init__(message, details=details)
        self.retryable = retryable
        self.retry_after = retry_after
