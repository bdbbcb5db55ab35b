"""GET /api/v1/openapi: an OpenAPI 3.1 document generated from the registered endpoints."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import Response

from app.errors import STATUS_BY_CODE
from app.rest.routing import ENDPOINTS, Endpoint, json_response

REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"{(\w+)}")
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "enum": sorted(STATUS_BY_CODE)},
        "message": {"type": "string"},
        "retryable": {"type": "boolean", "description": "CONNECTOR_FAILED: whether the same call may succeed later"},
        "callId": {"type": "string", "description": "CONNECTOR_FAILED: the call log entry"},
        "providerStatus": {"type": ["integer", "null"], "description": "CONNECTOR_FAILED: the provider's status"},
        "retryAfter": {"type": ["number", "null"], "description": "CONNECTOR_FAILED: seconds the provider asked"},
    },
}
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer sk_..."},
    "apaaiKey": {"type": "apiKey", "in": "header", "name": "x-apaaikey"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
}


def _models() -> list[type[BaseModel]]:
    seen: dict[str, type[BaseModel]] = {}
    for ep in ENDPOINTS:
        for model in (ep.body, ep.response):
            if isinstance(model, type) and issubclass(model, BaseModel):
                seen[model.__name__] = model
    return list(seen.values())


def _schema_of(value: Any, components: dict[str, Any]) -> dict[str, Any]:
    if value is None:
        return {"type": "object"}
    if isinstance(value, type) and issubclass(value, BaseModel):
        return {"$ref": REF.format(model=value.__name__)}
    schema = TypeAdapter(value).json_schema(ref_template=REF)
    components.update(schema.pop("$defs", {}))
    return schema


def _parameters(ep: Endpoint, path: str) -> list[dict[str, Any]]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(path)
    ]
    if ep.query is not None:
        schema = ep.query.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    return params


def _operation(ep: Endpoint, path: str, components: dict[str, Any]) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": "Success"}
    if ep.status != 204:
        ok["content"] = {"application/json": {"schema": _schema_of(ep.response, components)}}
    responses: dict[str, Any] = {str(ep.status): ok}
    for status in ("400", "401", "403", "404", "429", *(str(code) for code in ep.errors)):
        responses[status] = {"$ref": "#/components/responses/Error"}
    op: dict[str, Any] = {
        "summary": ep.summary,
        "tags": ep.tags,
        "operationId": f"{ep.method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', path).strip('_')}",
        "parameters": _parameters(ep, path),
        "responses": responses,
        "security": [{"bearer": []}, {"apaaiKey": []}, {"apiKey": []}],
    }
    if ep.body is not None:
        op["requestBody"] = {
            "required": ep.method in ("POST", "PUT"),
            "content": {"application/json": {"schema": _schema_of(ep.body, components)}},
        }
    return op


@cache
def build_openapi(version: str) -> dict[str, Any]:
    """The whole document; cached, since routes do not change while the process runs."""
    _, defs = models_json_schema([(m, "validation") for m in _models()], ref_template=REF)
    components: dict[str, Any] = dict(defs.get("$defs", {}))
    components["Error"] = _ERROR_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for ep in ENDPOINTS:
        for path in ep.paths:
            paths.setdefault(path, {})[ep.method.lower()] = _operation(ep, path, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Gatehouse API", "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": SECURITY_SCHEMES,
            "responses": {
                "Error": {
                    "description": "Error",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
            },
        },
    }


def add_system_paths(doc: dict[str, Any], system: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Merge the paths that are not REST resources (health, GraphQL, metrics)."""
    merged = dict(doc)
    merged["paths"] = {**doc["paths"], **system}
    return merged


async def openapi_endpoint(request: Request) -> Response:
    doc = build_openapi(request.app.state.version)
    return json_response(add_system_paths(doc, request.app.state.system_paths), 200)
