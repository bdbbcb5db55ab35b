"""HTTP: one `request` action, authenticated from the credential (Bearer, Basic or an API-key header).

A non-2xx answer is a failed action (408/429/5xx retryable), carrying the start of the answer's body.
"""

from __future__ import annotations

import base64
from typing import Any

from app.core.settings import Settings
from app.core.storable import storable_text
from resolvers.connectors.kinds import Action, ActionCall, ConnectorKind, schema
from resolvers.connectors.transport import fail_unless_ok, send
from resolvers.errors import Invalid
from resolvers.webhooks.validation import check_url

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}

REQUEST_INPUT = schema(
    {
        "method": {"type": "string", "enum": METHODS, "default": "GET"},
        "url": {"type": "string", "minLength": 1, "maxLength": 2048,
                "description": "absolute, or relative to the connector's config.baseUrl"},
        "headers": STRINGS,
        "query": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
        "json": {"description": "a JSON body"},
        "text": {"type": "string", "description": "a text body (not with json)"},
    },
    ["url"],
    **{"not": {"required": ["json", "text"]}},
)
REQUEST_OUTPUT = schema(
    {
        "status": {"type": "integer"},
        "headers": STRINGS,
        "body": {"description": "JSON when the answer is JSON, else text"},
    },
    ["status", "headers", "body"],
)
CONFIG = schema({"baseUrl": {"type": "string", "maxLength": 2048}, "headers": STRINGS})


def auth_headers(secrets: dict[str, Any]) -> dict[str, str]:
    """The credential's authentication as headers (requirements.py checked which form it has)."""
    if "token" in secrets:
        return {"Authorization": f"Bearer {secrets['token']}"}
    if "username" in secrets:
        pair = f"{secrets['username']}:{secrets['password']}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
    if "apiKey" in secrets:
        return {str(secrets["header"]): str(secrets["apiKey"])}
    return {}


def target_url(call: ActionCall) -> str:
    url = str(call.input["url"])
    if url.startswith(("http://", "https://")):
        return url
    base = call.config.get("baseUrl")
    if not base:
        raise Invalid("input.url must be absolute (http:// or https://) unless the connector sets config.baseUrl")
    return str(base).rstrip("/") + "/" + url.lstrip("/")


async def request(call: ActionCall) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if "json" in call.input:
        body["json"] = call.input["json"]
    elif "text" in call.input:
        body["content"] = str(call.input["text"]).encode()
    headers = {**call.config.get("headers", {}), **call.input.get("headers", {}), **auth_headers(call.secrets)}
    answer = await send(call, call.input.get("method", "GET"), target_url(call), headers=headers,
                        params={k: str(v).lower() if isinstance(v, bool) else str(v)
                                for k, v in call.input.get("query", {}).items()},
                        **body)
    fail_unless_ok(answer, answer.text())
    parsed = answer.json() if "json" in answer.headers.get("content-type", "") else None
    return {
        "status": answer.status,
        "headers": dict(answer.headers),
        "body": parsed if parsed is not None else storable_text(answer.body.decode("utf-8", "replace")),
    }


async def check_base_url(config: dict[str, Any], settings: Settings) -> None:
    """A configured base URL goes through the outgoing-URL guard now, and again at each call."""
    if config.get("baseUrl"):
        try:
            await check_url(str(config["baseUrl"]), settings)
        except Invalid as exc:
            raise Invalid(f"config.baseUrl: {exc.message}") from None


KIND = ConnectorKind(
    type="http",
    name="HTTP",
    description="Call any HTTP API, authenticated with a Bearer token, Basic auth or an API-key header",
    credential_type="custom",
    credential_required=False,
    required_fields=(),
    config_schema=CONFIG,
    check_config=check_base_url,
    actions={
        "request": Action("request", "Make an authenticated HTTP request", REQUEST_INPUT, REQUEST_OUTPUT, request),
    },
)
