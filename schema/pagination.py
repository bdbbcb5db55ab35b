"""Relay connections built from resolvers' keyset pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from resolvers.pagination import Page

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[Any], convert: Callable[[Any], T]) -> Connection[T]:
        edges = [Edge(node=convert(item), cursor=c) for item, c in zip(page.items, page.cursors, strict=True)]
        end = page.cursors[-1] if page.cursors else None
        return cls(edges=edges, page_info=PageInfo(has_next_page=page.next_cursor is not None, end_cursor=end))
