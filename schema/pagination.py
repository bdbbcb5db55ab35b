"""Relay connections built from resolvers' keyset pages, and the arguments every list takes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from resolvers.pagination import Page

T = TypeVar("T")

First = Annotated[int, strawberry.argument(description="How many items to return, 1 to 200.")]
After = Annotated[
    str | None, strawberry.argument(description="The `endCursor` of the page before; left out for the first page.")
]


@strawberry.type(description="Where a page ends and whether more follow.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when another page follows this one.")
    end_cursor: str | None = strawberry.field(
        description="The cursor of the page's last item: pass it as `after` for the next page. Null when empty."
    )


@strawberry.type(description="One item of a page and its cursor.")
class Edge(Generic[T]):
    node: T = strawberry.field(description="The item.")
    cursor: str = strawberry.field(description="The item's position, opaque: pass it as `after` to read on from it.")


@strawberry.type(description="One page of a list, newest first (a Relay connection).")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The page's items, newest first.")
    page_info: PageInfo = strawberry.field(description="Where the page ends and whether more follow.")

    @classmethod
    def from_page(cls, page: Page[Any], convert: Callable[[Any], T]) -> Connection[T]:
        edges = [Edge(node=convert(item), cursor=c) for item, c in zip(page.items, page.cursors, strict=True)]
        end = page.cursors[-1] if page.cursors else None
        return cls(edges=edges, page_info=PageInfo(has_next_page=page.next_cursor is not None, end_cursor=end))
