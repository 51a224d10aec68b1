"""With ``telemetry.otlp_endpoint`` set, spans reach an OTLP/HTTP collector (a tiny real HTTP
server on 127.0.0.1 that decodes the protobuf body). Skipped when the optional exporter
package (``groundwire[otlp]``) is not installed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

pytest.importorskip("opentelemetry.exporter.otlp.proto.http.trace_exporter")

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest,
)

from groundwire.settings import TelemetrySettings  # noqa: E402
from groundwire.telemetry import Telemetry  # noqa: E402


@pytest.fixture
def collector() -> Iterator[tuple[str, list[Any]]]:
    received: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            received.append((self.path, self.headers.get("x-tenant"), request))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces", received
    finally:
        server.shutdown()
        server.server_close()


def test_spans_are_exported_to_the_otlp_endpoint(collector: tuple[str, list[Any]]) -> None:
    endpoint, received = collector
    telemetry = Telemetry.from_settings(TelemetrySettings(
        otlp_endpoint=endpoint, otlp_headers={"x-tenant": "acme"}, service_name="gw-test",
    ))
    with telemetry.request_tracer.start_as_current_span("POST /v1/search"), \
            telemetry.tracer.start_as_current_span("retrieval"):
        telemetry.tracer.start_span("embed").end()
    telemetry.shutdown()  # flushes the batch processor

    assert received, "nothing reached the collector"
    path, tenant, _ = received[0]
    assert path == "/v1/traces" and tenant == "acme"
    names, services = set(), set()
    for _, _, request in received:
        for resource_spans in request.resource_spans:
            for attr in resource_spans.resource.attributes:
                if attr.key == "service.name":
                    services.add(attr.value.string_value)
            for scope_spans in resource_spans.scope_spans:
                names.update(span.name for span in scope_spans.spans)
    assert names == {"POST /v1/search", "retrieval", "embed"}
    assert services == {"gw-test"}
