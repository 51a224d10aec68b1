"""The /v1/jobs routes against a real ``groundwire serve`` (no in-process worker) and a real
``groundwire worker``: a job waits queued until a worker runs it; tenancy and ownership
(ingest keys see their own jobs, admins their tenant's, nobody another tenant's: 404);
cancel, retry, and the errors for finished jobs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from live_server import (
    LiveServer,
    _create_database,
    _drop_database,
    _stop,
    _wait_healthy,
    mint_key,
    spawn_serve,
    write_corpus,
)
from workers import start_worker, worker_env

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("jobs-api")
    db_name, db_url = _create_database(pg_admin_url)
    env = worker_env(db_url, workdir, {
        "GROUNDWIRE_JOBS__IN_PROCESS_WORKER": "false",
        "GROUNDWIRE_SECURITY__INGEST_ROOTS": json.dumps([str(workdir)])})
    try:
        live = spawn_serve(workdir, env, db_url=db_url)
        process = live.process
        try:
            _wait_healthy(live)
            yield live
        finally:
            _stop(process)
    finally:
        _drop_database(pg_admin_url, db_name)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_jobs_routes_tenancy_cancel_retry(server: LiveServer) -> None:
    corpus = write_corpus(server.workdir / "docs", {"a.md": "# A\n\nAlpha text here.\n",
                                                    "b.md": "# B\n\nBeta text here.\n"})
    alice = auth(mint_key(server, "acme", "alice", ("ingest",)))
    bob = auth(mint_key(server, "acme", "bob", ("ingest",)))
    admin = auth(mint_key(server, "acme", "root", ("admin",)))
    other = auth(mint_key(server, "globex", "root", ("admin",)))
    with server.client() as client:
        started = client.post("/v1/ingest", headers=alice,
                              json={"path": str(corpus), "index": "acme-docs"})
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        assert started.json()["state"] == "queued"  # no worker yet

        job = client.get(f"/v1/jobs/{job_id}", headers=alice).json()
        assert job["kind"] == "ingest" and job["tenant"] == "acme"
        assert job["owner"] == "acme/alice" and job["attempts"] == 0
        assert client.get(f"/v1/jobs/{job_id}", headers=admin).status_code == 200
        for stranger in (bob, other):
            missing = client.get(f"/v1/jobs/{job_id}", headers=stranger)
            assert missing.status_code == 404, missing.text
            assert missing.json()["error"]["code"] == "not_found"
            assert client.post(f"/v1/jobs/{job_id}/cancel",
                               headers=stranger).status_code == 404
        assert [j["id"] for j in client.get("/v1/jobs", headers=alice).json()["jobs"]] == [job_id]
        assert client.get("/v1/jobs", headers=bob).json()["jobs"] == []
        assert client.get("/v1/jobs", headers=other).json()["jobs"] == []
        assert client.get("/v1/jobs", params={"state": "bogus"}, headers=admin).status_code == 422

        cancelled = client.post(f"/v1/jobs/{job_id}/cancel", headers=alice)
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        listed = client.get("/v1/jobs", params={"state": "cancelled"}, headers=admin).json()
        assert [j["id"] for j in listed["jobs"]] == [job_id]
        retried = client.post(f"/v1/jobs/{job_id}/retry", headers=alice)
        assert retried.status_code == 200 and retried.json()["state"] == "queued"

        worker = start_worker(server.db_url, server.workdir / "worker", args=("--once",))
        try:
            assert worker.process.wait(timeout=120) == 0, worker.log_tail()
        finally:
            worker.stop()

        done = client.get(f"/v1/jobs/{job_id}", headers=alice).json()
        assert done["state"] == "succeeded", done
        assert done["result"]["documents"]["indexed"] == 2 and done["done"] == 2
        old_style = client.get(f"/v1/ingest/{job_id}", headers=alice).json()
        assert old_style["state"] == "succeeded"
        assert old_style["report"]["documents"]["indexed"] == 2
        refused = client.post(f"/v1/jobs/{job_id}/cancel", headers=alice)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "job.finished"
        refused = client.post(f"/v1/jobs/{job_id}/retry", headers=alice)
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "job.not_retryable"
        hits = client.post("/v1/search", headers=admin,
                           json={"query": "alpha", "index": "acme-docs"}).json()["hits"]
        assert any(h["uri"] == "a.md" for h in hits)


def test_server_without_worker_does_not_run_jobs(server: LiveServer) -> None:
    """Replicas set jobs.in_process_worker=false: their jobs wait for `groundwire worker`."""
    corpus = write_corpus(server.workdir / "wait", {"c.md": "# C\n\nGamma.\n"})
    operator = auth(mint_key(server, "default", "op", ("admin",)))
    with httpx.Client(base_url=server.base_url, timeout=30, headers=operator) as client:
        job = client.post("/v1/ingest", json={"path": str(corpus), "index": "w"}).json()
        time.sleep(1.5)
        assert client.get(f"/v1/jobs/{job['id']}").json()["state"] == "queued"
        assert client.post(f"/v1/jobs/{job['id']}/cancel").json()["state"] == "cancelled"
