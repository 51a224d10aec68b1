"""Stage spans of a real app (real PostgreSQL, real model, fault-injecting LLM servers on
127.0.0.1) captured with an in-memory span exporter: names, parent/child structure and the
per-attempt ``llm.call`` attributes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from live_server import write_corpus
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from support.fault_llm import FaultLLMServer
from support.llm import QUESTION, grounded_reply, provider

from groundwire.answering.service import AnswerDone
from groundwire.bootstrap import build_app
from groundwire.domain import SearchRequest
from groundwire.telemetry import Telemetry

pytestmark = pytest.mark.integration
RETRIEVAL_STAGES = {"embed", "keyword", "vector", "fusion"}


def by_name(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


def one(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    found = by_name(spans, name)
    assert len(found) == 1, f"{name}: {[s.name for s in spans]}"
    return found[0]


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def check_tree(spans: tuple[ReadableSpan, ...], root_name: str) -> ReadableSpan:
    root = one(spans, root_name)
    assert root.context is not None
    root_id = root.context.span_id
    assert {s.context.trace_id for s in spans if s.context} == {root.context.trace_id}
    retrieval = one(spans, "retrieval")
    assert parent_id(retrieval) == root_id
    for stage in RETRIEVAL_STAGES:
        assert parent_id(one(spans, stage)) == retrieval.context.span_id, stage  # type: ignore[union-attr]
    for stage in ("answer", "llm", "verify"):
        assert parent_id(one(spans, stage)) == root_id, stage
    llm = one(spans, "llm")
    calls = by_name(spans, "llm.call")
    assert all(parent_id(c) == llm.context.span_id for c in calls)  # type: ignore[union-attr]
    assert [(c.attributes or {}).get("llm.provider") for c in calls] == ["primary", "secondary"]
    assert [(c.attributes or {}).get("llm.outcome") for c in calls] == ["llm.http_5xx", "ok"]
    return root


async def test_ask_spans_nest_stage_by_stage(
    make_settings: Callable[..., Any], real_embedder: Any, tmp_path: Path
) -> None:
    with FaultLLMServer(mode="ok") as primary, FaultLLMServer(mode="ok") as secondary:
        primary.reply = secondary.reply = grounded_reply
        settings = make_settings(
            llm={"providers": [provider("primary", primary), provider("secondary", secondary)],
                 "deadline_s": 12.0},
            cache={"enabled": False},
        )
        exporter = InMemorySpanExporter()
        telemetry = Telemetry.from_settings(
            settings.telemetry, span_processors=[SimpleSpanProcessor(exporter)]
        )
        async with build_app(settings, embedder=real_embedder, telemetry=telemetry) as gw:
            await gw.ingest_path(write_corpus(tmp_path / "corpus"))
            await gw.warm()

            exporter.clear()
            primary.script = ["503"]
            with telemetry.tracer.start_as_current_span("request"):
                answer = await gw.ask(SearchRequest(QUESTION))
            assert answer.answerer == "llm" and not answer.degraded
            check_tree(exporter.get_finished_spans(), "request")

            exporter.clear()
            primary.script = ["503"]
            with telemetry.tracer.start_as_current_span("stream-request"):
                events = [e async for e in gw.ask_stream(SearchRequest(QUESTION))]
            assert isinstance(events[-1], AnswerDone) and events[-1].answer.answerer == "llm"
            check_tree(exporter.get_finished_spans(), "stream-request")

            exporter.clear()
            with telemetry.tracer.start_as_current_span("search-request") as root:
                await gw.search(SearchRequest("encryption keys rotation"))
            spans = exporter.get_finished_spans()
            retrieval = one(spans, "retrieval")
            assert parent_id(retrieval) == root.get_span_context().span_id
            assert {s.name for s in spans} == {"search-request", "retrieval", *RETRIEVAL_STAGES}
        telemetry.shutdown()


async def test_disabled_tracing_records_no_spans_and_answers_the_same(
    make_settings: Callable[..., Any], real_embedder: Any, tmp_path: Path
) -> None:
    settings = make_settings(telemetry={"tracing_enabled": False, "metrics_enabled": False})
    telemetry = Telemetry.from_settings(settings.telemetry)
    assert telemetry.provider is None
    async with build_app(settings, embedder=real_embedder, telemetry=telemetry) as gw:
        await gw.ingest_path(write_corpus(tmp_path / "corpus"))
        hits, timings = await gw.search(SearchRequest("encryption keys rotation"))
        assert hits and hits[0].uri.endswith("security.md")
        # "fill": both lists were non-empty, so each candidate got its other-side score
        assert set(timings) == {"embed", "keyword", "vector", "fill", "fusion", "total"}
