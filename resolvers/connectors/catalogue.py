"""The catalogue: every connector type Gatehouse can run, described with its actions' JSON Schemas."""

from __future__ import annotations

from typing import Any

from resolvers.connectors.kinds import Action, ConnectorKind
from resolvers.connectors.providers import custom_api, discord, http, slack, smtp, stripe
from resolvers.errors import Invalid

KINDS: dict[str, ConnectorKind] = {
    kind.type: kind for kind in (slack.KIND, smtp.KIND, stripe.KIND, discord.KIND, http.KIND, custom_api.KIND)
}


def kind_of(connector_type: str) -> ConnectorKind:
    kind = KINDS.get(connector_type)
    if kind is None:
        raise Invalid(f"type must be one of: {', '.join(KINDS)}")
    return kind


def describe_action(action: Action) -> dict[str, Any]:
    return {
        "name": action.name, "description": action.description,
        "inputSchema": action.input_schema, "outputSchema": action.output_schema,
    }


def describe_kind(kind: ConnectorKind) -> dict[str, Any]:
    """A catalogue entry as document 002 shows it, plus what a credential and a config need."""
    return {
        "type": kind.type, "name": kind.name, "description": kind.description,
        "credentialType": kind.credential_type, "credentialProvider": kind.credential_provider,
        "credentialRequired": kind.credential_required, "requiredFields": list(kind.required_fields),
        "configSchema": kind.config_schema,
        "actions": [describe_action(action) for action in kind.actions.values()],
    }


def catalogue() -> list[dict[str, Any]]:
    """Every type (no scope needed beyond a valid key: it describes Gatehouse, not the tenant)."""
    return [describe_kind(kind) for kind in KINDS.values()]
