"""Start and follow ingests of server-side folders."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from groundwire.api.deps import get_app
from groundwire.api.schemas import ErrorResponse, IngestBody, IngestJobOut, IngestReportOut
from groundwire.app import Groundwire, IngestJob
from groundwire.errors import NotFound

router = APIRouter(prefix="/v1/ingest", tags=["ingest"])


def job_out(job: IngestJob) -> IngestJobOut:
    return IngestJobOut(
        id=job.id, index=job.index, path=job.path, state=job.state,  # type: ignore[arg-type]
        done=job.done, total=job.total,
        report=IngestReportOut(**job.report.as_json()) if job.report else None,
        error=job.error,
    )


@router.post(
    "",
    status_code=202,
    response_model=IngestJobOut,
    responses={200: {"model": IngestJobOut, "description": "Finished (wait=true)."},
               422: {"model": ErrorResponse}},
    summary="Ingest a folder or file on the server (background job; wait=true blocks)",
)
async def start_ingest(body: IngestBody, gw: Groundwire = Depends(get_app)) -> Any:
    job = gw.start_ingest_job(body.path, index=body.index, retry_failed=body.retry_failed)
    if body.wait and job.task is not None:
        await asyncio.shield(job.task)
        return JSONResponse(job_out(job).model_dump(), status_code=200)
    return job_out(job)


@router.get("/{job_id}", response_model=IngestJobOut, responses={404: {"model": ErrorResponse}},
            summary="State and report of an ingest job")
async def get_job(job_id: str, gw: Groundwire = Depends(get_app)) -> IngestJobOut:
    job = gw.jobs.get(job_id)
    if job is None:
        raise NotFound(f"no ingest job {job_id}")
    return job_out(job)
