"""The HTTP shell: request ids, system routes, and a clean 500 for an unexpected failure."""

from __future__ import annotations

import asyncio
import re

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from app.auth import Authenticator
from app.middleware import GatehouseMiddleware
from app.ratelimit import MemoryRateLimiter
from tests.conftest import Tenant


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


async def test_a_client_gone_mid_body_is_no_server_error(tenant: Tenant) -> None:
    """A client that closes its connection before sending the body it announced gets no answer
    (no one is there), and the request counts as 499 in /metrics, not as a 500 with a traceback."""
    async with tenant.client() as c:
        before = _requests_counted((await c.get("/metrics")).text, "/api/v1/actions")
        url = httpx.URL(tenant.base_url)
        _reader, writer = await asyncio.open_connection(url.host, url.port)
        writer.write(
            f"POST /api/v1/actions HTTP/1.1\r\nHost: {url.host}\r\nAuthorization: Bearer {tenant.key}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"type\": ".encode()
        )
        await writer.drain()
        await asyncio.sleep(0.2)  # the server is reading the body when the client goes
        writer.close()
        await writer.wait_closed()
        for _ in range(50):
            after = _requests_counted((await c.get("/metrics")).text, "/api/v1/actions")
            if after.get("499", 0) > before.get("499", 0):
                break
            await asyncio.sleep(0.05)
    assert after.get("499", 0) == before.get("499", 0) + 1, (before, after)
    assert after.get("500", 0) == before.get("500", 0), (before, after)


def _requests_counted(metrics: str, route: str) -> dict[str, float]:
    """`gatehouse_http_requests_total` of POST `route`, by status."""
    counted = {}
    for line in metrics.splitlines():
        if line.startswith("gatehouse_http_requests_total{") and 'method="POST"' in line and f'route="{route}"' in line:
            status = re.search(r'status="(\d+)"', line)
            if status:
                counted[status.group(1)] = float(line.rsplit(" ", 1)[1])
    return counted
