"""An operation's execution state is freed when it returns, by refcounting: graphql-core's execution
context referred to itself through its resolver helpers, so each operation's state (its context
value among it) waited for the cyclic collector; under figure 2's load that was 3 collections and
0.38 s of pauses in 6 s (schema/execution.py)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from app.core.settings import load_settings
from schema import build_schema


class _ContextValue:
    """Stands in for the request's context: only its lifetime is looked at."""


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def test_an_operation_leaves_nothing_for_the_cyclic_collector(collector_off: None) -> None:
    schema = build_schema(load_settings())
    context = _ContextValue()
    alive = weakref.ref(context)
    result = await schema.execute("query Probe { __typename }", context_value=context)
    assert result.errors is None and result.data == {"__typename": "Query"}
    del context, result
    assert alive() is None, "the operation's context value outlived it: its execution state is a reference cycle"
