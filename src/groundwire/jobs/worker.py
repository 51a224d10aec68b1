"""``run_worker``: run jobs until stopped (or, with ``wait=False``, until the queue is empty).

A procrastinate worker on the job service's App, with the job service and the work of each
job kind (``WorkerHost.job_handlers()``) in the job context, plus a side task that
re-queues jobs whose worker died: every few seconds it asks for
running jobs whose worker sent no heartbeat for ``jobs.stalled_after_s`` and puts them back in
the queue (``JobService.requeue_stalled``). Workers beat every ``stalled_after_s / 3`` seconds,
so a live worker's jobs are never taken from it.

Used by ``groundwire worker`` (cli/worker.py) and by ``serve``'s in-process worker
(``Groundwire.start_worker``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Protocol

from groundwire.jobs.tasks import WORKER_NAME, Work

if TYPE_CHECKING:
    from groundwire.jobs.service import JobService


class WorkerHost(Protocol):
    """What a worker runs with: an open job service and the work of each job kind (the
    application gives both)."""

    @property
    def jobs(self) -> JobService | None: ...

    def job_handlers(self) -> dict[str, Work]: ...

log = logging.getLogger(__name__)


async def requeue_stalled_forever(jobs: JobService) -> None:
    """Re-queue stalled jobs every ``stalled_after_s / 2`` seconds (a failure is logged)."""
    interval = max(jobs.settings.stalled_after_s / 2, 0.5)
    while True:
        try:
            requeued = await jobs.requeue_stalled()
            if requeued:
                log.warning("re-queued jobs of dead workers: %s", requeued)
        except Exception as exc:  # noqa: BLE001 - the next round tries again
            log.warning("stalled-job check failed: %s", exc)
        await asyncio.sleep(interval)


async def run_worker(gw: WorkerHost, *, concurrency: int | None = None,
                     queues: list[str] | None = None, wait: bool = True,
                     install_signal_handlers: bool = True,
                     shutdown_graceful_timeout: float | None = None) -> None:
    """Run jobs of ``gw``'s job service (open) with its handlers. ``wait=False``: take jobs
    until none is ready, then return. On stop, running jobs get ``shutdown_graceful_timeout``
    seconds to finish (None: as long as they need); then they are interrupted and go back to
    the queue (an attempt is counted)."""
    jobs = gw.jobs
    if jobs is None:
        raise RuntimeError("this Groundwire instance has no job service")
    cfg = jobs.settings
    reaper = asyncio.get_running_loop().create_task(requeue_stalled_forever(jobs))
    try:
        await jobs.app.run_worker_async(
            name=WORKER_NAME,
            concurrency=concurrency or cfg.concurrency,
            # procrastinate's WorkerOptions types these two without None; its Worker and
            # docs accept None (every queue / no timeout)
            queues=queues or cfg.queues or None,  # type: ignore[arg-type]
            wait=wait,
            fetch_job_polling_interval=cfg.poll_interval_s,
            abort_job_polling_interval=cfg.poll_interval_s,
            update_heartbeat_interval=max(cfg.stalled_after_s / 3, 0.2),
            stalled_worker_timeout=cfg.stalled_after_s,
            additional_context={"handlers": gw.job_handlers(), "jobs": jobs},
            install_signal_handlers=install_signal_handlers,
            shutdown_graceful_timeout=shutdown_graceful_timeout,  # type: ignore[arg-type]
        )
    finally:
        reaper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reaper
