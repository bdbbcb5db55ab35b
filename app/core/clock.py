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
    """Parse an ISO-8601 timestamp (a `Z` suffix allowed) into UTC; naive values are taken as UTC.
    ValueError for text that is not one, or names an instant `in_utc` refuses."""
    return in_utc(datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")))


def in_utc(value: datetime) -> datetime:
    """`value` in UTC (naive taken as UTC); ValueError when that instant has no datetime: years 1 to
    9999 hold in any offset, but '9999-12-31T23:59:59-01:00' is in year 10000 in UTC, and the
    database driver, which converts to UTC, failed on it (a 500, a workflow step that crashed its
    runner on every takeover)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time lies outside the years 1 to 9999 in UTC") from None
