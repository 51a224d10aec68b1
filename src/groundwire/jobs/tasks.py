"""The task bodies of background jobs, and the procrastinate App they are registered on.

Each task takes only ``job_id``; its parameters live in the ``jobs`` row. A task runs in a
worker process whose job context (``additional_context``) holds the job service (``jobs``)
and the work of each job kind (``handlers``: kind -> ``Work``, given by the application,
``operations.job_handlers``); this package never imports the application. Every attempt:
mark the row running → run the work with a progress writer → succeeded (result) / queued
again or failed for good (error) / cancelled.

Retries: ``RetryStrategy`` with exponential backoff (``jobs.retry_backoff_s ** n`` s) up to
``jobs.max_attempts`` attempts in all (procrastinate's ``max_attempts`` counts retries).
Re-running an ingest is safe: unchanged documents are skipped and each batch commits
atomically (ARCHITECTURE P2, P3).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from groundwire.jobs.states import FAILED, JobRecord, state_after_failure

if TYPE_CHECKING:
    import procrastinate
    from procrastinate.job_context import JobContext

    from groundwire.settings import JobSettings

log = logging.getLogger(__name__)

WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"


class JobRows(Protocol):
    """The job rows an attempt updates (``jobs/service.py`` ``JobService`` implements it)."""

    @property
    def settings(self) -> JobSettings: ...

    async def start_attempt(self, job_id: str, *, queue_job_id: int, worker: str
                            ) -> JobRecord | None: ...

    async def progress(self, job_id: str, done: int, total: int, stage: str = "") -> None: ...

    async def succeed(self, job_id: str, result: Any) -> None: ...

    async def attempt_failed(self, job_id: str, error: dict[str, Any], *,
                             final: bool) -> None: ...

    async def cancelled(self, job_id: str) -> None: ...


def retry_strategy(settings: JobSettings) -> procrastinate.RetryStrategy:
    import procrastinate

    return procrastinate.RetryStrategy(max_attempts=settings.max_attempts - 1,
                                       exponential_wait=settings.retry_backoff_s)


def build_queue_app(conninfo: str, settings: JobSettings,
                    prepare_threshold: int | None = 5) -> procrastinate.App:
    """A procrastinate App on ``conninfo`` with a task per job kind registered (no I/O).
    ``prepare_threshold`` is the store's (``database.prepare_threshold``; None behind
    pgbouncer's transaction pooling, which cannot keep prepared statements)."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=conninfo, min_size=1, max_size=settings.concurrency + 4,
        kwargs={"application_name": "groundwire-jobs",
                "prepare_threshold": prepare_threshold}))
    retry = retry_strategy(settings)
    for kind, queue in (("ingest", "ingest"), ("assessment", "assess"),
                        ("version_build", "versions"), ("workflow_event", "workflows"),
                        ("source_sync", "sources")):
        app.task(name=f"groundwire.{kind}", queue=queue, pass_context=True,
                 retry=retry)(_task(kind))
    tick = app.task(name="groundwire.sources_tick", queue="sources", pass_context=True)
    app.periodic(cron=SOURCES_TICK_CRON, periodic_id="sources")(tick(_sources_tick))
    return app


SOURCES_TICK_CRON = "* * * * * */10"
"""How often a worker looks for named sources whose scheduled sync is due (every 10 s:
croniter's sixth field is seconds). Procrastinate defers one tick per period across every
worker on the database; the tick only queues ``source_sync`` jobs (``sources/service.py``)."""


async def _sources_tick(context: JobContext, timestamp: int) -> None:
    """The periodic tick: the application's ``sources_tick`` work, if it gives one."""
    extra = context.additional_context
    work = extra["handlers"].get("sources_tick")
    if work is not None:
        await work({"timestamp": timestamp}, ProgressWriter(extra["jobs"], "", 60.0))


Work = Callable[[dict[str, Any], "ProgressWriter"], Awaitable[Any]]
"""The work of one job kind: ``(params, progress) -> JSON-able result``."""


def _task(kind: str) -> Callable[..., Awaitable[None]]:
    async def run(context: JobContext, job_id: str) -> None:
        handlers: dict[str, Work] = context.additional_context["handlers"]
        await run_attempt(context, job_id, handlers[kind])

    run.__name__ = kind
    return run


class ProgressWriter:
    """Collects progress from the work (any thread) and writes it to the row every
    ``interval_s`` (and once at the end)."""

    def __init__(self, jobs: JobRows, job_id: str, interval_s: float) -> None:
        self._jobs, self._id, self._interval = jobs, job_id, interval_s
        self._latest: tuple[int, int, str] | None = None
        self._written: tuple[int, int, str] | None = None
        self._task: asyncio.Task[None] | None = None

    def update(self, done: int, total: int) -> None:
        self._latest = (done, total, self._latest[2] if self._latest else "")

    def stage(self, stage: str, done: int, total: int | None) -> None:
        self._latest = (done, total or 0, stage)

    async def flush(self) -> None:
        latest = self._latest
        if latest is not None and latest != self._written:
            await self._jobs.progress(self._id, *latest)
            self._written = latest

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def run_attempt(context: JobContext, job_id: str, work: Work) -> None:
    """One attempt of a job (see the module docstring)."""
    from procrastinate.job_context import AbortReason

    extra = context.additional_context
    jobs: JobRows = extra["jobs"]
    job = context.job
    assert job.id is not None
    record = await jobs.start_attempt(job_id, queue_job_id=job.id, worker=WORKER_NAME)
    if record is None:
        log.info("job %s: nothing to run (finished, cancelled or superseded)", job_id)
        return
    progress = ProgressWriter(jobs, job_id, jobs.settings.poll_interval_s / 2)
    progress.start()
    try:
        result = await work(record.params, progress)
        await progress.stop()
        await progress.flush()
    except asyncio.CancelledError:
        await progress.stop()
        if context.abort_reason() == AbortReason.USER_REQUEST:
            await jobs.cancelled(job_id)
        else:  # the worker is shutting down: back to the queue while attempts are left
            final = state_after_failure(job.attempts + 1, jobs.settings.max_attempts) == FAILED
            await jobs.attempt_failed(job_id, {"code": "job.interrupted", "message":
                                               "the worker stopped during the job"},
                                      final=final)
        raise
    except Exception as exc:
        await progress.stop()
        final = state_after_failure(job.attempts + 1, jobs.settings.max_attempts) == FAILED
        await jobs.attempt_failed(job_id, {"code": getattr(exc, "code", "internal"),
                                           "message": str(exc)}, final=final)
        log.warning("job %s attempt %d failed%s: %s", job_id, job.attempts + 1,
                    " (final)" if final else "", exc)
        raise
    await jobs.succeed(job_id, result)
