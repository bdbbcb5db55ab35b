"""Malformed bodies and headers sent to every route: never a 500, always the error body."""

from __future__ import annotations

import re

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.rest.routing import ENDPOINTS
from tests.conftest import Tenant

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(
    max_size=20
)
BAD_BODIES = [
    b"", b"{", b"null", b"[]", b"0", b"NaN", b'{"a": Infinity}', b'"text"', b"\xff\xfe\x00",
    b'{"a":' * 200, b"[" * 5000,
    b'{"name": null, "type": 1, "actor": "x", "rules": {}, "checks": "no", "scopes": [1, 2]}',
    b'{"name": "' + b"x" * 5000 + b'"}', b'{"limit": -1, "cursor": {"$ne": 1}}', b"{\"\\ud800\": 1}",
]
BAD_HEADERS = [
    {"content-type": "text/plain"}, {"content-type": "application/json; charset=latin-1"},
    {"Authorization": "Bearer"}, {"Authorization": "Bearer sk_" + "x" * 500}, {"x-api-key": "\u00e9".encode("latin-1")},
    {"Idempotency-Key": "k" * 1000}, {"x-request-id": "a b;c"},
]


def _concrete(path: str, ident: str) -> str:
    return re.sub(r"{\w+}", ident, path)


def _routes() -> list[tuple[str, str]]:
    return [(ep.method, path) for ep in ENDPOINTS for path in ep.paths]


async def _assert_clean(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.request.method, response.request.url, response.text)
    if response.status_code >= 400:
        body = response.json()
        assert set(body) >= {"error", "message"}, body


async def unlimited_headers() -> dict[str, str]:
    """An admin key whose budget the fuzzing cannot exhaust, so every request reaches its route."""
    from resolvers.keys.api_keys import issue_key
    from resolvers.keys.organizations import create_organization

    created = await create_organization("fuzz", "enterprise")
    key = await issue_key(created.organization.id, name="fuzz", scopes=["admin"], rate_limit=1_000_000)
    return {"Authorization": f"Bearer {key.secret}"}


async def test_every_route_survives_bad_bodies_and_headers(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, headers=await unlimited_headers(), timeout=10) as c:
        for method, path in _routes():
            for ident in ("x", "act_doesnotexist", "%00", "..%2F..%2Fetc"):
                url = _concrete(path, ident)
                for body in BAD_BODIES:
                    await _assert_clean(await c.request(method, url, content=body,
                                                        headers={"content-type": "application/json"}))
                for headers in BAD_HEADERS:
                    response = await c.request(method, url, content=b"{}", headers=headers)
                    await _assert_clean(response)
                    assert response.status_code != 429


@pytest.mark.parametrize("path", ["/api/v1/api-keys", "/graphql"])
async def test_oversized_body_is_413(tenant: Tenant, path: str) -> None:
    async with tenant.client() as c:
        response = await c.post(path, content=b"{" + b" " * 2_000_000 + b"}",
                                headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["error"] == "PAYLOAD_TOO_LARGE"


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=8), inner, max_size=4), max_leaves=20))
async def test_random_json_never_500s(server: str, json_value: object) -> None:
    async with httpx.AsyncClient(base_url=server, headers=await unlimited_headers()) as c:
        for method, path in _routes():
            if method in ("POST", "PUT"):
                await _assert_clean(await c.request(method, _concrete(path, "x"), json=json_value))
