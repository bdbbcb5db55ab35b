"""The one mapping from domain error codes to HTTP statuses and the documented error body."""

from __future__ import annotations

import math
from typing import Any

import orjson
from starlette.responses import Response

from resolvers.errors import DomainError, RateLimited, UpstreamFailed

STATUS_BY_CODE: dict[str, int] = {
    "BAD_REQUEST": 400,
    "VALIDATION_ERROR": 400,
    "UNAUTHORIZED": 401,
    "USAGE_LIMIT_EXCEEDED": 402,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "CONFLICT": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "RATE_LIMITED": 429,
    "INTERNAL": 500,
    "CONNECTOR_FAILED": 502,
    "SERVICE_UNAVAILABLE": 503,
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> bytes:
    """`{"error": CODE, "message": ...}` as documents 001 and 002 promise, plus the error's own
    fields where it has some (a connector failure: `retryable`, `callId`, ...)."""
    return orjson.dumps({"error": code, "message": message, **(details or {})})


def error_response(
    code: str, message: str, headers: dict[str, str] | None = None, details: dict[str, Any] | None = None
) -> Response:
    status = STATUS_BY_CODE.get(code, 500)
    return Response(error_body(code, message, details), status, headers=headers, media_type="application/json")


def domain_error_response(err: DomainError) -> Response:
    """The REST answer for a domain error, with Retry-After where it applies."""
    headers = None
    if isinstance(err, RateLimited):
        headers = {**err.headers, "Retry-After": str(err.retry_after)}
    elif isinstance(err, UpstreamFailed) and err.retryable and err.retry_after is not None:
        headers = {"Retry-After": str(math.ceil(err.retry_after))}
    return error_response(err.code, err.message, headers, err.details if err.expose_details else None)
