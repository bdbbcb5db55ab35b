"""Whether an exception was caused by one of some types, anywhere in its chain.

Tortoise and the app wrap the drivers' errors (`raise ... from`, or raised while handling one), so a
lost connection or a refused NUL sits in `__cause__` or `__context__`, not in the exception caught.
"""

from __future__ import annotations


def caused_by(error: BaseException, types: tuple[type[BaseException], ...]) -> bool:
    """Whether `error` or anything in its cause chain is an instance of `types`."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, types):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
