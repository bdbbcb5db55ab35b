"""Keyset pagination with opaque cursors, shared by REST lists and GraphQL connections."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

import orjson
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from app.core.clock import parse_timestamp
from resolvers.errors import Invalid

T = TypeVar("T", bound=Model)
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(slots=True)
class Page(Generic[T]):
    """One page of rows, newest first, and the cursor of the next page (None at the end)."""

    items: list[T]
    cursors: list[str]
    next_cursor: str | None


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def encode_cursor(created_at: datetime, row_id: str) -> str:
    """The row's exact position: its time to the microsecond, as stored. (The wire format's
    milliseconds lost every row made later in the same millisecond than a page's last one.)"""
    exact = created_at.astimezone(UTC) if created_at.tzinfo else created_at.replace(tzinfo=UTC)
    raw = orjson.dumps([exact.isoformat(timespec="microseconds"), row_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, row_id = orjson.loads(raw)
        if "\x00" in str(row_id):
            raise ValueError("NUL in cursor")
        return parse_timestamp(str(stamp)), str(row_id)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise Invalid("cursor is not valid") from None


async def paginate(query: QuerySet[T], limit: int | None, cursor: str | None) -> Page[T]:
    """Newest-first keyset page over (created_at, id); stable under concurrent inserts."""
    size = check_limit(limit)
    if cursor:
        stamp, row_id = decode_cursor(cursor)
        longest: int | None = getattr(query.model._meta.fields_map["id"], "max_length", None)
        if longest is not None and len(row_id) > longest:
            raise Invalid("cursor is not valid")  # no row has that id; filtering by it failed on the column
        query = query.filter(Q(created_at__lt=stamp) | Q(created_at=stamp, id__lt=row_id))
    rows = await query.order_by("-created_at", "-id").limit(size + 1)
    items = rows[:size]
    cursors = [encode_cursor(r.created_at, r.id) for r in items]  # type: ignore[attr-defined]
    return Page(items, cursors, cursors[-1] if len(rows) > size else None)
