"""custom_api: the customer's own action endpoints (document 000: Delete, Ban, Escalate ...).

The instance's config names each endpoint; running one POSTs exactly
`{"content": {"id", "content_type"}, "custom": {...}}` with the credential's headers, where
`custom` is the configured parameters overlaid with the call's own (left out when empty), and an
`Idempotency-Key` header (a workflow step's stays the same across retries). The
customer's answer comes back as the output; the header values never do (the runner scrubs every
credential string from outputs and errors).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from app.core.settings import Settings
from resolvers.connectors.kinds import Action, ActionCall, ConnectorKind, schema
from resolvers.connectors.transport import fail_unless_ok, send
from resolvers.errors import Invalid
from resolvers.webhooks.validation import check_url

ACTION_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"}
ENDPOINT = schema(
    {
        "url": {"type": "string", "minLength": 1, "maxLength": 2048},
        "method": {"type": "string", "enum": ["POST", "PUT", "PATCH", "DELETE"], "default": "POST"},
        "custom": {"type": "object"},
        "description": {"type": "string", "maxLength": 500},
    },
    ["url"],
)
CONFIG = schema(
    {"actions": {"type": "object", "propertyNames": ACTION_NAME, "additionalProperties": ENDPOINT,
                 "minProperties": 1, "maxProperties": 50}},
    ["actions"],
)
INPUT = schema(
    {
        "content": schema(
            {"id": {"type": "string", "minLength": 1, "maxLength": 500},
             "content_type": {"type": "string", "minLength": 1, "maxLength": 500}},
            ["id", "content_type"],
        ),
        "custom": {"type": "object", "description": "overrides the endpoint's configured custom parameters"},
    },
    ["content"],
)
OUTPUT = schema(
    {"status": {"type": "integer"}, "body": {"description": "the customer's answer: JSON, or text"}},
    ["status", "body"],
)


def request_body(endpoint: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Document 000's body: content as given, custom = configured parameters + the call's."""
    custom = {**endpoint.get("custom", {}), **given.get("custom", {})}
    content = given["content"]
    body: dict[str, Any] = {"content": {"id": content["id"], "content_type": content["content_type"]}}
    if custom:
        body["custom"] = custom
    return body


async def call_endpoint(name: str, call: ActionCall) -> dict[str, Any]:
    endpoint = call.config["actions"][name]
    headers = {"Idempotency-Key": call.idempotency_key, **call.secrets.get("headers", {})}
    answer = await send(call, endpoint.get("method", "POST"), endpoint["url"], headers=headers,
                        json=request_body(endpoint, call.input))
    fail_unless_ok(answer, answer.text())
    parsed = answer.json()
    return {"status": answer.status, "body": parsed if parsed is not None else answer.text(4000)}


def instance_actions(config: dict[str, Any]) -> dict[str, Action]:
    """One action per configured endpoint, all with document 000's input."""
    return {
        name: Action(name, endpoint.get("description") or f"{endpoint.get('method', 'POST')} the {name} endpoint",
                     INPUT, OUTPUT, partial(call_endpoint, name))
        for name, endpoint in config.get("actions", {}).items()
    }


async def check_endpoints(config: dict[str, Any], settings: Settings) -> None:
    """Every endpoint URL through the outgoing-URL guard, now (and again at each call)."""
    for name, endpoint in config["actions"].items():
        try:
            await check_url(endpoint["url"], settings)
        except Invalid as exc:
            raise Invalid(f"config.actions.{name}.{exc.message}") from None


KIND = ConnectorKind(
    type="custom_api",
    name="Custom action API",
    description="Call your own action endpoints (Delete, Ban, Escalate ...) with custom auth headers",
    credential_type="custom",
    credential_required=True,
    required_fields=("headers",),
    config_schema=CONFIG,
    instance_actions=instance_actions,
    check_config=check_endpoints,
)
