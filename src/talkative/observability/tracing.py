"""OpenTelemetry traces: HTTP requests, runs and their steps, model calls and skill runs.

Off unless an OTLP endpoint is configured with the standard variables (`OTEL_EXPORTER_OTLP_ENDPOINT`
or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`
turn it off again). The SDK reads the rest itself: `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
`OTEL_TRACES_SAMPLER`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_*`. Spans go out over OTLP/HTTP
(protobuf) in batches, off the request path.

A run outlives the request that opened it and may be worked by another process: the opening
request's trace context is stored on the run (`runs.trace_parent`, W3C `traceparent`), and each
step's span continues that trace wherever it runs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import NoOpTracerProvider, Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from talkative import __version__

log = logging.getLogger("talkative.tracing")
SCOPE = "talkative"
_PROPAGATOR = TraceContextTextMapPropagator()
_provider: trace.TracerProvider = NoOpTracerProvider()
_tracer: Tracer = _provider.get_tracer(SCOPE)
_enabled = False

__all__ = ["Span", "SpanKind", "Status", "StatusCode"]


def exporting_wanted(env: Mapping[str, str] = os.environ) -> bool:
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return bool(env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def configure_from_env() -> bool:
    """Starts exporting over OTLP when the environment asks for it; returns whether it does."""
    if not exporting_wanted():
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # Given attributes win over OTEL_RESOURCE_ATTRIBUTES: name the service only when nobody did.
    attributes: dict[str, str | int] = {"service.version": __version__, "process.pid": os.getpid()}
    if not os.environ.get("OTEL_SERVICE_NAME") and "service.name=" not in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    ):
        attributes["service.name"] = SCOPE
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    use(provider)
    log.info("tracing: exporting spans over OTLP/HTTP")
    return True


def use(provider: trace.TracerProvider) -> None:
    """The provider spans go to (tests give one with an in-memory exporter)."""
    global _provider, _tracer, _enabled
    _provider, _tracer = provider, provider.get_tracer(SCOPE)
    _enabled = not isinstance(provider, NoOpTracerProvider)


def shutdown() -> None:
    """Sends the spans still batched (at the process's end)."""
    if isinstance(_provider, TracerProvider):
        _provider.shutdown()
    use(NoOpTracerProvider())


def tracer() -> Tracer:
    return _tracer


def traceparent() -> str | None:
    """The current span's context as a W3C `traceparent`, to store where another process picks
    the work up; None when nothing is traced."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def context_of(parent: str | None) -> otel_context.Context | None:
    """The stored `traceparent` as a parent context (None: a new trace)."""
    if not parent:
        return None
    return _PROPAGATOR.extract({"traceparent": parent})


def context_from_headers(headers: list[tuple[bytes, bytes]]) -> otel_context.Context | None:
    """An incoming request's trace context (its `traceparent` and `tracestate` headers)."""
    if not _enabled:
        return None
    carrier = {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in headers
        if name.lower() in (b"traceparent", b"tracestate")
    }
    return _PROPAGATOR.extract(carrier)


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) in hex of the current span, for log lines; None outside a trace."""
    found = trace.get_current_span().get_span_context()
    if not found.is_valid:
        return None
    return format(found.trace_id, "032x"), format(found.span_id, "016x")


@contextmanager
def span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    parent: otel_context.Context | None = None,
    attributes: Mapping[str, str | int | float | bool] | None = None,
) -> Iterator[Span]:
    """A span around the block, current inside it; an exception marks it failed (and goes on).
    Nothing at all while tracing is off (a no-op span still cost ~9 us per request)."""
    if not _enabled:
        yield trace.INVALID_SPAN
        return
    with _tracer.start_as_current_span(
        name, context=parent, kind=kind, attributes=attributes, record_exception=True
    ) as current:
        yield current


def failed(current: Span, error_type: str, description: str | None = None) -> None:
    """Marks `current` failed with OpenTelemetry's `error.type` (a short code, never a secret)."""
    current.set_attribute("error.type", error_type)
    current.set_status(Status(StatusCode.ERROR, description))
