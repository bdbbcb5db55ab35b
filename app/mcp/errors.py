"""What an MCP caller reads when a resolver fails: `CODE: message`, as REST and GraphQL name it.

The SDK turns any exception a tool raises into the generic "Error executing tool ..." (and logs a
crash), so a domain error or a lost database would reach the agent as a bug it cannot act on. Here
a domain error keeps its code and message, and an outage (PostgreSQL or Redis unreachable: see
app/core/outages.py) reads `SERVICE_UNAVAILABLE: ... retry shortly`, the same words REST answers
with its 503: the model sees that trying again will work. Text storage cannot hold (a NUL, a value
longer than its column) reads VALIDATION_ERROR, as the other doors answer it. Anything else stays
a crash. Where the answer is a JSON-RPC error (a resource read, the gateway's tools/list) rather
than a tool error, the caller's own mistakes are INVALID_PARAMS (`by_caller`).
"""

from __future__ import annotations

from app.core.outages import UNAVAILABLE_MESSAGE, is_outage
from app.core.storable import storage_refusal
from app.errors import STATUS_BY_CODE
from app.logs import get_logger
from resolvers.errors import DomainError

_log = get_logger("gatehouse.mcp")


def readable(error: BaseException) -> str | None:
    """`CODE: message` for a domain error or an outage (logged as a warning), None for a crash."""
    if isinstance(error, DomainError):
        return f"{error.code}: {error.message}"
    refusal = storage_refusal(error)
    if refusal is not None:  # the client's text, where a check was missed (as REST)
        _log.warning("refused a value storage cannot hold during an MCP call", refusal=refusal)
        return f"VALIDATION_ERROR: {refusal}"
    if is_outage(error):
        _log.warning("backing service unavailable during an MCP call", error=f"{type(error).__name__}: {error}"[:300])
        return f"SERVICE_UNAVAILABLE: {UNAVAILABLE_MESSAGE}"
    return None


def by_caller(error: DomainError) -> bool:
    """Whether a domain error is the caller's own doing (REST answers it 4xx: no such server or action,
    a key without the scope, ...). A JSON-RPC error answering it is INVALID_PARAMS, as the SDK names a
    request it refuses; INTERNAL_ERROR, the analogue of a 500, is for what failed on our side."""
    return STATUS_BY_CODE.get(error.code, 500) < 500
