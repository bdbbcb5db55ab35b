"""What a client may send to register or change an agent, validated once for REST and GraphQL."""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

STATUSES: Final = ("active", "idle", "error", "disabled")
Status = Literal["active", "idle", "error", "disabled"]
MAX_PER_MINUTE: Final = 1_000_000


class AgentConfigIn(BaseModel):
    """The SDK's `AgentConfig`: where the agent may be called back (kept, never called by Gatehouse)."""

    model_config = ConfigDict(extra="forbid")
    webhookUrl: str | None = Field(None, max_length=2000)

    @field_validator("webhookUrl")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value


class AgentIn(BaseModel):
    """A new agent (the SDK's `CreateAgentInput`) plus an optional per-minute proposal cap."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    config: AgentConfigIn | None = None
    proposalsPerMinute: int | None = Field(None, ge=1, le=MAX_PER_MINUTE)


class AgentPatch(BaseModel):
    """A change (the SDK's `UpdateAgentInput`): only the fields given are replaced."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    status: Status | None = None
    config: AgentConfigIn | None = None
    proposalsPerMinute: int | None = Field(None, ge=1, le=MAX_PER_MINUTE)

    def changes(self) -> dict[str, Any]:
        """The fields the client sent (an explicit null clears description and the cap)."""
        return {name: getattr(self, name) for name in self.model_fields_set}
