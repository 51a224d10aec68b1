"""The HTTP API against a real ``groundwire serve`` process (real PostgreSQL, real model).

Every test that ingests more uses its own index name, so tests do not disturb each other and
the ``default`` index keeps exactly the corpus of ``tests/live_server.py``.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from random import Random
from typing import Any

import httpx
import pytest
from live_server import CORPUS, LiveServer, ingest, write_corpus

pytestmark = pytest.mark.integration

HIT_FIELDS = {
    "uri", "title", "text", "score", "heading_path", "char_start", "char_end", "document_id",
    "chunk_id", "keyword_rank", "vector_rank",
}
CITATION_FIELDS = {"n", "uri", "title", "text", "quote", "heading_path", "char_start", "char_end",
                   "support"}
ERROR_FIELDS = {"code", "message", "request_id", "details"}
MARKER = re.compile(r"\[(\d+)\]")
POLL_TIMEOUT_S = 300.0


def checked(response: httpx.Response, status: int) -> Any:
    """Assert the status and the X-Request-ID header; return the JSON body."""
    assert response.status_code == status, response.text
    assert response.headers.get("x-request-id"), f"no X-Request-ID on {response.request.url}"
    return response.json()


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    body = checked(response, status)
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == ERROR_FIELDS, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    assert error["request_id"] == response.headers["x-request-id"], error
    return error


def poll_job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + POLL_TIMEOUT_S
    while True:
        job = checked(client.get(f"/v1/ingest/{job_id}"), 200)
        if job["state"] not in ("queued", "running"):
            return job
        assert time.monotonic() < deadline, f"ingest job still running: {job}"
        time.sleep(0.5)


@pytest.fixture
def client(live_server: LiveServer) -> Any:
    with live_server.client() as c:
        yield c


# --------------------------------------------------------------------------- health


def test_healthz(client: httpx.Client) -> None:
    assert checked(client.get("/healthz"), 200) == {"status": "ok"}


def test_readyz_is_ready_after_ingest(client: httpx.Client) -> None:
    body = checked(client.get("/readyz"), 200)
    assert body["ready"] is True, body
    assert body["checks"]["store"]["ok"] is True
    default = body["checks"]["indexes"]["default"]
    assert default["consistent"] is True, body
    assert default["store_generation"] == default["keyword_generation"] >= 1


def test_request_id_is_echoed_on_success_and_error(client: httpx.Client) -> None:
    ok = client.get("/healthz", headers={"X-Request-ID": "rid-ok-123"})
    assert ok.headers["x-request-id"] == "rid-ok-123"
    missing = client.get("/v1/ingest/nope", headers={"X-Request-ID": "rid-err-456"})
    assert missing.headers["x-request-id"] == "rid-err-456"
    assert missing.json()["error"]["request_id"] == "rid-err-456"
    # Without one, the server makes one up, different per request.
    a, b = client.get("/healthz"), client.get("/healthz")
    assert a.headers["x-request-id"] != b.headers["x-request-id"]


# --------------------------------------------------------------------------- search


@pytest.mark.parametrize(
    ("query", "uri"),
    [
        ("How do I install Quillmate on Linux?", "guides/install.md"),
        ("How much does the Team plan cost per user?", "billing/pricing.md"),
        ("How often are encryption keys rotated?", "policies/security.md"),
        ("When is email support available?", "support/hours.md"),
    ],
)
def test_search_finds_the_topical_document(client: httpx.Client, query: str, uri: str) -> None:
    body = checked(client.post("/v1/search", json={"query": query, "top_k": 5}), 200)
    assert set(body) == {"hits", "timings_ms", "record_id"}
    hits = body["hits"]
    assert 1 <= len(hits) <= 5
    assert hits[0]["uri"] == uri, [h["uri"] for h in hits]
    for hit in hits:
        assert set(hit) == HIT_FIELDS, hit
        assert hit["uri"] in CORPUS
        assert isinstance(hit["text"], str) and hit["text"].strip()
        assert isinstance(hit["title"], str) and hit["title"]
        assert isinstance(hit["score"], float)
        assert isinstance(hit["heading_path"], list)
        assert 0 <= hit["char_start"] <= hit["char_end"]
        assert isinstance(hit["document_id"], int) and isinstance(hit["chunk_id"], int)
        assert hit["keyword_rank"] is not None or hit["vector_rank"] is not None
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(isinstance(v, float) for v in body["timings_ms"].values())
    assert "total" in body["timings_ms"]


def test_search_top_k_limits_hits(client: httpx.Client) -> None:
    body = checked(client.post("/v1/search", json={"query": "Quillmate", "top_k": 2}), 200)
    assert len(body["hits"]) == 2


def test_search_filter_uri_prefix_restricts_hits(client: httpx.Client) -> None:
    query = "How do I install Quillmate on Linux?"
    unfiltered = checked(client.post("/v1/search", json={"query": query}), 200)["hits"]
    assert unfiltered[0]["uri"] == "guides/install.md"  # the best match is outside billing/
    body = {"query": query, "filters": {"uri_prefix": "billing/"}}
    hits = checked(client.post("/v1/search", json=body), 200)["hits"]
    assert hits, "the filter must not empty the result when billing/ has passages"
    assert all(h["uri"].startswith("billing/") for h in hits), [h["uri"] for h in hits]
    none = {"query": query, "filters": {"uri_prefix": "no-such-folder/"}}
    assert checked(client.post("/v1/search", json=none), 200)["hits"] == []


def test_ask_filter_uri_prefix_restricts_citations(client: httpx.Client) -> None:
    body = {"question": "How much does the Team plan cost?",
            "filters": {"uri_prefix": "policies/"}}
    answer = checked(client.post("/v1/ask", json=body), 200)
    assert all(p["uri"].startswith("policies/") for p in answer["passages"])
    assert all(c["uri"].startswith("policies/") for c in answer["citations"])


# --------------------------------------------------------------------------- ask


def test_ask_answers_with_matching_citations(client: httpx.Client) -> None:
    body = checked(
        client.post("/v1/ask", json={"question": "How much does the Team plan cost?"}), 200
    )
    assert body["abstained"] is False, body
    assert body["answerer"] == "extractive"
    assert 0.0 < body["confidence"] <= 1.0
    assert "12 US dollars" in body["answer"]
    citations = body["citations"]
    assert citations
    assert citations[0]["uri"] == "billing/pricing.md"
    markers = {int(n) for n in MARKER.findall(body["answer"])}
    numbers = [c["n"] for c in citations]
    assert sorted(numbers) == list(range(1, len(numbers) + 1)), numbers
    assert markers == set(numbers), (body["answer"], numbers)
    passage_texts = {p["text"] for p in body["passages"]}
    for c in citations:
        assert set(c) == CITATION_FIELDS, c
        assert c["quote"] and c["quote"] in c["text"], c
        assert c["quote"] in body["answer"]
        assert c["text"] in passage_texts  # a citation cites a passage that was read
    for p in body["passages"]:
        assert set(p) == HIT_FIELDS


def test_ask_off_topic_abstains(client: httpx.Client) -> None:
    body = checked(client.post("/v1/ask", json={"question": "Who painted the Mona Lisa?"}), 200)
    assert body["abstained"] is True, body
    assert body["citations"] == []
    assert not MARKER.search(body["answer"])
    assert body["answer"]  # an explanation, not an empty string


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("POST", "/v1/search", {"query": ""}),
        ("POST", "/v1/search", {"query": "   "}),
        ("POST", "/v1/search", {"query": "install", "top_k": 0}),
        ("POST", "/v1/search", {"query": "install", "unknown_field": 1}),
        ("POST", "/v1/search", {"query": "install", "index": "Bad Name!"}),
        ("POST", "/v1/search", {"query": "install", "filters": {"nope": 1}}),
        ("POST", "/v1/ask", {"question": ""}),
        ("POST", "/v1/ask", {"question": "install?", "index": "../etc"}),
        ("POST", "/v1/ingest", {"path": "/definitely/not/here", "wait": True}),
        ("POST", "/v1/ingest", {"path": "/tmp", "index": "UPPER"}),
        ("GET", "/v1/documents?index=has%20space", None),
        ("GET", "/v1/documents?limit=0", None),
    ],
)
def test_invalid_requests_are_422_with_the_error_shape(
    client: httpx.Client, method: str, path: str, payload: Any
) -> None:
    response = client.request(method, path, json=payload)
    assert_error(response, 422, "request.invalid")


def test_validation_error_details_name_the_field(client: httpx.Client) -> None:
    error = assert_error(client.post("/v1/search", json={"query": ""}), 422, "request.invalid")
    assert isinstance(error["details"], list) and error["details"]
    assert error["details"][0]["loc"] == ["body", "query"]
    assert {"loc", "msg", "type"} <= set(error["details"][0])


def test_malformed_json_is_422_with_the_error_shape(client: httpx.Client) -> None:
    response = client.post(
        "/v1/search", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_error(response, 422, "request.invalid")


def test_unknown_job_is_404(client: httpx.Client) -> None:
    assert_error(client.get("/v1/ingest/nope"), 404, "not_found")


def test_unknown_route_is_404_with_the_error_shape(client: httpx.Client) -> None:
    assert_error(client.get("/v1/no-such-route"), 404, "not_found")
    assert_error(client.post("/no/such/thing", json={}), 404, "not_found")


def test_wrong_method_is_405_with_the_error_shape(client: httpx.Client) -> None:
    assert_error(client.get("/v1/search"), 405, "method_not_allowed")


def test_unknown_index_documents_is_404(client: httpx.Client) -> None:
    assert_error(client.get("/v1/documents", params={"index": "no-such-index"}), 404,
                 "not_found")


def test_unknown_index_search_and_ask_are_404(client: httpx.Client) -> None:
    assert_error(client.post("/v1/search", json={"query": "install", "index": "no-such-index"}),
                 404, "not_found")
    assert_error(client.post("/v1/ask", json={"question": "install?", "index": "no-such-index"}),
                 404, "not_found")


# --------------------------------------------------------------------------- documents


def test_documents_lists_the_corpus_as_indexed(client: httpx.Client) -> None:
    body = checked(client.get("/v1/documents"), 200)
    assert body["index"] == "default"
    assert body["counts"] == {"pending": 0, "indexed": len(CORPUS), "failed": 0}, body["counts"]
    assert body["errors"] == {}
    docs = {d["uri"]: d for d in body["documents"]}
    assert set(docs) == set(CORPUS)
    for d in docs.values():
        assert d["state"] == "indexed", d
        assert d["error_code"] is None and d["error_message"] is None
        assert d["chunks"] >= 1
        assert d["indexed_at"] and d["modified_at"]
    assert docs["billing/pricing.md"]["title"] == "Quillmate pricing"


def test_reingesting_unchanged_corpus_changes_nothing(live_server: LiveServer) -> None:
    response = ingest(live_server, live_server.corpus)
    job = checked(response, 200)
    assert job["state"] == "succeeded", job
    assert job["report"]["documents"]["unchanged"] == len(CORPUS)
    assert job["report"]["documents"]["indexed"] == 0
    assert job["report"]["chunks_embedded"] == 0


def test_empty_file_is_failed_with_parse_empty(live_server: LiveServer, tmp_path: Path) -> None:
    folder = write_corpus(tmp_path / "with-empty", {"good.md": CORPUS["support/hours.md"]})
    (folder / "empty.md").write_text("", encoding="utf-8")
    job = checked(ingest(live_server, folder, index="failures"), 200)
    assert job["state"] == "succeeded", job
    assert job["report"]["documents"]["indexed"] == 1
    assert job["report"]["documents"]["failed"] == 1
    assert job["report"]["errors"] == {"parse.empty": 1}
    with live_server.client() as client:
        body = checked(client.get("/v1/documents", params={"index": "failures"}), 200)
        assert body["counts"] == {"pending": 0, "indexed": 1, "failed": 1}, body["counts"]
        assert body["errors"] == {"parse.empty": 1}
        docs = {d["uri"]: d for d in body["documents"]}
        assert docs["empty.md"]["state"] == "failed"
        assert docs["empty.md"]["error_code"] == "parse.empty"
        assert docs["empty.md"]["error_message"]
        assert docs["empty.md"]["chunks"] == 0
        assert docs["good.md"]["state"] == "indexed"
        failed = checked(
            client.get("/v1/documents", params={"index": "failures", "state": "failed"}), 200
        )
        assert [d["uri"] for d in failed["documents"]] == ["empty.md"]
        # The failed document is not searchable; the good one is.
        hits = checked(client.post("/v1/search", json={"query": "support hours email",
                                                       "index": "failures"}), 200)["hits"]
        assert {h["uri"] for h in hits} == {"good.md"}


# --------------------------------------------------------------------------- ingest jobs


def test_ingest_without_wait_is_a_pollable_job(live_server: LiveServer, tmp_path: Path) -> None:
    folder = write_corpus(tmp_path / "async", {
        "a.md": CORPUS["guides/install.md"], "b.md": CORPUS["policies/security.md"],
    })
    response = ingest(live_server, folder, index="async", wait=False)
    job = checked(response, 202)
    assert job["state"] in ("queued", "running"), job  # a worker takes it from the queue
    assert job["index"] == "async" and job["path"] == str(folder)
    assert re.fullmatch(r"[0-9a-f]{32}", job["id"])
    with live_server.client() as client:
        final = poll_job(client, job["id"])
        assert final["state"] == "succeeded", final
        assert final["error"] is None
        assert final["done"] == final["total"] == 2
        assert final["report"]["documents"]["indexed"] == 2
        hits = checked(client.post("/v1/search", json={"query": "encryption keys rotated",
                                                       "index": "async"}), 200)["hits"]
        assert hits[0]["uri"] == "b.md"


def _bulk_files(count: int) -> dict[str, str]:
    rng = Random(1234)
    words = ("ledger", "harbour", "violet", "compass", "lantern", "orchard", "granite",
             "meadow", "cipher", "falcon", "quartz", "tundra", "saffron", "beacon", "willow")
    files = {}
    for i in range(count):
        paragraphs = []
        for p in range(4):
            sentences = [
                " ".join(rng.choice(words) for _ in range(12)).capitalize() + "."
                for _ in range(5)
            ]
            paragraphs.append(f"## Part {p}\n\n" + " ".join(sentences))
        files[f"note-{i:03d}.md"] = (f"# Field note {i}\n\nThis note records expedition "
                                     f"code XQ{i:03d}ZED.\n\n" + "\n\n".join(paragraphs))
    return files


def test_searches_succeed_while_an_ingest_runs(live_server: LiveServer, tmp_path: Path) -> None:
    folder = write_corpus(tmp_path / "bulk", _bulk_files(80))
    job = checked(ingest(live_server, folder, index="bulk", wait=False), 202)
    queries = [
        ("How do I install Quillmate on Linux?", "guides/install.md"),
        ("How much does the Team plan cost per user?", "billing/pricing.md"),
        ("How often are encryption keys rotated?", "policies/security.md"),
    ] * 10

    def search(item: tuple[str, str]) -> tuple[int, str | None, str]:
        query, _ = item
        with live_server.client() as c:
            r = c.post("/v1/search", json={"query": query, "top_k": 3})
            state = c.get(f"/v1/ingest/{job['id']}").json()["state"]
        top = r.json()["hits"][0]["uri"] if r.status_code == 200 and r.json()["hits"] else None
        return r.status_code, top, state

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(search, queries))

    statuses = [status for status, _, _ in results]
    assert statuses == [200] * len(queries), statuses
    assert [top for _, top, _ in results] == [uri for _, uri in queries]
    # Evidence that the searches overlapped the ingest (ordering, not timing):
    overlapped = sum(state == "running" for _, _, state in results)
    with live_server.client() as client:
        final = poll_job(client, job["id"])
        assert final["state"] == "succeeded", final
        assert final["report"]["documents"]["indexed"] == 80
        assert overlapped > 0, "every search finished after the ingest; make the ingest larger"
        hits = checked(client.post("/v1/search", json={"query": "expedition code XQ042ZED",
                                                       "index": "bulk", "top_k": 3}), 200)
        assert hits["hits"][0]["uri"] == "note-042.md"
        ready = checked(client.get("/readyz"), 200)
        assert ready["ready"] is True, ready
        assert set(ready["checks"]["indexes"]) >= {"default", "bulk"}


# --------------------------------------------------------------------------- openapi


def test_openapi_lists_the_endpoints(client: httpx.Client) -> None:
    spec = checked(client.get("/openapi.json"), 200)
    paths = spec["paths"]
    assert "post" in paths["/v1/search"]
    assert "post" in paths["/v1/ask"]
    assert "post" in paths["/v1/ingest"]
    assert "get" in paths["/v1/ingest/{job_id}"]
    assert "get" in paths["/v1/documents"]
    assert "get" in paths["/healthz"]
    assert "get" in paths["/readyz"]
