"""Time in one place, so rules that depend on it (expiry, windows) can be tested."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def isoformat_z(value: datetime | None) -> str | None:
    """ISO-8601 UTC with a trailing `Z`, the wire format for every timestamp."""
    if value is None:
        return None
    if value.tzinfo is not UTC:  # rows read back are UTC already: no conversion on that path
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds")[:-6] + "Z"  # without "+00:00"


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO-8601 timestamp (a `Z` suffix allowed); naive values are taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
