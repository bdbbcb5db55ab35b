"""What a connector type is made of: its actions, their JSON Schemas and the code that runs them.

A provider module (resolvers/connectors/providers/) builds one `ConnectorKind`. Running an action
gets an `ActionCall`: the input already validated against the action's `inputSchema`, the
credential's data already decrypted, and the guarded HTTP client. It returns the output (a JSON
object) or raises `ProviderFailure` (resolvers/connectors/failures.py); input it cannot use is an
`Invalid` raised before anything is sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.core.senders import OutgoingClient
from app.core.settings import Settings

JSON = dict[str, Any]


@dataclass(slots=True)
class ActionCall:
    """Everything one run of one action may use."""

    input: JSON
    secrets: JSON  # the credential's data; {} for a connector without a credential
    config: JSON  # the connector instance's config
    settings: Settings
    http: OutgoingClient  # guarded: app.core.senders
    idempotency_key: str  # given by the caller (workflows keep it across retries), else fresh
    timeout: float


Run = Callable[[ActionCall], Awaitable[JSON]]


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    description: str
    input_schema: JSON
    output_schema: JSON
    run: Run


@dataclass(frozen=True, slots=True)
class ConnectorKind:
    """A connector type of the catalogue (`slack`, `smtp`, ...).

    `credential_provider` is the `provider` a credential must name to be used by this type;
    `config_schema` validates an instance's `config`; `instance_actions`, when set, derives the
    actions of one instance from its config (custom_api: one action per configured endpoint);
    `check_config` runs further checks that need I/O or settings (URLs through the guard).
    """

    type: str
    name: str
    description: str
    credential_type: str
    credential_required: bool
    required_fields: tuple[str, ...]
    config_schema: JSON
    actions: Mapping[str, Action] = field(default_factory=dict)
    instance_actions: Callable[[JSON], Mapping[str, Action]] | None = None
    check_config: Callable[[JSON, Settings], Awaitable[None]] | None = None

    @property
    def credential_provider(self) -> str:
        return self.type

    def actions_of(self, config: JSON) -> Mapping[str, Action]:
        """The actions an instance with this config offers."""
        return self.instance_actions(config) if self.instance_actions else self.actions


def schema(properties: JSON, required: list[str] | tuple[str, ...] = (), **extra: Any) -> JSON:
    """A JSON Schema object (draft 2020-12) with no properties beyond those listed."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }
