"""HTTP: one `request` action, authenticated from the credential (Bearer, Basic or an API-key header).

A non-2xx answer is a failed action (408/429/5xx retryable), carrying the start of the answer's body.
"""

from __future__ import annotations

from typing import Any

from app.core.settings import Settings
from app.core.storable import storable_text
from resolvers.connectors.kinds import Action, ActionCall, ConnectorKind, schema
from resolvers.connectors.redaction import basic_token
from resolvers.connectors.transport import fail_unless_ok, send
from resolvers.credentials.requirements import MAX_SECRET_HEADER
from resolvers.errors import Invalid
from resolvers.webhooks.validation import check_url, header_name_ok, header_value_ok

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
    if "username" in secrets:  # the token redaction hides (secret_strings)
        return {"Authorization": "Basic " + basic_token(str(secrets["username"]), str(secrets["password"]))}
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


def check_headers(headers: dict[str, Any], field: str) -> None:
    """Names that are HTTP tokens and values sent as they are (printable ASCII, no line break):
    anything else was refused only by the HTTP client, and the 400 then blamed the URL."""
    for name, value in headers.items():
        if not header_name_ok(name):
            raise Invalid(f"{field}: {name[:80]!r} is not an HTTP header name (letters, digits and "
                          "!#$%&'*+-.^_`|~)")
        if not header_value_ok(value, MAX_SECRET_HEADER):
            raise Invalid(f"{field}.{name}: a header value is at most {MAX_SECRET_HEADER} printable ASCII "
                          "characters, without line breaks")


async def request(call: ActionCall) -> dict[str, Any]:
    check_headers(call.config.get("headers", {}), "config.headers")  # stored before it was checked
    check_headers(call.input.get("headers", {}), "input.headers")
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


async def check_config(config: dict[str, Any], settings: Settings) -> None:
    """Headers every call sends must be sendable; a configured base URL goes through the
    outgoing-URL guard now, and again at each call."""
    check_headers(config.get("headers") or {}, "config.headers")
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
    check_config=check_config,
    actions={
        "request": Action("request", "Make an authenticated HTTP request", REQUEST_INPUT, REQUEST_OUTPUT, request),
    },
)
