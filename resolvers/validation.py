"""Client input that fails a pydantic model becomes one Invalid naming each offending field."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from resolvers.errors import Invalid

M = TypeVar("M", bound=BaseModel)


def describe(exc: ValidationError) -> str:
    """One readable line: `field.path: problem` for the first few problems."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:5])


def check_name(name: str, what: str = "name") -> str:
    """A display name: trimmed, 1 to 200 characters, no NUL (PostgreSQL text cannot hold one)."""
    name = name.strip()
    if not name or len(name) > 200 or "\x00" in name:
        raise Invalid(f"{what} must be 1 to 200 characters, without NUL")
    return name


def validate(model: type[M], data: Any) -> M:
    """`model` from `data`, or Invalid (400) describing what is wrong."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(describe(exc)) from None
