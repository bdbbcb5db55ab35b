"""List answers: a JSON array as the documents show, the next page's cursor in headers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from app.rest.routing import json_response


class ListQuery(BaseModel):
    """`limit` (1-200, default 50) and an opaque `cursor` from a previous page."""

    model_config = ConfigDict(extra="ignore")
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = None


def list_response(
    request: Request, items: Iterable[Any], next_cursor: str | None, serialise: Callable[[Any], Any]
) -> Response:
    """The page as an array; `X-Next-Cursor` and a `Link: rel="next"` header when more remain."""
    response = json_response([serialise(item) for item in items], 200)
    if next_cursor:
        response.headers["X-Next-Cursor"] = next_cursor
        next_url = request.url.include_query_params(cursor=next_cursor)
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response
