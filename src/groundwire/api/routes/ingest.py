"""Start and follow ingests of server-side folders."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from groundwire.api.deps import get_app, require
from groundwire.api.schemas import ErrorResponse, IngestBody, IngestJobOut, IngestReportOut
from groundwire.app import Groundwire, IngestJob
from groundwire.errors import Forbidden, NotFound
from groundwire.security.principal import Principal

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
               401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
               422: {"model": ErrorResponse}},
    summary="Ingest a folder or file on the server (background job; wait=true blocks)",
)
async def start_ingest(
    body: IngestBody, gw: Groundwire = Depends(get_app),
    principal: Principal = Depends(require("ingest")),
) -> Any:
    _check_path_allowed(body.path, principal, gw)
    job = gw.start_ingest_job(body.path, index=body.index, retry_failed=body.retry_failed,
                              tenant=principal.tenant)
    if body.wait and job.task is not None:
        await asyncio.shield(job.task)
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
    job = gw.jobs.get(job_id)
    if job is None or job.tenant != principal.tenant:
        raise NotFound(f"no ingest job {job_id}")
    return job_out(job)


def _check_path_allowed(path: str, principal: Principal, gw: Groundwire) -> None:
    """Server paths are the operator's: its admins may ingest any path; other keys only
    paths under ``security.ingest_roots`` (default: none — they use ``POST /v1/documents``)."""
    security = gw.settings.security
    if principal.is_admin and principal.tenant == security.default_tenant:
        return
    target = Path(path).expanduser().resolve()
    for root in security.ingest_roots:
        if target.is_relative_to(Path(root).expanduser().resolve()):
            return
    raise Forbidden("this key may not ingest server paths outside security.ingest_roots; "
                    "push documents with POST /v1/documents instead")
