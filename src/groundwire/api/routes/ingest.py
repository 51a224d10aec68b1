"""Start and follow ingests of server-side folders."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from groundwire.api.authz import check_ingest_path, visible_job
from groundwire.api.deps import get_app, require
from groundwire.api.schemas import ErrorResponse, IngestBody, IngestJobOut, IngestReportOut
from groundwire.app import Groundwire
from groundwire.jobs.states import JobRecord
from groundwire.security.principal import Principal

router = APIRouter(prefix="/v1/ingest", tags=["ingest"])


def job_out(job: JobRecord) -> IngestJobOut:
    report = job.result if job.state == "succeeded" and isinstance(job.result, dict) else None
    error = ({k: str(v) for k, v in job.error.items()} if job.error else None)
    return IngestJobOut(
        id=job.id, index=job.params.get("index", ""), path=job.params.get("path", ""),
        state=job.state,
        done=job.done, total=job.total,
        report=IngestReportOut(**report) if report else None,
        error=error,
    )


@router.post(
    "",
    status_code=202,
    response_model=IngestJobOut,
    responses={200: {"model": IngestJobOut, "description": "Finished (wait=true)."},
               401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
               422: {"model": ErrorResponse}},
    summary="Ingest a folder or file on the server (background job; wait=true blocks)",
)
async def start_ingest(
    body: IngestBody, gw: Groundwire = Depends(get_app),
    principal: Principal = Depends(require("ingest")),
) -> Any:
    check_ingest_path(body.path, principal, gw)
    job = await gw.start_ingest_job(body.path, index=body.index,
                                    retry_failed=body.retry_failed, tenant=principal.tenant,
                                    owner=principal.name)
    if body.wait:  # poll the job's row until a worker has finished it
        job = await gw.job_service().wait(job.id)
        return JSONResponse(job_out(job).model_dump(), status_code=200)
    return job_out(job)


@router.get("/{job_id}", response_model=IngestJobOut,
            responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
                       404: {"model": ErrorResponse}},
            summary="State and report of an ingest job")
async def get_job(
    job_id: str, gw: Groundwire = Depends(get_app),
    principal: Principal = Depends(require("ingest")),
) -> IngestJobOut:
    # the owner check of /v1/jobs: a non-admin key sees only the ingests it started
    return job_out(await visible_job(gw, principal, job_id, kind="ingest"))

