"""Background jobs: list (the dead-letter list is ``state=failed``), inspect, cancel, retry.

Scopes: a key with ``ingest`` sees and controls the jobs it started; an ``admin`` key every
job of its tenant. Jobs of other tenants (and, for non-admins, of other keys) are 404.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query

from groundwire.api.authz import check_retry, visible_job
from groundwire.api.deps import get_app, require
from groundwire.api.schemas import ErrorResponse, JobListOut, JobOut
from groundwire.app import Groundwire
from groundwire.jobs.states import JobRecord
from groundwire.security.principal import Principal

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
    404: {"model": ErrorResponse}, 422: {"model": ErrorResponse}}


def job_out(job: JobRecord) -> JobOut:
    return JobOut(
        id=job.id, kind=job.kind, tenant=job.tenant, owner=job.owner,
        state=job.state, done=job.done, total=job.total,
        stage=job.stage, attempts=job.attempts, worker=job.worker, params=job.params,
        result=job.result, error=job.error, created_at=job.created_at,
        started_at=job.started_at, finished_at=job.finished_at)


async def _visible(gw: Groundwire, job_id: str, principal: Principal) -> JobRecord:
    return await visible_job(gw, principal, job_id)


@router.get("", response_model=JobListOut, responses=_ERRORS,
            summary="Jobs of this tenant, newest first (state=failed: the dead-letter list)")
async def list_jobs(
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"] | None = None,
    kind: Literal["ingest", "assessment", "version_build", "source_sync",
                  "workflow_event"] | None = None,
    limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0),
    gw: Groundwire = Depends(get_app), principal: Principal = Depends(require("ingest")),
) -> JobListOut:
    jobs = await gw.job_service().list_jobs(
        tenant=principal.tenant, state=state, kind=kind,
        owner=None if principal.is_admin else principal.name, limit=limit, offset=offset)
    return JobListOut(jobs=[job_out(j) for j in jobs])


@router.get("/{job_id}", response_model=JobOut, responses=_ERRORS,
            summary="State, progress, attempts and result of a job")
async def get_job(job_id: str, gw: Groundwire = Depends(get_app),
                  principal: Principal = Depends(require("ingest"))) -> JobOut:
    return job_out(await _visible(gw, job_id, principal))


@router.post("/{job_id}/cancel", response_model=JobOut, responses=_ERRORS,
             summary="Cancel a queued job, or ask the worker to abort a running one")
async def cancel_job(job_id: str, gw: Groundwire = Depends(get_app),
                     principal: Principal = Depends(require("ingest"))) -> JobOut:
    await _visible(gw, job_id, principal)
    return job_out(await gw.job_service().cancel(job_id))


@router.post("/{job_id}/retry", response_model=JobOut, responses=_ERRORS,
             summary="Queue a failed (dead-letter) or cancelled job again")
async def retry_job(job_id: str, gw: Groundwire = Depends(get_app),
                    principal: Principal = Depends(require("ingest"))) -> JobOut:
    job = await _visible(gw, job_id, principal)
    check_retry(job, principal, gw)  # ingest_roots (and operator-only kinds) as at start
    return job_out(await gw.job_service().retry(job_id))
