"""OpenTelemetry tracing of one app: a per-app ``TracerProvider`` (never the global one, so
apps built in one process do not share exporters).

Span names (children of the request span ``METHOD /route``):

* ``retrieval`` → ``embed``, ``keyword``, ``vector``, ``fusion``
* ``answer`` (extractive answerer / evidence gate), ``llm`` → one ``llm.call`` per upstream
  attempt (attributes ``llm.provider``, ``llm.outcome``), ``verify``

Cheap when nothing exports: without ``telemetry.otlp_endpoint`` (and no test processor) the
provider samples nothing, so the request span is a non-recording span that still carries a
valid trace id (logs, response headers, an incoming ``traceparent`` is continued), and the
stage spans are not created at all (``Telemetry.tracer`` is the no-op tracer). With an
endpoint, spans go through a ``BatchSpanProcessor`` to an OTLP/HTTP exporter, imported only
then; a missing exporter package is a ``ConfigurationError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, TraceIdRatioBased

from groundwire import __version__
from groundwire.errors import ConfigurationError
from groundwire.settings import TelemetrySettings

OTLP_MODULE = "opentelemetry.exporter.otlp.proto.http.trace_exporter"
OTLP_PACKAGE = "opentelemetry-exporter-otlp-proto-http"
NOOP_TRACER: trace.Tracer = trace.NoOpTracer()


def build_tracer_provider(
    settings: TelemetrySettings, processors: Sequence[SpanProcessor] = ()
) -> tuple[TracerProvider, bool]:
    """``(provider, exporting)``. Exporting (an OTLP endpoint or ``processors``, e.g. a
    test's in-memory exporter): a parent-based ratio sampler and the processors. Not
    exporting: a sampler that records nothing (ids only). Does no I/O (the exporter connects
    when it first exports)."""
    resource = Resource.create(
        {"service.name": settings.service_name, "service.version": __version__}
    )
    chosen = list(processors)
    if settings.otlp_endpoint:
        exporter = otlp_exporter(settings.otlp_endpoint, settings.otlp_headers)
        chosen.append(BatchSpanProcessor(exporter))
    exporting = bool(chosen)
    sampler = ParentBased(TraceIdRatioBased(settings.sample_ratio)) if exporting else ALWAYS_OFF
    provider = TracerProvider(resource=resource, sampler=sampler)
    for processor in chosen:
        provider.add_span_processor(processor)
    return provider, exporting


def otlp_exporter(endpoint: str, headers: dict[str, str]) -> Any:
    import importlib

    try:
        module = importlib.import_module(OTLP_MODULE)
    except ImportError as exc:
        raise ConfigurationError(
            f"telemetry.otlp_endpoint is set but {OTLP_PACKAGE} is not installed: "
            f"pip install 'groundwire[otlp]' (or pip install {OTLP_PACKAGE})"
        ) from exc
    return module.OTLPSpanExporter(endpoint=endpoint, headers=dict(headers) or None)


def current_trace_ids() -> tuple[str, str] | None:
    """``(trace_id, span_id)`` of the current span as lower-case hex, or None outside a
    (valid) span. Cheap: reads a context variable."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def traceparent(span: trace.Span) -> str | None:
    """The W3C ``traceparent`` value of ``span`` (None for an invalid span)."""
    context = span.get_span_context()
    if not context.is_valid:
        return None
    flags = int(context.trace_flags) & 0xFF
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{flags:02x}"
