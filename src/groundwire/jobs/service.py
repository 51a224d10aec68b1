"""``JobService``: background jobs on the store's PostgreSQL.

Two tables: procrastinate's queue (``procrastinate_jobs``: what a worker runs next, retries
with backoff, heartbeats of workers, abort requests) and ours, ``jobs`` (migration 0009: kind,
tenant, owner, state, progress, params, result, error, attempts, worker), which the task
updates as it runs and the API shows. A job's row links to the procrastinate job of its current
run (``queue_job_id``; a retry from the dead-letter list starts a new one).

Contract:

* ``enqueue`` writes the row (``queued``) and defers the procrastinate job; any process on the
  same database may run it (``groundwire worker`` or the server's in-process worker).
* ``get``/``list`` see only ``tenant``'s jobs when a tenant is given (others: ``NotFound``).
* ``cancel``: a queued job is cancelled at once; a running one is aborted (the worker cancels
  its task between awaits; an ingest commits each batch atomically, P3) and turns
  ``cancelled`` when the worker has stopped it. Finished jobs cannot be cancelled.
* ``retry``: a ``failed`` (dead-letter) or ``cancelled`` job is queued again with a fresh set
  of attempts.
* ``wait``: polls the row until the job is finished.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import TYPE_CHECKING, Any

from groundwire.errors import InvalidRequest, NotFound
from groundwire.jobs import states
from groundwire.jobs.states import JobRecord

if TYPE_CHECKING:
    import procrastinate

    from groundwire.settings import JobSettings

QUEUE_OF_KIND = {"ingest": "ingest", "assessment": "assess", "version_build": "versions",
                 "workflow_event": "workflows", "source_sync": "sources"}
TASK_OF_KIND = {"ingest": "groundwire.ingest", "assessment": "groundwire.assessment",
                "version_build": "groundwire.version_build",
                "workflow_event": "groundwire.workflow_event",
                "source_sync": "groundwire.source_sync"}
_COLUMNS = ("id, kind, tenant, owner, state, done, total, stage, params, result, error, "
            "attempts, worker, queue_job_id, created_at, started_at, finished_at")


class JobService:
    """Enqueue, follow, cancel and retry jobs; owns the procrastinate App (its pool)."""

    def __init__(self, settings: JobSettings, *, prepare_threshold: int | None = 5) -> None:
        self.settings = settings
        self._prepare_threshold = prepare_threshold
        self._app: procrastinate.App | None = None

    # ----------------------------------------------------------------- lifecycle
    async def open(self, conninfo: str) -> None:
        """Open the queue's connection pool on ``conninfo`` (the store's database; its
        schema is applied by the store's migration step)."""
        from groundwire.jobs.tasks import build_queue_app

        app = build_queue_app(conninfo, self.settings, self._prepare_threshold)
        await app.open_async()
        self._app = app

    async def close(self) -> None:
        if self._app is not None:
            await self._app.close_async()
            self._app = None

    @property
    def app(self) -> procrastinate.App:
        if self._app is None:
            raise RuntimeError("the job service is not open")
        return self._app

    def _pool(self) -> Any:
        return self.app.connector.pool  # type: ignore[attr-defined]

    async def _rows(self, sql: str, params: Any) -> list[dict[str, Any]]:
        from psycopg.rows import dict_row

        async with self._pool().connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(sql, params)
            return await cur.fetchall() if cur.description else []

    async def _fetch(self, sql: str, params: Any) -> list[JobRecord]:
        """Run ``sql``; its rows (if any) must have the ``_COLUMNS``."""
        return [JobRecord(**row) for row in await self._rows(sql, params)]

    # ----------------------------------------------------------------- enqueue
    async def enqueue(self, kind: str, *, tenant: str, owner: str = "",
                      params: dict[str, Any]) -> JobRecord:
        if kind not in QUEUE_OF_KIND:
            raise InvalidRequest(f"unknown job kind {kind!r}")
        job_id = uuid.uuid4().hex
        await self._fetch(
            "INSERT INTO jobs (id, kind, tenant, owner, params) VALUES (%s, %s, %s, %s, %s)",
            [job_id, kind, tenant, owner, json.dumps(params)])
        return await self._defer(job_id, kind)

    async def _defer(self, job_id: str, kind: str) -> JobRecord:
        task = self.app.tasks[TASK_OF_KIND[kind]]
        queue_job_id = await task.defer_async(job_id=job_id)
        rows = await self._fetch(
            f"UPDATE jobs SET queue_job_id = %s, updated_at = now() WHERE id = %s "
            f"RETURNING {_COLUMNS}", [queue_job_id, job_id])
        return rows[0]

    # ----------------------------------------------------------------- read
    async def get(self, job_id: str, *, tenant: str | None = None) -> JobRecord:
        if not (job_id.isascii() and job_id.isalnum() and len(job_id) <= 64):
            raise NotFound(f"no job {job_id!r}")  # ids are hex: nothing else reaches SQL
        rows = await self._fetch(f"SELECT {_COLUMNS} FROM jobs WHERE id = %s", [job_id])
        if not rows or (tenant is not None and rows[0].tenant != tenant):
            raise NotFound(f"no job {job_id}")
        return rows[0]

    async def list_jobs(self, *, tenant: str | None, state: str | None = None,
                        kind: str | None = None, owner: str | None = None, limit: int = 100,
                        offset: int = 0) -> list[JobRecord]:
        """Newest first. ``state="failed"`` is the dead-letter list."""
        if state is not None and state not in states.STATES:
            raise InvalidRequest(f"unknown job state {state!r} (one of {states.STATES})")
        return await self._fetch(
            f"SELECT {_COLUMNS} FROM jobs WHERE (%(t)s::text IS NULL OR tenant = %(t)s)"
            " AND (%(s)s::text IS NULL OR state = %(s)s)"
            " AND (%(k)s::text IS NULL OR kind = %(k)s)"
            " AND (%(o)s::text IS NULL OR owner = %(o)s)"
            " ORDER BY created_at DESC, id LIMIT %(l)s OFFSET %(f)s",
            {"t": tenant, "s": state, "k": kind, "o": owner, "l": limit, "f": offset})

    async def wait(self, job_id: str, *, poll_s: float = 0.2) -> JobRecord:
        """Poll until the job is finished (succeeded, failed or cancelled). The interval
        grows from ``poll_s`` to 2 s for long jobs. Without a worker this waits as long as
        the caller does (``serve`` cancels such requests 30 s after SIGTERM)."""
        delay = poll_s
        while True:
            job = await self.get(job_id)
            if job.finished:
                return job
            await asyncio.sleep(delay)
            delay = min(delay * 1.25, max(poll_s, 2.0))

    # ----------------------------------------------------------------- control
    async def cancel(self, job_id: str, *, tenant: str | None = None) -> JobRecord:
        job = await self.get(job_id, tenant=tenant)
        if job.finished:
            raise InvalidRequest(f"job {job_id} is {job.state}: nothing to cancel",
                                 code="job.finished")
        manager = self.app.job_manager
        if job.queue_job_id is not None and await manager.cancel_job_by_id_async(
                job.queue_job_id, abort=False):
            return await self._set_state(job_id, states.CANCELLED, expect=(states.QUEUED,))
        if job.queue_job_id is not None:
            # Picked up already: ask its worker to abort it (the task marks it cancelled).
            await manager.cancel_job_by_id_async(job.queue_job_id, abort=True)
        return await self.get(job_id)

    async def retry(self, job_id: str, *, tenant: str | None = None) -> JobRecord:
        job = await self.get(job_id, tenant=tenant)
        if job.state not in (states.FAILED, states.CANCELLED):
            raise InvalidRequest(f"job {job_id} is {job.state}: only failed or cancelled jobs "
                                 "can be retried", code="job.not_retryable")
        rows = await self._rows(
            "UPDATE jobs SET state = 'queued', finished_at = NULL, error = NULL, done = 0,"
            " total = 0, queue_job_id = NULL, updated_at = now()"
            " WHERE id = %s AND state IN ('failed', 'cancelled') RETURNING id", [job_id])
        if not rows:
            raise InvalidRequest(f"job {job_id} changed state meanwhile", code="job.conflict")
        return await self._defer(job_id, job.kind)

    async def _set_state(self, job_id: str, state: str, *, expect: tuple[str, ...],
                         error: dict[str, Any] | None = None) -> JobRecord:
        await self._fetch(
            "UPDATE jobs SET state = %s, error = COALESCE(%s, error), updated_at = now(),"
            " finished_at = CASE WHEN %s THEN now() ELSE finished_at END"
            " WHERE id = %s AND state = ANY(%s)",
            [state, json.dumps(error) if error else None, state in states.FINAL, job_id,
             list(expect)])
        return await self.get(job_id)

    # ----------------------------------------------------------------- worker side
    async def start_attempt(self, job_id: str, *, queue_job_id: int, worker: str
                            ) -> JobRecord | None:
        """Mark the job running for an attempt of procrastinate job ``queue_job_id``; None
        when the row is gone, finished, or belongs to another run (nothing to do).

        ``_defer`` records the queue job's id just *after* deferring it, so a worker (of any
        replica) can pick the queue job first: the row's link is NULL until then (``enqueue``
        inserts it so, ``retry`` clears it before deferring), and this attempt claims it."""
        rows = await self._fetch(
            f"UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = %s,"
            f" queue_job_id = %s, started_at = now(), updated_at = now() WHERE id = %s"
            f" AND (queue_job_id = %s OR queue_job_id IS NULL)"
            f" AND state IN ('queued', 'running') RETURNING {_COLUMNS}",
            [worker, queue_job_id, job_id, queue_job_id])
        return rows[0] if rows else None

    async def progress(self, job_id: str, done: int, total: int, stage: str = "") -> None:
        await self._fetch(
            "UPDATE jobs SET done = %s, total = %s, stage = %s, updated_at = now()"
            " WHERE id = %s AND state = 'running'", [done, total, stage, job_id])

    async def succeed(self, job_id: str, result: Any) -> None:
        await self._fetch(
            "UPDATE jobs SET state = 'succeeded', result = %s, error = NULL, stage = 'done',"
            " finished_at = now(), updated_at = now() WHERE id = %s AND state = 'running'",
            [json.dumps(result), job_id])

    async def attempt_failed(self, job_id: str, error: dict[str, Any], *, final: bool) -> None:
        """An attempt raised: queued again (procrastinate retries it after the backoff) or,
        after the last attempt, failed (dead letter)."""
        await self._fetch(
            "UPDATE jobs SET state = %s, error = %s, worker = NULL, updated_at = now(),"
            " finished_at = CASE WHEN %s THEN now() ELSE NULL END"
            " WHERE id = %s AND state = 'running'",
            [states.FAILED if final else states.QUEUED, json.dumps(error), final, job_id])

    async def cancelled(self, job_id: str) -> None:
        await self._set_state(job_id, states.CANCELLED, expect=(states.RUNNING, states.QUEUED),
                              error={"code": "job.cancelled", "message": "cancelled on request"})

    async def requeued(self, queue_job_id: int, reason: dict[str, Any]) -> None:
        """The run of ``queue_job_id`` went back to the queue (its worker stopped or died)."""
        await self._fetch(
            "UPDATE jobs SET state = 'queued', worker = NULL, error = %s, updated_at = now()"
            " WHERE queue_job_id = %s AND state = 'running'",
            [json.dumps(reason), queue_job_id])

    async def requeue_stalled(self) -> list[int]:
        """Re-queue the procrastinate jobs whose worker sent no heartbeat for
        ``stalled_after_s`` (it died mid-job); returns their ids. A job whose last attempt
        died with its worker is failed instead (a job that kills its worker, e.g. out of
        memory, must not loop). Safe to run in several workers at once: a job another worker
        handled first is skipped."""
        from procrastinate.jobs import Status

        manager = self.app.job_manager
        handled = []
        stalled = await manager.get_stalled_jobs(
            seconds_since_heartbeat=self.settings.stalled_after_s)
        for job in stalled:
            assert job.id is not None
            reason = {"code": "job.stalled",
                      "message": f"worker {job.worker_id} stopped sending heartbeats"}
            if states.state_after_failure(job.attempts + 1, self.settings.max_attempts) \
                    == states.FAILED:
                try:
                    await manager.finish_job_by_id_async(job.id, Status.FAILED,
                                                         delete_job=False)
                except Exception:  # noqa: BLE001 - another worker failed it first
                    continue
                await self._fetch(
                    "UPDATE jobs SET state = 'failed', error = %s, worker = NULL,"
                    " finished_at = now(), updated_at = now()"
                    " WHERE queue_job_id = %s AND state IN ('queued', 'running')",
                    [json.dumps(reason), job.id])
                handled.append(job.id)
                continue
            try:
                await manager.retry_job(job)
            except Exception:  # noqa: BLE001 - another worker re-queued it first
                continue
            status = await manager.get_job_status_async(job.id)
            if status == Status.TODO:
                await self.requeued(job.id, {**reason, "message": reason["message"]
                                             + "; re-queued"})
            else:  # an abort was requested before the worker died
                await self._fetch(
                    "UPDATE jobs SET state = 'cancelled', finished_at = now(), updated_at = now()"
                    " WHERE queue_job_id = %s AND state IN ('queued', 'running')", [job.id])
            handled.append(job.id)
        return handled
