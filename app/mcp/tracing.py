"""The SDK's OpenTelemetry span per MCP message, kept only where a tracer provider is installed.

The SDK puts `OpenTelemetryMiddleware` first in every server's chain and documents dropping it as
the way to opt out. With no provider installed (Gatehouse itself exports logs and Prometheus
metrics, not traces) each span is a no-op that still costs a propose_action call about 2% of its
server time (bench figure 9). A deployment that installs a provider before the app starts (for
instance under `opentelemetry-instrument`) keeps its spans.
"""

from __future__ import annotations

from typing import Any

from mcp.server._otel import OpenTelemetryMiddleware
from opentelemetry import trace


def tracing_installed() -> bool:
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider)


def drop_idle_tracing(middleware: list[Any]) -> None:
    """Remove the SDK's no-op span middleware from a server's chain when nothing would record it."""
    if not tracing_installed():
        middleware[:] = [m for m in middleware if not isinstance(m, OpenTelemetryMiddleware)]
