"""Whether an exception was caused by one of some types, anywhere in its chain; what a task group
raised, unwrapped.

Tortoise and the app wrap the drivers' errors (`raise ... from`, or raised while handling one), so a
lost connection or a refused NUL sits in `__cause__` or `__context__`, not in the exception caught.
"""

from __future__ import annotations

from collections.abc import Iterator


def caused_by(error: BaseException, types: tuple[type[BaseException], ...]) -> bool:
    """Whether `error` or anything in its cause chain is an instance of `types`."""
    return any(isinstance(cause, types) for cause in chain_of(error))


def chain_of(error: BaseException) -> Iterator[BaseException]:
    """`error`, then what caused it, and so on (each once)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        yield current
        seen.add(id(current))
        current = current.__cause__ or current.__context__


def first_leaf(error: BaseException) -> BaseException:
    """The first exception inside nested exception groups (task groups wrap what their tasks raise),
    or `error` itself."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error
