"""The Context every resolver receives, built the same way by REST, GraphQL and workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.core.bus import Bus
from app.core.crypto import Keyring
from app.core.senders import OutgoingClient
from app.core.settings import Settings


@dataclass(slots=True)
class Services:
    """Process-wide collaborators, opened once in the app's lifespan."""

    settings: Settings
    bus: Bus
    http: OutgoingClient  # connector calls and http_request steps, behind the outgoing-URL guard
    keyring: Keyring | None = None  # seals credentials; every server and worker process opens one
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Context:
    """Who is calling (organization, key, scopes) and with what services."""

    organization_id: str
    plan: str
    key_id: str | None
    scopes: frozenset[str]
    request_id: str
    services: Services
    agent_id: str | None = None  # the agent the API key is bound to: it proposes as that agent only
    client_address: str | None = None  # the caller's address, for the audit trail

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def bus(self) -> Bus:
        return self.services.bus
