"""Prometheus metrics: request counts and latencies by route template, served at /metrics.

Per-agent proposal rates are counted where proposals are decided (app/core/agent_rates.py, bounded
labels) and served here with everything else in the default registry.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

REQUESTS = Counter("gatehouse_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "gatehouse_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count and time one request. The labelled series are kept per (method, route, status):
    `labels()` validates and locks on each call, and routes and statuses are few."""
    series = _children.get((method, route, status))
    if series is None:
        series = _children[(method, route, status)] = (REQUESTS.labels(method, route, str(status)),
                                                       LATENCY.labels(method, route))
    series[0].inc()
    series[1].observe(seconds)


async def metrics_endpoint(_request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
