"""``TelemetryMiddleware``: a plain ASGI middleware (no per-request task, unlike Starlette's
``BaseHTTPMiddleware``) installed outermost in ``create_app``.

Per HTTP request it

* continues the caller's trace from an incoming W3C ``traceparent`` header, else starts one;
* opens the request span ``METHOD /templated/route`` and makes it current for everything
  inside (the request-id middleware's log line, the stage spans) — so logs carry its ids;
* adds ``X-Trace-Id`` (32 hex) and ``traceparent`` to the response headers;
* observes ``groundwire_http_request_duration_seconds{route, method, status}`` with the
  *templated* route (``/v1/ingest/{job_id}``; ``unmatched`` for paths no route matched, so
  404 scans cannot blow up the label set), measured until the last body byte is sent.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from opentelemetry import context, trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from groundwire.telemetry import Telemetry
from groundwire.telemetry.tracing import traceparent

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACE_HEADERS = (b"traceparent", b"tracestate")


class TelemetryMiddleware:
    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        telemetry = self.telemetry
        if scope["type"] != "http" or (telemetry.metrics is None and not telemetry.tracing):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope.get("method", "GET")
        status = 500
        span: trace.Span | None = None
        token: object | None = None
        extra_headers: list[tuple[bytes, bytes]] = []
        if telemetry.tracing:
            carrier = {k.decode("latin-1"): v.decode("latin-1")
                       for k, v in scope.get("headers", ()) if k in _TRACE_HEADERS}
            parent = _PROPAGATOR.extract(carrier) if carrier else None
            span = telemetry.request_tracer.start_span(
                method, context=parent, kind=trace.SpanKind.SERVER,
                attributes={"http.request.method": method},
            )
            token = context.attach(trace.set_span_in_context(span))
            header = traceparent(span)
            if header is not None:
                extra_headers = [(b"x-trace-id", header[3:35].encode()),
                                 (b"traceparent", header.encode())]

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if extra_headers:
                    message["headers"] = [*message.get("headers", ()), *extra_headers]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except BaseException as exc:
            status = 500
            if span is not None:
                span.record_exception(exc)
            raise
        finally:
            route = route_template(scope)
            if span is not None:
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(trace.StatusCode.ERROR)
                span.end()
                context.detach(token)  # type: ignore[arg-type]
            if telemetry.metrics is not None:
                telemetry.metrics.observe_request(
                    method, route, status, time.perf_counter() - started
                )


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/v1/ingest/{job_id}``), a mount's prefix
    (``/static``), or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    return "unmatched"
