"""What other systems answer, made storable: PostgreSQL refuses U+0000 in text and in jsonb.

A webhook receiver, a connector's provider, a workflow step's endpoint or an upstream MCP server
may answer text or JSON holding a NUL character. Recording that answer as it came made the insert
fail, and the work was retried, or stuck, forever. Clients are refused such text
(resolvers/validation.py `unstorable`); a third party's answer is recorded with each NUL
replaced by U+FFFD, the replacement character. An integer beyond 64 bits (which the MCP SDK reads
from an upstream as it is, and orjson cannot write) becomes the nearest float, as orjson reads such
a number in every other answer; one beyond any float becomes null, as `1e999` does.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg
from tortoise.exceptions import ValidationError

from app.core.causes import caused_by, chain_of, first_leaf

NUL, REPLACEMENT = "\x00", "\ufffd"
INT_RANGE = range(-(2**63), 2**64)  # what orjson writes: int64 and uint64
NUL_REFUSED = "text must not contain NUL (U+0000) characters"
LENGTH_REFUSED = "a value is longer than its field can hold"
_TOO_LONG = re.compile(r"(\w+: )?Length of ")  # Tortoise's MaxLengthValidator, prefixed with the field's name
# What PostgreSQL raises for NUL: in jsonb ("\u0000 cannot be converted to text"), in text (0x00).
_REFUSED_NUL = (asyncpg.exceptions.UntranslatableCharacterError, asyncpg.exceptions.CharacterNotInRepertoireError)


def storable_text(text: str) -> str:
    """`text` with every NUL replaced."""
    return text.replace(NUL, REPLACEMENT) if NUL in text else text


def storable_json(value: Any) -> Any:
    """A JSON value (dicts, lists, scalars) with every NUL in its strings and keys replaced, and
    every integer orjson cannot write made a float."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(key) if isinstance(key, str) else key: storable_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(item) for item in value]
    if isinstance(value, int) and value not in INT_RANGE:
        return _float_or_none(value)
    return value


def _float_or_none(value: int) -> float | None:
    try:
        return float(value)
    except OverflowError:
        return None


def refused_nul(error: BaseException) -> bool:
    """Whether PostgreSQL refused `error`'s statement for a NUL it was given (in the cause chain:
    Tortoise wraps the driver's errors). The doors answer it 400, never 500: it is the client's text,
    where a check before the write was missed."""
    return caused_by(error, _REFUSED_NUL)


def refused_length(error: BaseException) -> bool:
    """Whether `error` is a value longer than its column, refused by Tortoise's length check (when a
    query filters by it or a row is saved) or by PostgreSQL (raw statements). Like `refused_nul`,
    the doors answer it 400: it is the client's text where a check was missed (a probe found four:
    a cursor's id, audit and call-log filters, reviewer group members), and the warning logged
    says where."""
    return any(isinstance(cause, asyncpg.exceptions.StringDataRightTruncationError)
               or (isinstance(cause, ValidationError) and _TOO_LONG.match(str(cause)) is not None)
               for cause in chain_of(first_leaf(error)))


def storage_refusal(error: BaseException) -> str | None:
    """What the doors answer (400 VALIDATION_ERROR) when storage refused the client's value in
    `error`: NUL_REFUSED, LENGTH_REFUSED, or None when it is something else."""
    if refused_nul(error):
        return NUL_REFUSED
    return LENGTH_REFUSED if refused_length(error) else None
