"""Two API replicas (real ``groundwire serve`` processes on 127.0.0.1) and two job workers
(``groundwire worker``) on one PostgreSQL: a separate embedded server standing in for an
operator's external database. No correctness may depend on one process's memory:

* a document ingested through one replica (``wait=true``: the job runs on one of the workers,
  the replicas run none) is searchable through the other, and one deleted through the other
  disappears from the first (derived keyword indexes follow the shared generation counter);
* one key's rate limit holds across both replicas (buckets in PostgreSQL), 429s carry
  ``Retry-After``;
* one principal's answer budget holds across both replicas under concurrent asks (reservation
  in one SQL transaction): at most N upstream LLM answers, the rest degraded as
  ``budget.exceeded``.

The fake embedder keeps the two servers' start-up short; the LLM is a scripted
OpenAI-compatible server on loopback (``support/fault_llm.py``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from live_server import (
    CORPUS,
    LiveServer,
    _stop,
    _wait_healthy,
    ingest,
    mint_key,
    spawn_serve,
    write_corpus,
)
from support.external_pg import ExternalPostgres
from support.fault_llm import FaultLLMServer
from support.llm import grounded_reply, provider
from workers import FAST_JOB_SETTINGS, Worker, job_row, start_worker

pytestmark = pytest.mark.integration

RATE_BURST = 6  # search tokens of default/limited; refills 1 a minute
BUDGET = 3  # LLM answers per day of default/budgeted
QUESTION = "How much does the Team plan cost per user per month?"


@dataclass
class Cluster:
    one: LiveServer
    two: LiveServer
    llm: FaultLLMServer
    database_url: str
    workers: tuple[Worker, Worker]

    @property
    def replicas(self) -> tuple[LiveServer, LiveServer]:
        return self.one, self.two


def _start(name: str, database_url: str, workdir: Path, env_extra: dict[str, str]
           ) -> LiveServer:
    workdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDWIRE_")}
    env.update(GROUNDWIRE_DATABASE_URL=database_url,
               GROUNDWIRE_DATABASE__APPLICATION_NAME=f"gw-{name}",
               GROUNDWIRE_DATA_DIR=str(workdir / "data"), PYTHONUNBUFFERED="1", **env_extra)
    return spawn_serve(workdir, env, db_url=database_url)


@pytest.fixture(scope="module")
def cluster(external_pg: ExternalPostgres, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Cluster]:
    database_url = external_pg.create_database("replicas")
    root = tmp_path_factory.mktemp("replicas")
    with FaultLLMServer(mode="ok") as llm:
        llm.reply = grounded_reply
        settings = {
            **FAST_JOB_SETTINGS,  # fake embedder (the workers' too), short job polling
            "GROUNDWIRE_JOBS__IN_PROCESS_WORKER": "false",  # replicas: jobs run on workers
            "GROUNDWIRE_SECURITY__DEV_MODE": "true",  # keyless requests: default/dev, unlimited
            "GROUNDWIRE_SECURITY__DEFAULT_READERS": '["*"]',  # keys of users read the corpus
            "GROUNDWIRE_SECURITY__RATE_LIMIT__PRINCIPALS": json.dumps(
                {"default/limited": {"search": {"requests_per_minute": 1,
                                                "burst": RATE_BURST}}}),
            "GROUNDWIRE_BUDGETS__PRINCIPALS": json.dumps(
                {"default/budgeted": {"requests_per_day": BUDGET}}),
            "GROUNDWIRE_CACHE__ENABLED": "false",  # every ask reaches the budget check
            "GROUNDWIRE_LLM__PROVIDERS": json.dumps([provider("scripted", llm)]),
        }
        one = _start("one", database_url, root / "one", settings)
        two = _start("two", database_url, root / "two", settings)
        workers = (start_worker(database_url, root / "w1", settings, name="w1"),
                   start_worker(database_url, root / "w2", settings, name="w2"))
        try:
            _wait_healthy(one)
            _wait_healthy(two)
            write_corpus(one.corpus, CORPUS)
            response = ingest(one, one.corpus)
            assert response.status_code == 200 and response.json()["state"] == "succeeded", (
                f"{response.text}\n{workers[0].log_tail()}\n{workers[1].log_tail()}")
            yield Cluster(one, two, llm, database_url, workers)
        finally:
            _stop(one.process)
            _stop(two.process)
            for worker in workers:
                worker.stop()


def _search(server: LiveServer, query: str, **headers: str) -> httpx.Response:
    with server.client() as client:
        return client.post("/v1/search", json={"query": query, "top_k": 5}, headers=headers)


def _uris(server: LiveServer, query: str) -> list[str]:
    response = _search(server, query)
    assert response.status_code == 200, response.text
    return [hit["uri"] for hit in response.json()["hits"]]


def test_both_replicas_serve_the_shared_database(cluster: Cluster) -> None:
    one, two = cluster.replicas
    # Each replica has loaded its own keyword snapshot of the corpus.
    assert any(u.endswith("pricing.md") for u in _uris(two, "Team plan price per user"))
    assert any(u.endswith("pricing.md") for u in _uris(one, "Team plan price per user"))

    # Ingested through one (wait=true) -> searchable through two at once.
    extra = one.workdir / "extra"
    write_corpus(extra, {"ops/backups.md": "# Backups\n\nQuillmate snapshots the "
                         "marmalade vault every night at 02:00 and keeps 35 copies.\n"})
    response = ingest(one, extra, index="default")
    assert response.status_code == 200 and response.json()["state"] == "succeeded"
    ran_on = str(job_row(cluster.database_url, response.json()["id"])["worker"])
    assert int(ran_on.rsplit(":", 1)[1]) in {w.process.pid for w in cluster.workers}
    assert any(u.endswith("backups.md") for u in _uris(two, "marmalade vault snapshots"))

    # Deleted through two -> gone from one at once (one's keyword snapshot is stale until
    # its rebuild; a deleted chunk's row is not fetched, so it is never served).
    with two.client() as client:
        documents = client.get("/v1/documents", params={"limit": 100}).json()["documents"]
        target = next(d for d in documents if d["uri"].endswith("backups.md"))
        assert client.delete(f"/v1/documents/{target['id']}").status_code == 204
    for server in (one, two):
        assert not any(u.endswith("backups.md") for u in _uris(server, "marmalade vault"))


def test_rate_limit_holds_across_replicas(cluster: Cluster) -> None:
    one, two = cluster.replicas
    key = mint_key(one, "default", "limited", ("search",))
    started = time.monotonic()
    statuses: list[int] = []
    retry_after: list[str | None] = []
    admitted_by = {one.base_url: 0, two.base_url: 0}
    for i in range(3 * RATE_BURST):
        server = cluster.replicas[i % 2]
        response = _search(server, "support hours", Authorization=f"Bearer {key}")
        statuses.append(response.status_code)
        if response.status_code == 200:
            admitted_by[server.base_url] += 1
        else:
            assert response.status_code == 429, response.text
            assert response.json()["error"]["code"] == "rate_limited"
            retry_after.append(response.headers.get("Retry-After"))
    elapsed_min = (time.monotonic() - started) / 60
    admitted = statuses.count(200)
    # One bucket for both replicas: the burst plus what refilled meanwhile (1 a minute),
    # not a burst per replica.
    assert RATE_BURST <= admitted <= RATE_BURST + int(elapsed_min) + 1
    assert admitted < 2 * RATE_BURST
    assert all(admitted_by.values())  # both replicas admitted some and refused some
    assert retry_after and all(v is not None and int(v) >= 1 for v in retry_after)
    # Other principals are not limited by this key's bucket.
    assert _search(one, "support hours").status_code == 200


def test_answer_budget_holds_across_replicas_under_concurrency(cluster: Cluster) -> None:
    one, two = cluster.replicas
    key = mint_key(one, "default", "budgeted", ("ask",))
    cluster.llm.reset()

    def ask(i: int) -> dict[str, object]:
        server = cluster.replicas[i % 2]
        with server.client() as client:
            response = client.post("/v1/ask", json={"question": QUESTION},
                                   headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200, response.text
        return dict(response.json())

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(ask, range(3 * BUDGET + 1)))
    by_llm = [a for a in answers if a["answerer"] == "llm"]
    degraded = [a for a in answers if a["degraded"]]
    assert len(by_llm) == BUDGET, [  # N answers in all, not N per replica
        {k: a[k] for k in ("answerer", "abstained", "degraded_reason", "confidence")}
        for a in answers]
    assert cluster.llm.calls == BUDGET  # and no upstream call beyond the budget
    assert len(degraded) == len(answers) - BUDGET
    assert {a["degraded_reason"] for a in degraded} == {"budget.exceeded"}
    assert all(a["answerer"] == "extractive" and not a["abstained"] for a in degraded)


def test_feedback_through_the_other_replica_finds_the_record(cluster: Cluster) -> None:
    """The answer record is written by the answering replica's background writer; feedback
    sent at once through the other replica (a load balancer's choice) still finds it."""
    one, two = cluster.replicas
    for i in range(6):
        answering, other = (one, two) if i % 2 == 0 else (two, one)
        searched = _search(answering, "support hotline hours")
        assert searched.status_code == 200
        record_id = searched.json()["record_id"]
        with other.client() as client:
            response = client.post("/v1/feedback", json={"record_id": record_id,
                                                           "helpful": i % 3 != 0})
        assert response.status_code == 201, response.text
    with two.client() as client:  # an unknown id is still a 404 (after the bounded wait)
        missing = client.post("/v1/feedback", json={"record_id": "0" * 32, "helpful": True})
    assert missing.status_code == 404
