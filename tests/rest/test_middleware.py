"""The HTTP shell: request ids, system routes, and a clean 500 for an unexpected failure."""

from __future__ import annotations

import re

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from app.auth import Authenticator
from app.middleware import GatehouseMiddleware
from app.ratelimit import MemoryRateLimiter


async def test_request_id_health_metrics(client) -> None:
    response = await client.get("/healthz", headers={"x-request-id": "trace-12345678"})
    assert response.headers["X-Request-Id"] == "trace-12345678"
    generated = await client.get("/healthz", headers={"x-request-id": "bad id;drop"})
    assert re.fullmatch(r"[0-9A-Za-z]{20}", generated.headers["X-Request-Id"])  # ours, not the bad one
    assert (await client.get("/readyz")).json()["checks"] == {"database": True, "redis": True}
    metrics = await client.get("/metrics")
    assert "gatehouse_http_requests_total" in metrics.text


async def test_unexpected_exception_is_a_clean_500_with_request_id() -> None:
    async def explode(_request: object) -> None:
        raise RuntimeError("SELECT secret FROM internals")

    shell = Middleware(
        GatehouseMiddleware,
        authenticator=Authenticator(),
        limiter=MemoryRateLimiter,
        default_rate_limit=100,
        max_body_bytes=1000,
        allow_anonymous=lambda _path: True,
    )
    app = Starlette(routes=[Route("/boom", explode)], middleware=[shell])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "INTERNAL" and response.headers["X-Request-Id"] in body["message"]
    assert "SELECT" not in response.text and "Traceback" not in response.text
