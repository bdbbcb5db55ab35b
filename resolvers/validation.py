"""Client input that fails a pydantic model becomes one Invalid naming each offending field; input no
column can hold (text with NUL, integers past 64 bits) is refused before anything is written."""

from __future__ import annotations

import json
import math
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from app.core.storable import NUL_REFUSED
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


WIDE_REFUSED = "integers must fit in 64 bits"
DEEP_REFUSED = "JSON must not be nested this deeply"
HEADROOM = 16  # levels of nesting kept free for what a stored value is later written inside
DEEPEST = 255 - HEADROOM  # levels a client's JSON may have (orjson writes 255)
_SMALLEST, _LARGEST = -(2**63), 2**64 - 1


def unstorable(value: Any) -> str | None:
    """Why a value cannot be stored and answered as JSON, or None. Text with U+0000 (PostgreSQL
    refuses it) and integers past 64 bits (orjson, which writes every answer, refuses them; a
    GraphQL literal can carry any integer, a JSON body cannot) are refused here, not at the insert.

    orjson writes the value first, in C: it refuses exactly those integers and writes U+0000 as
    `\\u0000`, so a value it writes without that sequence is storable. Anything else (a refusal, the
    sequence, which text with a literal backslash-u0000 also gives) is decided by the walk below,
    which was 4% of a proposal's CPU when it ran on every one."""
    try:
        written = orjson.dumps(value, default=_model_fields)
    except TypeError as exc:  # orjson.JSONEncodeError is one; its recursion limit raises a plain one
        return DEEP_REFUSED if "Recursion limit" in str(exc) else _walked(value)
    if len(written) >= 2 * DEEPEST and _too_deep(value):  # each level writes 2 bytes at least
        return DEEP_REFUSED
    return _walked(value) if b"\\u0000" in written else None


# Every digit read as "0", anything else as " ": a run of 19 digits is then one substring search, 0.7 us
# on a typical proposal against 3 us for the regular expression \d{19} (figure 1's hot path).
_DIGITS_AS_ZEROS = bytes(ord("0") if chr(byte).isdigit() and byte < 128 else ord(" ") for byte in range(256))
_NINETEEN_DIGITS = b"0" * 19  # -2**63 - 1 and 2**64 are the shortest integers orjson cannot keep


def loses_integers(raw: bytes | str) -> bool:
    """Whether `raw`, JSON that orjson has read, holds an integer past 64 bits: orjson reads one as a
    float without a word (2**64 + 1 became 1.8446744073709552e+19, the same as 2**64), where GraphQL
    literals answered WIDE_REFUSED. Only a body with a run of 19 digits or more is read again, by
    Python's json, which keeps every integer as it is written."""
    data = raw.encode() if isinstance(raw, str) else raw
    if _NINETEEN_DIGITS not in data.translate(_DIGITS_AS_ZEROS):
        return False
    try:
        json.loads(data, parse_int=_within_64_bits)
    except ValueError:  # past 64 bits, or more digits than Python converts (4,300)
        return True
    except RecursionError:  # nested past Python's limit: what it holds is not told here
        pass
    return False


def _within_64_bits(text: str) -> int:
    value = int(text)
    if not _SMALLEST <= value <= _LARGEST:
        raise ValueError(WIDE_REFUSED)
    return value


def non_finite(value: Any) -> bool:
    """Whether a parsed value holds a float that is not a number JSON can write (inf, -inf, nan):
    a GraphQL literal such as 1e999 reads as inf, which orjson writes as null."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(non_finite(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(non_finite(item) for item in value)
    return False


def _too_deep(value: Any) -> bool:
    """Whether `value` leaves fewer than HEADROOM of orjson's 255 levels free. A stored value is
    later written nested in an event's envelope, a GraphQL answer or a WebSocket frame: params 252
    levels deep were stored, then failed every write of them (the relay after its commit, while
    other organizations' live events waited; lists on every door; a subscription left unanswered)."""
    for _ in range(HEADROOM):
        value = (value,)
    try:
        orjson.dumps(value, default=_model_fields)
    except TypeError as exc:
        return "Recursion limit" in str(exc)
    return False


def _walked(value: Any) -> str | None:
    try:
        return _walk(value)
    except RecursionError:  # deeper than any JSON document a door accepts (orjson reads 1,024 levels)
        return DEEP_REFUSED


def _model_fields(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return [value.__dict__, value.__pydantic_extra__ or {}]
    raise TypeError  # a type orjson cannot write: the walk decides


def _walk(value: Any) -> str | None:
    if isinstance(value, str):
        return NUL_REFUSED if "\x00" in value else None
    if isinstance(value, int):
        return WIDE_REFUSED if not _SMALLEST <= value <= _LARGEST else None
    if isinstance(value, dict):
        for key, item in value.items():
            if problem := _walk(key) or _walk(item):
                return problem
        return None
    if isinstance(value, list | tuple):
        for item in value:
            if problem := _walk(item):
                return problem
        return None
    if isinstance(value, BaseModel):  # its fields as they are: a model_dump() copy cost a hot-path walk
        return _walk(value.__dict__) or _walk(value.__pydantic_extra__ or {})
    return None


def carried(value: Any) -> Any:
    """`value`, or in its place a marker saying why it cannot be stored nor answered (nested past
    what JSON writes keep, integers past 64 bits). For what a third party answered after it acted: a
    refusal there was a 500 over REST, and a workflow step that crashed on its checkpoint called the
    provider again at every lease, without end."""
    problem = unstorable(value)
    if problem in (DEEP_REFUSED, WIDE_REFUSED):
        return {"truncated": True, "marker": f"[cut: {problem}]"}
    return value


def check_storable(value: Any, what: str) -> None:
    """Invalid (400) naming `what` when `value` cannot be stored (see `unstorable`)."""
    if problem := unstorable(value):
        raise Invalid(f"{what}: {problem}")
