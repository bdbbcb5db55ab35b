"""What a client may send to the governance resolvers, validated once for REST and GraphQL alike.

Both transports hand the resolvers plain JSON-like values; these models turn them into checked
objects or raise ``Invalid`` naming the offending field, before anything is written.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

from resolvers.errors import Invalid
from resolvers.validation import validate

M = TypeVar("M", bound=BaseModel)
Text = Field(None, max_length=200)


class ActorIn(BaseModel):
    """Who proposes: ``kind`` (agent, human, system ...) is required, the rest optional."""

    model_config = ConfigDict(extra="forbid")
    kind: str = Field(min_length=1, max_length=100)
    name: str | None = Text
    provider: str | None = Text


class ProposalIn(BaseModel):
    """A proposed action as document 001 shows it, plus what the public SDK adds (``id``,
    ``timestamp``, ``agentId``) and an optional ``idempotencyKey``."""

    model_config = ConfigDict(extra="forbid")
    type: str = Field(min_length=1, max_length=200)
    actor: ActorIn
    target: str | None = Field(None, max_length=10_000)
    params: dict[str, Any] | None = None
    id: str | None = Field(None, min_length=1, max_length=200)
    timestamp: str | None = Field(None, max_length=64)
    agentId: str | None = Text
    idempotencyKey: str | None = Field(None, min_length=1, max_length=255)
    metadata: dict[str, Any] | None = None  # the caller's own context, echoed in every event of the action

    def fingerprint(self) -> str:
        """What must be equal for a retry to count as the same proposal (not id or timestamp)."""
        body = {"type": self.type, "actor": self.actor.model_dump(), "target": self.target,
                "params": self.params or {}, "agentId": self.agentId}
        return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


class CheckIn(BaseModel):
    """One evidence check; the wire calls the verdict ``pass``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str = Field(min_length=1, max_length=200)
    passed: bool = Field(alias="pass", strict=True)
    note: str | None = Field(None, max_length=10_000)
    meta: dict[str, Any] | None = None
    approver: str | None = Text


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    checks: list[CheckIn] = Field(min_length=1, max_length=100)
    timestamp: str | None = Field(None, max_length=64)


class PolicyIn(BaseModel):
    """A new policy; ``name`` may be left out (the public SDK sends nameless policies)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    mode: Literal["enforce", "observe"] = "enforce"
    status: Literal["active", "archived"] = "active"
    rules: list[Any] = Field(max_length=500)
    notify: list[Any] | None = None  # connectors told about matching actions (resolvers/notifications/targets.py)


class PolicyPatch(BaseModel):
    """A change to a policy: only the fields given are replaced."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    mode: Literal["enforce", "observe"] | None = None
    status: Literal["active", "archived"] | None = None
    rules: list[Any] | None = Field(None, max_length=500)
    notify: list[Any] | None = None


MAX_METADATA_BYTES = 16_384


def checked_metadata(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A proposal's `metadata` (echoed in every event of the action), at most 16 KiB as JSON."""
    if value is not None and len(orjson.dumps(value)) > MAX_METADATA_BYTES:
        raise Invalid(f"metadata: must be at most {MAX_METADATA_BYTES} bytes as JSON")
    return value


NUL_REFUSED = "text must not contain NUL (U+0000) characters"
WIDE_REFUSED = "integers must fit in 64 bits"
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
    except orjson.JSONEncodeError:
        return _walk(value)
    return _walk(value) if b"\\u0000" in written else None


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


def parse(model: type[M], data: Any) -> M:
    """Validate client data into `model`, or raise Invalid naming each offending field."""
    if problem := unstorable(data):
        raise Invalid(problem)
    if isinstance(data, model):
        return data
    return validate(model, data)
