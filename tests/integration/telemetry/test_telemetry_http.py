"""Telemetry of a real ``groundwire serve`` (real PostgreSQL, real model, fault-injecting LLM
servers on 127.0.0.1 as providers): ``/metrics`` parsed with the Prometheus text parser after
real requests, trace ids in headers and log lines, and INFO logs free of question text,
document text and PII (canaries)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_server import LiveServer, ingest, running_server
from prometheus_client.parser import text_string_to_metric_families
from support.fault_llm import FaultLLMServer
from support.llm import QUESTION, grounded_reply, provider

from groundwire.telemetry.metrics import ASK_STAGES, SEARCH_STAGES

pytestmark = pytest.mark.integration
CANARY_CODE = "QZX-CANARY-7731"
CANARY_EMAIL = "marguerite.canary@example.org"
CANARY_WORD = "zorblaxian"
CANARY_DOC = f"""# Vault procedures

The {CANARY_WORD} vault is opened with the access code {CANARY_CODE}. Requests to open the
vault go to the vault keeper, reachable at {CANARY_EMAIL} or on +44 20 7946 0958.
"""


@pytest.fixture(scope="module")
def upstreams() -> Iterator[tuple[FaultLLMServer, FaultLLMServer]]:
    with FaultLLMServer(mode="ok") as primary, FaultLLMServer(mode="ok") as secondary:
        primary.reply = secondary.reply = grounded_reply
        yield primary, secondary


@pytest.fixture(scope="module")
def server(
    pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory,
    upstreams: tuple[FaultLLMServer, FaultLLMServer],
) -> Iterator[LiveServer]:
    primary, secondary = upstreams
    env = {
        "GROUNDWIRE_LLM__PROVIDERS": json.dumps(
            [provider("primary", primary), provider("secondary", secondary)]
        ),
        "GROUNDWIRE_TELEMETRY__STATS_CACHE_S": "0",
        "GROUNDWIRE_LOG_LEVEL": "INFO",
    }
    with running_server(pg_admin_url, tmp_path_factory.mktemp("telemetry"), env) as live:
        yield live


def scrape(client: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def log_lines(server: LiveServer) -> list[dict[str, Any]]:
    lines = []
    for line in server.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def wait_for_log(server: LiveServer, request_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        found = [r for r in log_lines(server)
                 if r.get("event") == "request" and r.get("request_id") == request_id]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no request log line for {request_id}"
        time.sleep(0.1)


def test_metrics_after_real_requests_count_every_stage_error_fallback_and_cache(
    server: LiveServer, upstreams: tuple[FaultLLMServer, FaultLLMServer]
) -> None:
    primary, _ = upstreams
    with server.client() as client:
        for query in ("encryption keys rotation", "refund within 30 days"):
            assert client.post("/v1/search", json={"query": query}).status_code == 200
        primary.script = ["503"]  # the primary fails once: the chain falls back
        first = client.post("/v1/ask", json={"question": QUESTION}).json()
        assert first["answerer"] == "llm" and first["provider"] == "secondary"
        cached = client.post("/v1/ask", json={"question": QUESTION}).json()
        assert cached["cached"] is True
        with client.stream("POST", "/v1/ask", json={
            "question": "How long are deleted notes kept in the trash?", "stream": True,
        }) as stream:
            assert stream.status_code == 200
            body = "".join(stream.iter_text())
        assert "event: done" in body
        abstained = client.post("/v1/ask", json={
            "question": "What is the boiling point of liquid nitrogen on Jupiter?"}).json()
        assert abstained["abstained"] is True
        assert client.post("/v1/search", json={"query": "x", "index": "nope"}).status_code == 404
        assert client.get("/v1/ingest/doesnotexist").status_code == 404
        assert client.post("/v1/search", json={}).status_code == 422
        samples = scrape(client)

    count = "groundwire_stage_duration_seconds_count"
    for stage in SEARCH_STAGES:
        assert value(samples, count, operation="search", stage=stage) >= 2, stage
    for stage in ASK_STAGES:
        assert value(samples, count, operation="ask", stage=stage) > 0, stage
    assert value(samples, "groundwire_stage_duration_seconds_sum", operation="ask",
                 stage="llm") > 0

    http = "groundwire_http_request_duration_seconds_count"
    assert value(samples, http, route="/v1/search", method="POST", status="2xx") == 2
    assert value(samples, http, route="/v1/search", method="POST", status="4xx") == 2
    assert value(samples, http, route="/v1/ask", method="POST", status="2xx") == 4
    assert value(samples, http, route="/v1/ingest/{job_id}", method="GET", status="4xx") == 1

    assert value(samples, "groundwire_errors_total", code="not_found") == 2
    assert value(samples, "groundwire_errors_total", code="request.invalid") == 1
    assert value(samples, "groundwire_llm_fallbacks_total", provider="primary",
                 reason="llm.http_5xx") == 1
    assert value(samples, "groundwire_llm_attempts_total", provider="secondary",
                 outcome="ok") == 1
    assert value(samples, "groundwire_llm_attempts_total", provider="primary",
                 outcome="ok") == 1  # the streamed answer
    assert value(samples, "groundwire_llm_cache_lookups_total", result="hit") == 1
    assert value(samples, "groundwire_llm_cache_lookups_total", result="miss") == 2
    assert value(samples, "groundwire_answers_total", outcome="answered") == 3
    assert value(samples, "groundwire_answers_total", outcome="abstained") == 1
    assert value(samples, "groundwire_llm_tokens_total", provider="secondary",
                 model="secondary-model", kind="completion") > 0
    assert value(samples, "groundwire_llm_tokens_total", provider="secondary",
                 model="secondary-model", kind="prompt") > 0
    for name in ("primary", "secondary"):
        assert value(samples, "groundwire_llm_breaker_state", provider=name,
                     state="closed") == 1
        assert value(samples, "groundwire_llm_breaker_state", provider=name, state="open") == 0
    assert value(samples, "groundwire_index_documents", index="default", state="indexed") == 4
    assert value(samples, "groundwire_index_chunks", index="default") >= 4


def test_response_trace_id_matches_the_request_log_line(server: LiveServer) -> None:
    with server.client() as client:
        response = client.post("/v1/search", json={"query": "support hours"},
                               headers={"X-Request-ID": "trace-check-1"})
        incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        continued = client.post("/v1/search", json={"query": "support hours"},
                                headers={"X-Request-ID": "trace-check-2",
                                         "traceparent": incoming})
    trace_id = response.headers["x-trace-id"]
    assert len(trace_id) == 32 and int(trace_id, 16) != 0
    assert response.headers["traceparent"].split("-")[1] == trace_id
    line = wait_for_log(server, "trace-check-1")
    assert line["trace_id"] == trace_id
    assert line["status"] == 200 and line["path"] == "/v1/search"
    assert continued.headers["x-trace-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert wait_for_log(server, "trace-check-2")["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_info_logs_of_served_requests_hold_no_question_document_text_or_pii(
    server: LiveServer, tmp_path: Path
) -> None:
    folder = tmp_path / "vault-docs"
    folder.mkdir()
    (folder / "procedures.md").write_text(CANARY_DOC, encoding="utf-8")
    assert ingest(server, folder, index="vault").status_code == 200
    question = (f"I am {CANARY_EMAIL}: what opens the {CANARY_WORD} vault, is it "
                f"{CANARY_CODE}?")
    with server.client() as client:
        hits = client.post("/v1/search", json={"query": question, "index": "vault"}).json()
        assert CANARY_CODE in hits["hits"][0]["text"]  # the canary really was served
        answer = client.post("/v1/ask", json={"question": question, "index": "vault"})
        assert answer.status_code == 200
        with client.stream("POST", "/v1/ask", json={"question": question, "index": "vault",
                                                     "stream": True}) as stream:
            "".join(stream.iter_text())
        client.post("/v1/search", json={"query": question, "index": "no-such-index"})
        client.get("/metrics")
        rid = "pii-check-last"
        client.post("/v1/search", json={"query": "support"}, headers={"X-Request-ID": rid})
    wait_for_log(server, rid)  # everything before it has been written

    text = server.log_path.read_text(errors="replace")
    for canary in (CANARY_CODE, CANARY_EMAIL, CANARY_WORD, "7946 0958", "vault keeper"):
        assert canary not in text, canary
    lines = log_lines(server)
    requests = [r for r in lines if r.get("event") == "request"]
    assert len(requests) >= 6
    assert all(r.get("request_id") and r.get("trace_id") for r in requests)
