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
from resolvers.validation import unstorable, validate

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




def parse(model: type[M], data: Any) -> M:
    """Validate client data into `model`, or raise Invalid naming each offending field."""
    if problem := unstorable(data):
        raise Invalid(problem)
    if isinstance(data, model):
        return data
    return validate(model, data)
