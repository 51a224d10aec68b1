"""Telemetry without a server: metric bookkeeping from answers, scrape-time gauges and their
cache, the ASGI middleware (route templates, status classes, trace headers, traceparent
continuation) and the OTLP configuration error."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from groundwire.domain import Answer
from groundwire.errors import ConfigurationError
from groundwire.settings import TelemetrySettings
from groundwire.stores.base import IndexStats
from groundwire.telemetry import Telemetry
from groundwire.telemetry.metrics import ASK_STAGES, SEARCH_STAGES, Metrics
from groundwire.telemetry.tracing import NOOP_TRACER


def samples(text: bytes | str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(sample name, sorted labels): value}`` of an exposition, via the official parser."""
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    raw = text.decode() if isinstance(text, bytes) else text
    for family in text_string_to_metric_families(raw):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(all_samples: dict[Any, float], name: str, **labels: str) -> float:
    return all_samples.get((name, tuple(sorted(labels.items()))), 0.0)


LLM_ANSWER = Answer(
    question="q", text="It costs 12 dollars [1].", abstained=False, citations=(), hits=(),
    confidence=0.9, answerer="llm",
    timings_ms={"embed": 5.0, "keyword": 1.0, "vector": 2.0, "fusion": 0.1, "retrieval": 9.0,
                "answer": 3.0, "llm": 120.0, "llm_first_token": 40.0, "verify": 6.0,
                "total": 140.0},
    provider="secondary", model="secondary-model", usage={"prompt_tokens": 300,
                                                         "completion_tokens": 20},
    cost=0.0042,
    attempts=({"provider": "primary", "outcome": "llm.http_5xx", "ms": 3.0},
              {"provider": "secondary", "outcome": "ok", "ms": 100.0}),
)


async def test_answers_are_counted_by_outcome_fallback_tokens_cost_and_cache() -> None:
    metrics = Metrics()
    metrics.observe_answer(LLM_ANSWER, cache_enabled=True)
    metrics.observe_answer(replace(LLM_ANSWER, cached=True), cache_enabled=True)  # hit
    degraded = replace(LLM_ANSWER, answerer="extractive", degraded=True,
                       degraded_reason="llm.timeout", provider=None, model=None, usage=None,
                       cost=None, attempts=({"provider": "primary", "outcome": "llm.timeout",
                                             "ms": 1500.0},))
    metrics.observe_answer(degraded, cache_enabled=True)
    abstained = replace(LLM_ANSWER, answerer="extractive", abstained=True, provider=None,
                        usage=None, cost=None, attempts=(), timings_ms={"total": 5.0})
    metrics.observe_answer(abstained, cache_enabled=True)  # never reached the cache

    got = samples(await metrics.render())
    assert value(got, "groundwire_answers_total", outcome="answered") == 2
    assert value(got, "groundwire_answers_total", outcome="degraded") == 1
    assert value(got, "groundwire_answers_total", outcome="abstained") == 1
    assert value(got, "groundwire_answers_degraded_total", reason="llm.timeout") == 1
    # The cached copy carries the original attempts/usage: counted once, not twice.
    assert value(got, "groundwire_llm_fallbacks_total", provider="primary",
                 reason="llm.http_5xx") == 1
    assert value(got, "groundwire_llm_fallbacks_total", provider="primary",
                 reason="llm.timeout") == 1
    assert value(got, "groundwire_llm_attempts_total", provider="secondary", outcome="ok") == 1
    assert value(got, "groundwire_llm_tokens_total", provider="secondary",
                 model="secondary-model", kind="prompt") == 300
    assert value(got, "groundwire_llm_tokens_total", provider="secondary",
                 model="secondary-model", kind="completion") == 20
    assert value(got, "groundwire_llm_cost_total", provider="secondary",
                 model="secondary-model") == pytest.approx(0.0042)
    assert value(got, "groundwire_llm_cache_lookups_total", result="hit") == 1
    assert value(got, "groundwire_llm_cache_lookups_total", result="miss") == 2
    # Stage latencies come from timings_ms (seconds in the histogram).
    assert value(got, "groundwire_stage_duration_seconds_count", operation="ask",
                 stage="llm_first_token") == 3
    assert value(got, "groundwire_stage_duration_seconds_sum", operation="ask",
                 stage="llm") == pytest.approx(0.36)


async def test_every_stage_series_exists_before_any_request() -> None:
    got = samples(await Metrics().render())
    for stage in SEARCH_STAGES:
        assert ("groundwire_stage_duration_seconds_count",
                (("operation", "search"), ("stage", stage))) in got
    for stage in ASK_STAGES:
        assert ("groundwire_stage_duration_seconds_count",
                (("operation", "ask"), ("stage", stage))) in got


async def test_scrape_time_gauges_are_cached_and_breakers_read_every_scrape() -> None:
    metrics = Metrics(stats_cache_s=3600)
    calls = 0
    documents = {"indexed": 4, "failed": 1}

    async def stats() -> Sequence[IndexStats]:
        nonlocal calls
        calls += 1
        return [IndexStats("default", 7, dict(documents), {"parse.empty": 1}, 12, 12)]

    breakers = {"primary": "open", "secondary": "closed"}
    got = samples(await metrics.render(stats=stats, breaker_states=lambda: breakers))
    documents["indexed"] = 5
    breakers["primary"] = "half_open"
    again = samples(await metrics.render(stats=stats, breaker_states=lambda: breakers))

    assert calls == 1  # the second scrape used the cached statistics
    assert value(got, "groundwire_index_documents", index="default", state="indexed") == 4
    assert value(again, "groundwire_index_documents", index="default", state="indexed") == 4
    assert value(got, "groundwire_index_document_errors", index="default",
                 code="parse.empty") == 1
    assert value(got, "groundwire_index_chunks", index="default") == 12
    assert value(got, "groundwire_index_generation", index="default") == 7
    assert value(got, "groundwire_llm_breaker_state", provider="primary", state="open") == 1
    assert value(got, "groundwire_llm_breaker_state", provider="primary", state="closed") == 0
    assert value(again, "groundwire_llm_breaker_state", provider="primary",
                 state="half_open") == 1
    assert value(again, "groundwire_llm_breaker_state", provider="primary", state="open") == 0


async def test_apps_do_not_share_a_registry() -> None:
    first, second = Metrics(), Metrics()
    first.count_error("not_found")
    assert value(samples(await first.render()), "groundwire_errors_total", code="not_found") == 1
    assert value(samples(await second.render()), "groundwire_errors_total",
                 code="not_found") == 0


def small_app(telemetry: Telemetry) -> Any:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    from groundwire.telemetry.middleware import TelemetryMiddleware

    async def job(request: Any) -> Any:
        from opentelemetry import trace

        ctx = trace.get_current_span().get_span_context()
        return JSONResponse({"trace_id": format(ctx.trace_id, "032x")})

    async def boom(request: Any) -> Any:
        return PlainTextResponse("down", status_code=503)

    app = Starlette(routes=[Route("/v1/jobs/{job_id}", job), Route("/boom", boom)])
    app.add_middleware(TelemetryMiddleware, telemetry=telemetry)
    return app


async def test_middleware_labels_templated_routes_and_sets_trace_headers() -> None:
    telemetry = Telemetry.from_settings(TelemetrySettings())
    # Nothing exports: stage spans are skipped, request spans carry ids without recording.
    assert telemetry.tracer is NOOP_TRACER and telemetry.request_tracer is not NOOP_TRACER
    app = small_app(telemetry)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        first = await client.get("/v1/jobs/abc")
        second = await client.get("/v1/jobs/def")
        missing = await client.get("/no/such/path/123")
        boom = await client.get("/boom")
        incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        continued = await client.get("/v1/jobs/x", headers={"traceparent": incoming})

    trace_id = first.headers["x-trace-id"]
    assert len(trace_id) == 32 and trace_id != second.headers["x-trace-id"]
    assert first.headers["traceparent"].split("-")[1] == trace_id
    assert first.json()["trace_id"] == trace_id  # the request span is current in the handler
    assert continued.headers["x-trace-id"] == "0af7651916cd43dd8448eb211c80319c"
    assert continued.json()["trace_id"] == "0af7651916cd43dd8448eb211c80319c"

    assert telemetry.metrics is not None
    got = samples(await telemetry.metrics.render())
    name = "groundwire_http_request_duration_seconds_count"
    assert value(got, name, route="/v1/jobs/{job_id}", method="GET", status="2xx") == 3
    assert value(got, name, route="unmatched", method="GET", status="4xx") == 1
    assert value(got, name, route="/boom", method="GET", status="5xx") == 1
    assert missing.status_code == 404 and boom.status_code == 503
    assert not any("abc" in labels for (_, lbls) in got for labels in lbls)


async def test_disabled_telemetry_adds_no_headers_and_no_metrics() -> None:
    telemetry = Telemetry.from_settings(
        TelemetrySettings(metrics_enabled=False, tracing_enabled=False)
    )
    assert telemetry.metrics is None and not telemetry.tracing
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=small_app(telemetry)),
                                 base_url="http://test") as client:
        response = await client.get("/v1/jobs/abc")
    assert "x-trace-id" not in response.headers and "traceparent" not in response.headers
    assert response.json()["trace_id"] == "0" * 32


def test_otlp_endpoint_without_the_exporter_package_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from groundwire.telemetry.tracing import OTLP_MODULE

    monkeypatch.setitem(sys.modules, OTLP_MODULE, None)  # import raises ImportError
    with pytest.raises(ConfigurationError, match="opentelemetry-exporter-otlp-proto-http"):
        Telemetry.from_settings(TelemetrySettings(otlp_endpoint="http://127.0.0.1:4318/v1/traces"))


def test_serve_with_an_otlp_endpoint_but_no_exporter_fails_cleanly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from typer.testing import CliRunner

    from groundwire.cli.main import app
    from groundwire.telemetry.tracing import OTLP_MODULE

    monkeypatch.chdir(tmp_path)  # no groundwire.toml of the checkout
    monkeypatch.setitem(sys.modules, OTLP_MODULE, None)
    monkeypatch.setenv("GROUNDWIRE_TELEMETRY__OTLP_ENDPOINT", "http://127.0.0.1:9/v1/traces")
    result = CliRunner().invoke(app, ["serve", "--port", "9"])
    assert result.exit_code == 2  # ConfigurationError, before anything binds or starts
    assert "config.invalid" in result.output and "groundwire[otlp]" in result.output
