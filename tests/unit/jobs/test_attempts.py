"""One attempt of a job (jobs/tasks.py ``run_attempt``) against a recording job service: the
row's transitions for success, a failure with attempts left, the last failure, a cancel and a
worker shutdown. The queue itself is real PostgreSQL in tests/integration/jobs."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from procrastinate.job_context import AbortReason

from groundwire.jobs.states import QUEUED, JobRecord
from groundwire.jobs.tasks import ProgressWriter, run_attempt
from groundwire.settings import JobSettings


@dataclass
class RecordingJobs:
    settings: JobSettings
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    runnable: bool = True

    async def start_attempt(self, job_id: str, *, queue_job_id: int, worker: str
                            ) -> JobRecord | None:
        self.calls.append(("start", job_id, queue_job_id))
        if not self.runnable:
            return None
        return JobRecord(id=job_id, kind="ingest", tenant="t", owner="", state=QUEUED,
                         params={"n": 3})

    async def progress(self, job_id: str, done: int, total: int, stage: str = "") -> None:
        self.calls.append(("progress", done, total, stage))

    async def succeed(self, job_id: str, result: Any) -> None:
        self.calls.append(("succeed", result))

    async def attempt_failed(self, job_id: str, error: dict[str, Any], *, final: bool) -> None:
        self.calls.append(("failed", error["code"], final))

    async def cancelled(self, job_id: str) -> None:
        self.calls.append(("cancelled",))


@dataclass
class FakeJob:
    id: int = 7
    attempts: int = 0


@dataclass
class FakeContext:
    jobs: RecordingJobs
    job: FakeJob = field(default_factory=FakeJob)
    reason: AbortReason | None = None

    @property
    def additional_context(self) -> dict[str, Any]:
        return {"jobs": self.jobs, "handlers": {}}

    def abort_reason(self) -> AbortReason | None:
        return self.reason


def attempt(work: Any, *, attempts: int = 0, max_attempts: int = 3,
            runnable: bool = True, reason: AbortReason | None = None) -> RecordingJobs:
    jobs = RecordingJobs(JobSettings(max_attempts=max_attempts, poll_interval_s=0.02),
                         runnable=runnable)
    context = FakeContext(jobs, FakeJob(attempts=attempts), reason)

    async def main() -> None:
        await run_attempt(context, "j1", work)  # type: ignore[arg-type]

    try:
        asyncio.run(main())
    except (RuntimeError, asyncio.CancelledError) as exc:  # re-raised for procrastinate
        jobs.calls.append(("raised", type(exc).__name__))
    return jobs


async def ok(params: dict[str, Any], progress: ProgressWriter) -> Any:
    for i in range(params["n"]):
        progress.update(i + 1, params["n"])
        await asyncio.sleep(0.03)
    return {"done": params["n"]}


async def boom(params: dict[str, Any], progress: ProgressWriter) -> Any:
    raise RuntimeError("disk on fire")


async def cancelled(params: dict[str, Any], progress: ProgressWriter) -> Any:
    raise asyncio.CancelledError


def test_success_writes_progress_then_result() -> None:
    calls = attempt(ok).calls
    assert calls[0] == ("start", "j1", 7)
    assert ("progress", 3, 3, "") in calls  # the final progress is always written
    assert calls[-1] == ("succeed", {"done": 3})  # and nothing raised


@pytest.mark.parametrize(("attempts", "final"), [(0, False), (1, False), (2, True)])
def test_failure_requeues_until_the_last_attempt(attempts: int, final: bool) -> None:
    calls = attempt(boom, attempts=attempts, max_attempts=3).calls
    assert calls[-2:] == [("failed", "internal", final), ("raised", "RuntimeError")]
    assert not any(c[0] == "succeed" for c in calls)


def test_user_abort_marks_cancelled() -> None:
    calls = attempt(cancelled, reason=AbortReason.USER_REQUEST).calls
    assert calls[-2:] == [("cancelled",), ("raised", "CancelledError")]


def test_shutdown_requeues_with_attempts_left_and_fails_on_the_last() -> None:
    assert attempt(cancelled, reason=AbortReason.SHUTDOWN).calls[-2] == (
        "failed", "job.interrupted", False)
    assert attempt(cancelled, attempts=2, reason=AbortReason.SHUTDOWN).calls[-2] == (
        "failed", "job.interrupted", True)


def test_a_superseded_or_finished_job_does_nothing() -> None:
    calls = attempt(boom, runnable=False).calls
    assert calls == [("start", "j1", 7)]
