"""Telemetry of one app: Prometheus metrics (``metrics.py``), OpenTelemetry tracing
(``tracing.py``) and the ASGI middleware that times requests and opens the request span
(``middleware.py``).

``Telemetry.from_settings(settings.telemetry)`` builds everything without I/O;
``Telemetry.disabled()`` is what the CLI and in-process uses get (no metrics, a no-op
tracer). The edges own the object: ``create_app`` builds it, passes it to ``build_app`` (which
hands the tracer to the retriever, the answer service and the LLM chain) and shuts it down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.trace import Tracer

    from groundwire.settings import TelemetrySettings
    from groundwire.telemetry.metrics import Metrics


class Telemetry:
    """``metrics`` is None when metrics are disabled. ``request_tracer`` opens the request
    span (a no-op tracer when tracing is disabled, then ``provider`` is None); ``tracer``
    opens the stage spans and is a no-op tracer unless spans are exported (see
    ``tracing.py``: stage spans nobody receives are not worth their cost)."""

    def __init__(
        self, *, metrics: Metrics | None, tracer: Tracer, provider: TracerProvider | None,
        request_tracer: Tracer | None = None,
    ) -> None:
        self.metrics = metrics
        self.tracer = tracer
        self.request_tracer = request_tracer or tracer
        self.provider = provider

    @classmethod
    def from_settings(
        cls, settings: TelemetrySettings, *, span_processors: Sequence[SpanProcessor] = ()
    ) -> Telemetry:
        """``span_processors``: extra processors (tests: an in-memory exporter); like an OTLP
        endpoint they turn on sampling and the stage spans."""
        from groundwire.telemetry.tracing import NOOP_TRACER, build_tracer_provider

        metrics = None
        if settings.metrics_enabled:
            from groundwire.telemetry.metrics import Metrics

            metrics = Metrics(stats_cache_s=settings.stats_cache_s)
        if not settings.tracing_enabled:
            return cls(metrics=metrics, tracer=NOOP_TRACER, provider=None)
        provider, exporting = build_tracer_provider(settings, span_processors)
        request_tracer = provider.get_tracer("groundwire")
        return cls(metrics=metrics, tracer=request_tracer if exporting else NOOP_TRACER,
                   provider=provider, request_tracer=request_tracer)

    @classmethod
    def disabled(cls) -> Telemetry:
        from groundwire.telemetry.tracing import NOOP_TRACER

        return cls(metrics=None, tracer=NOOP_TRACER, provider=None)

    @property
    def tracing(self) -> bool:
        return self.provider is not None

    # Thin forwards so callers need no ``if metrics is not None``.
    def searched(self, timings_ms: Any) -> None:
        if self.metrics is not None:
            self.metrics.observe_stages("search", timings_ms)

    def answered(self, answer: Any, *, cache_enabled: bool) -> None:
        if self.metrics is not None:
            self.metrics.observe_answer(answer, cache_enabled=cache_enabled)

    def error(self, code: str) -> None:
        if self.metrics is not None:
            self.metrics.count_error(code)

    def dead_lettered(self, writer: str, code: str) -> None:
        """One item a background batch writer could not store (``on_dead_letter``)."""
        if self.metrics is not None:
            self.metrics.count_dead_letter(writer, code)

    def shutdown(self) -> None:
        """Flush and stop span export (idempotent)."""
        if self.provider is not None:
            self.provider.shutdown()
            self.provider = None


__all__ = ["Telemetry"]
