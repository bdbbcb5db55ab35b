"""The GraphQL execution context, without the reference cycle graphql-core gives each one.

graphql-core's ExecutionContext keeps `async_helpers`, a tuple of two of its own bound methods,
so every operation's context is a cycle: refcounting never frees it, and it holds the request's
whole execution state (its Context, the collected fields, the coerced variables: about 60 objects
per proposeAction) until the cyclic collector runs. Measured on the server under figure 2's load,
those objects were all the garbage the collector found, and its collections 3% of a request's CPU
(py-spy --native). Holding the two methods weakly breaks the cycle, so an operation's state is
freed when it returns, as a REST request's is.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class AcyclicExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context whose resolver helpers refer back to it weakly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = GraphQLResolveInfoHelpers(
            gather=_weakly(self.gather_async_work), track=_weakly(self.track_async_work))


def _weakly(method: Callable[..., Any]) -> Callable[..., Any]:
    """`method`, called through a weak reference to its object (alive while its operation runs)."""
    ref = weakref.WeakMethod(method)  # type: ignore[arg-type]

    def call(*args: Any, **kwargs: Any) -> Any:
        bound = ref()
        if bound is None:
            raise RuntimeError("this GraphQL operation has already finished")
        return bound(*args, **kwargs)

    return call
