"""The SDK's span middleware stays only where a tracer provider would record its spans."""

from __future__ import annotations

import pytest
from mcp.server._otel import OpenTelemetryMiddleware
from opentelemetry import trace
from opentelemetry.trace import NoOpTracer, Tracer, TracerProvider

from app.mcp.tracing import drop_idle_tracing, tracing_installed


class RecordingProvider(TracerProvider):
    """Stands for an installed SDK provider (opentelemetry-sdk is not a dependency)."""

    def get_tracer(self, *args: object, **kwargs: object) -> Tracer:
        return NoOpTracer()


def test_without_a_provider_the_span_middleware_is_dropped() -> None:
    assert not tracing_installed()
    other = object()
    chain = [OpenTelemetryMiddleware(), other]
    drop_idle_tracing(chain)
    assert chain == [other]


def test_with_a_provider_installed_the_span_middleware_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: RecordingProvider())
    assert tracing_installed()
    span_middleware = OpenTelemetryMiddleware()
    chain = [span_middleware]
    drop_idle_tracing(chain)
    assert chain == [span_middleware]
