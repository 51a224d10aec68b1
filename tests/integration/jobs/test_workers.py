"""Background jobs with real ``groundwire worker`` processes on a real PostgreSQL.

* a worker SIGKILLed mid-ingest: another worker re-queues the job after the stall timeout and
  completes it; every document ends indexed exactly once with all its chunks, none pending;
* a job that always fails ends in the dead-letter list after ``max_attempts`` (with backoff
  between attempts), and retry queues it again;
* cancelling a queued job: no worker ever runs it.

The workers use the fake embedder (fast start); the subject here is the job machinery.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from workers import FAST_JOB_SETTINGS, job_row, start_worker

pytestmark = pytest.mark.integration

WORDS = (
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "iota", "kappa", "lambda",
    "omicron", "sigma", "tau", "upsilon", "omega", "harbour", "lantern", "meadow", "quarry",
    "saddle", "timber", "velvet", "willow", "orchard", "pepper", "marble", "canyon", "falcon",
    "glacier", "ember",
)


def write_docs(root: Path, count: int, words: int = 400) -> Path:
    rng = random.Random(7)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        body = " ".join(f"{rng.choice(WORDS)}{rng.randint(0, 9999)}" for _ in range(words))
        (root / f"doc{i:05d}.md").write_text(f"# Note {i}\n\n{body}.\n", encoding="utf-8")
    return root


def settings_for(db_url: str, tmp: Path, **jobs: Any) -> Any:
    from groundwire.settings import Settings

    env_jobs = {k.removeprefix("GROUNDWIRE_JOBS__").lower(): v
                for k, v in FAST_JOB_SETTINGS.items() if k.startswith("GROUNDWIRE_JOBS__")}
    return Settings(database_url=db_url, data_dir=tmp / "data",
                    embedding={"provider": "fake", "model": "fake-32"},
                    autotune={"enabled": False}, jobs={**env_jobs, **jobs})


def run(coro_fn: Callable[..., Any], *args: Any) -> Any:
    return asyncio.run(coro_fn(*args))


async def _with_app(settings: Any, work: Callable[[Any], Any]) -> Any:
    from groundwire.bootstrap import build_app

    async with build_app(settings) as gw:
        return await work(gw)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str,
             logs: Callable[[], str] = lambda: "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{logs()}")
        time.sleep(0.1)


def test_killed_worker_job_completes_on_another(database_url: str, tmp_path: Path) -> None:
    corpus = write_docs(tmp_path / "corpus", 600)
    settings = settings_for(database_url, tmp_path)
    job = run(_with_app, settings, lambda gw: gw.start_ingest_job(str(corpus), index="bulk"))

    first = start_worker(database_url, tmp_path / "w1", name="w1")
    second = None
    try:
        row = wait_for(lambda: (r := job_row(database_url, job.id))["done"] > 0 and r,
                       180, "progress from the first worker", first.log_tail)
        first.kill()
        row = job_row(database_url, job.id)
        assert row["state"] == "running", f"the job finished before the kill: {row}"
        done_at_kill = row["done"]
        assert 0 < done_at_kill < 600

        second = start_worker(database_url, tmp_path / "w2", name="w2")
        row = wait_for(lambda: (r := job_row(database_url, job.id))["state"] in
                       ("succeeded", "failed") and r, 240, "the second worker to finish",
                       second.log_tail)
    finally:
        first.kill()
        if second is not None:
            second.stop()
    assert row["state"] == "succeeded", row
    assert row["attempts"] >= 2
    documents = row["result"]["documents"]
    assert documents["indexed"] + documents.get("unchanged", 0) == 600
    assert documents.get("unchanged", 0) > 0  # the killed attempt's committed batches stayed

    with psycopg.connect(database_url) as conn:
        states = dict(conn.execute(
            "SELECT state, count(*) FROM documents WHERE index_name = 'bulk' GROUP BY state"
        ).fetchall())
        per_doc = conn.execute(
            "SELECT d.uri, count(c.id), coalesce(max(c.position), -1),"
            " count(DISTINCT c.position), count(e.content_hash)"
            " FROM documents d LEFT JOIN chunks c ON c.document_id = d.id"
            " LEFT JOIN embeddings e ON e.content_hash = c.content_hash"
            " AND e.model_id = 'fake-32'"
            " WHERE d.index_name = 'bulk' GROUP BY d.uri").fetchall()
    assert states == {"indexed": 600}, states  # nothing pending, failed or partial
    assert len(per_doc) == 600 and len({uri for uri, *_ in per_doc}) == 600
    chunk_counts = {n for _, n, *_ in per_doc}
    assert len(chunk_counts) == 1 and min(chunk_counts) >= 1, chunk_counts  # same template
    for uri, chunks, last, distinct, embedded in per_doc:
        assert distinct == chunks == last + 1, uri  # positions 0..n-1, none twice
        assert embedded == chunks, uri  # every chunk has its vector


def test_failing_job_is_dead_lettered_and_retry_requeues(database_url: str,
                                                         tmp_path: Path) -> None:
    corpus = write_docs(tmp_path / "gone", 3, words=20)
    settings = settings_for(database_url, tmp_path, max_attempts=3)
    job = run(_with_app, settings, lambda gw: gw.start_ingest_job(str(corpus), index="gone"))
    shutil.rmtree(corpus)  # every attempt fails: the path no longer exists

    worker = start_worker(database_url, tmp_path / "w", name="w",
                          env={"GROUNDWIRE_JOBS__MAX_ATTEMPTS": "3"})
    try:
        row = wait_for(lambda: (r := job_row(database_url, job.id))["state"] == "failed" and r,
                       120, "the job to be dead-lettered", worker.log_tail)
        assert row["attempts"] == 3
        assert row["error"]["code"] != ""
        with psycopg.connect(database_url) as conn:
            events = [r[0] for r in conn.execute(
                "SELECT at FROM procrastinate_events WHERE job_id = %s AND type = 'started'"
                " ORDER BY at", [row["queue_job_id"]]).fetchall()]
        assert len(events) == 3
        gaps = [(b - a).total_seconds() for a, b in zip(events, events[1:], strict=False)]
        assert all(gap >= 0.9 for gap in gaps), gaps  # backoff: 1 ** n = 1 s each

        async def dead_letter_then_retry(gw: Any) -> tuple[list[str], Any]:
            service = gw.job_service()
            dead = [j.id for j in await service.list_jobs(tenant="default", state="failed")]
            write_docs(corpus, 3, words=20)  # the path is back: the retry succeeds
            return dead, await service.retry(job.id)

        dead, retried = run(_with_app, settings, dead_letter_then_retry)
        assert dead == [job.id]
        assert retried.state == "queued" and retried.queue_job_id != row["queue_job_id"]
        row = wait_for(lambda: (r := job_row(database_url, job.id))["state"] == "succeeded"
                       and r, 120, "the retried job to succeed", worker.log_tail)
        assert row["result"]["documents"]["indexed"] == 3
    finally:
        worker.stop()


def test_cancel_queued_job_never_runs(database_url: str, tmp_path: Path) -> None:
    corpus = write_docs(tmp_path / "c", 3, words=20)
    settings = settings_for(database_url, tmp_path)

    async def enqueue_and_cancel(gw: Any) -> tuple[Any, Any]:
        service = gw.job_service()
        job = await gw.start_ingest_job(str(corpus), index="cancelled")
        kept = await gw.start_ingest_job(str(corpus), index="kept")
        cancelled = await service.cancel(job.id)
        return cancelled, kept

    cancelled, kept = run(_with_app, settings, enqueue_and_cancel)
    assert cancelled.state == "cancelled"
    worker = start_worker(database_url, tmp_path / "w", name="w", args=("--once",))
    try:
        worker.process.wait(timeout=120)
    finally:
        worker.stop()
    assert job_row(database_url, kept.id)["state"] == "succeeded", worker.log_tail()
    row = job_row(database_url, cancelled.id)
    assert row["state"] == "cancelled" and row["attempts"] == 0
    with psycopg.connect(database_url) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM indexes").fetchall()]
    assert "cancelled" not in names and "kept" in names


def test_version_build_as_a_background_job(database_url: str, tmp_path: Path) -> None:
    """`groundwire versions build --background` queues the build; a worker runs it."""
    import json
    import subprocess

    from processes import groundwire_exe
    from workers import worker_env

    corpus = write_docs(tmp_path / "v", 4, words=30)
    settings = settings_for(database_url, tmp_path)
    run(_with_app, settings, lambda gw: gw.ingest_path(corpus, index="docs"))
    queued = subprocess.run(
        [groundwire_exe(), "versions", "build", "--index", "docs", "--set",
         "chunking.max_tokens=120", "--background", "--json"], cwd=tmp_path,
        env=worker_env(database_url, tmp_path), capture_output=True, text=True, timeout=120)
    assert queued.returncode == 0, queued.stderr
    job_id = json.loads(queued.stdout)["job"]
    assert job_row(database_url, job_id)["state"] == "queued"
    worker = start_worker(database_url, tmp_path / "w", name="w", args=("--once",))
    try:
        assert worker.process.wait(timeout=120) == 0, worker.log_tail()
    finally:
        worker.stop()
    row = job_row(database_url, job_id)
    assert row["state"] == "succeeded", (row, worker.log_tail())
    assert row["kind"] == "version_build" and row["result"]["state"] == "ready"
    assert row["result"]["ingest"][0]["documents"]["indexed"] == 4


def test_job_killing_its_last_worker_is_dead_lettered(database_url: str,
                                                      tmp_path: Path) -> None:
    """A job whose last attempt dies with its worker (e.g. out of memory) is failed, not
    re-queued forever; committed batches stay, and a retry completes the rest."""
    corpus = write_docs(tmp_path / "poison", 600)
    settings = settings_for(database_url, tmp_path, max_attempts=1)
    job = run(_with_app, settings, lambda gw: gw.start_ingest_job(str(corpus), index="p"))
    one_attempt = {"GROUNDWIRE_JOBS__MAX_ATTEMPTS": "1"}
    first = start_worker(database_url, tmp_path / "w1", one_attempt, name="w1")
    second = None
    try:
        wait_for(lambda: job_row(database_url, job.id)["done"] > 0, 180,
                 "progress from the first worker", first.log_tail)
        first.kill()
        assert job_row(database_url, job.id)["state"] == "running"
        second = start_worker(database_url, tmp_path / "w2", one_attempt, name="w2")
        row = wait_for(lambda: (r := job_row(database_url, job.id))["state"] != "running"
                       and r, 120, "the stalled job to be handled", second.log_tail)
        assert row["state"] == "failed" and row["error"]["code"] == "job.stalled", row
        assert row["attempts"] == 1

        retried = run(_with_app, settings, lambda gw: gw.job_service().retry(job.id))
        assert retried.state == "queued"
        row = wait_for(lambda: (r := job_row(database_url, job.id))["state"] not in
                       ("queued", "running") and r, 240, "the retry to finish",
                       second.log_tail)
    finally:
        first.kill()
        if second is not None:
            second.stop()
    assert row["state"] == "succeeded", row
    documents = row["result"]["documents"]
    assert documents["indexed"] + documents.get("unchanged", 0) == 600
    assert documents.get("unchanged", 0) > 0  # the first attempt's batches were kept
