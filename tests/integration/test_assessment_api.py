"""``POST /v1/assessments`` / ``GET /v1/assessments/{id}`` on a real server: a background job
with visible progress whose report has the documented keys, an HTML report, an index
assessment, and 404/422 errors in the standard shape."""

from __future__ import annotations

import time

import pytest
from live_server import CORPUS, LiveServer

pytestmark = pytest.mark.integration
REPORT_KEYS = {"verdict", "score", "dimensions", "counts"}
COUNT_KEYS = {"documents", "failed", "empty", "exact_duplicate_documents",
              "near_duplicate_clusters", "pii_documents", "stale_documents",
              "no_acl_documents", "injection_suspects"}


def poll(client, job_id: str, timeout_s: float = 300) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout_s
    seen_stages = set()
    while time.time() < deadline:
        body = client.get(f"/v1/assessments/{job_id}").json()
        seen_stages.add(body["stage"])
        if body["state"] not in ("queued", "running"):
            body["seen_stages"] = seen_stages
            return body
        time.sleep(0.2)
    raise AssertionError("assessment did not finish")


def test_assessing_a_folder_in_the_background(live_server: LiveServer) -> None:
    (live_server.corpus / "copy.md").write_text(
        (live_server.corpus / "billing" / "pricing.md").read_text())
    (live_server.corpus / "contact.md").write_text(
        "# Contact\n\nWrite to jane.doe@example.com or call +1 415 555 0132 for help.\n")
    with live_server.client(timeout=120) as client:
        started = client.post("/v1/assessments", json={"path": str(live_server.corpus)})
        assert started.status_code == 202
        job = started.json()
        assert job["state"] in ("queued", "running") and job["report"] is None
        body = poll(client, job["id"])
        assert body["state"] == "succeeded", body
        report = body["report"]
        assert set(report) >= REPORT_KEYS and set(report["counts"]) >= COUNT_KEYS
        assert report["counts"]["exact_duplicate_documents"] == 1
        assert report["counts"]["pii_documents"] >= 1
        assert report["verdict"] in {"ready", "ready_with_warnings", "not_ready"}
        html = client.get(body["html_url"])
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert "jane.doe@example.com" not in html.text  # samples are masked
        again = client.get(f"/v1/assessments/{job['id']}").json()
        assert again["report"] == report


def test_assessing_the_index_and_errors(live_server: LiveServer) -> None:
    with live_server.client(timeout=300) as client:
        done = client.post("/v1/assessments", json={"index": "default", "wait": True})
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["state"] == "succeeded" and body["target"]["index"] == "default"
        assert body["report"]["counts"]["documents"] == len(CORPUS)

        both = client.post("/v1/assessments", json={"index": "default", "path": "/tmp"})
        missing = client.post("/v1/assessments", json={"path": "/no/such/folder"})
        unknown_index = client.post("/v1/assessments", json={"index": "nope"})
        unknown_job = client.get("/v1/assessments/0123456789abcdef")
    assert both.status_code == 422 and both.json()["error"]["code"] == "request.invalid"
    assert missing.status_code == 422
    assert unknown_index.status_code == 404
    assert unknown_job.status_code == 404 and unknown_job.json()["error"]["code"] == "not_found"
