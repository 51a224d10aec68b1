"""Start and follow ingests of server-side folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from groundwire.api.deps import get_app, require
from groundwire.api.schemas import ErrorResponse, IngestBody, IngestJobOut, IngestReportOut
from groundwire.app import Groundwire
from groundwire.errors import Forbidden, NotFound
from groundwire.jobs.states import JobRecord
from groundwire.security.principal import Principal

router = APIRouter(prefix="/v1/ingest", tags=["ingest"])


def job_out(job: JobRecord) -> IngestJobOut:
    report = job.result if job.state == "succeeded" and isinstance(job.result, dict) else None
    error = ({k: str(v) for k, v in job.error.items()} if job.error else None)
    return IngestJobOut(
        id=job.id, index=job.params.get("index", ""), path=job.params.get("path", ""),
        state=job.state,  # type: ignore[arg-type]
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
    _check_path_allowed(body.path, principal, gw)
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
    job = await gw.job_service().get(job_id, tenant=principal.tenant)
    if job.kind != "ingest":
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
