"""Data-readiness assessments as background jobs: start, follow, fetch the HTML report."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, JSONResponse

from groundwire.api.deps import current_principal, get_app, require
from groundwire.api.schemas import AssessmentBody, AssessmentJobOut, ErrorResponse
from groundwire.app import Groundwire
from groundwire.errors import NotFound
from groundwire.jobs.states import JobRecord
from groundwire.security.principal import Principal

# Assessments read server paths and whole indexes (every tenant): the operator's tool.
router = APIRouter(prefix="/v1/assessments", tags=["assessments"],
                   dependencies=[Depends(require("operator"))])


def job_out(job: JobRecord) -> AssessmentJobOut:
    report = job.result if job.state == "succeeded" and isinstance(job.result, dict) else None
    stage = job.stage or ("queued" if job.state == "queued" else "read")
    return AssessmentJobOut(
        id=job.id, target={"path": job.params.get("path"), "index": job.params.get("index")},
        state=job.state,
        stage=stage, done=job.done, total=job.total or None, report=report,
        error={k: str(v) for k, v in job.error.items()} if job.error else None,
        html_url=f"/v1/assessments/{job.id}/report.html" if report else None,
    )


@router.post(
    "",
    status_code=202,
    response_model=AssessmentJobOut,
    responses={200: {"model": AssessmentJobOut, "description": "Finished (wait=true)."},
               422: {"model": ErrorResponse}, 404: {"model": ErrorResponse}},
    summary="Assess a server-side folder/records file or an index (background job)",
)
async def start_assessment(body: AssessmentBody, gw: Groundwire = Depends(get_app),
                           principal: Principal = Depends(current_principal)) -> Any:
    if body.index is not None:
        await gw.store.generation(body.index)  # unknown index: 404 now, not a failed job
    job = await gw.start_assessment(path=body.path, index=body.index,
                                    questions=body.questions, tenant=principal.tenant,
                                    owner=principal.name)
    if body.wait:  # poll the job's row until a worker has finished it
        job = await gw.job_service().wait(job.id)
        return JSONResponse(job_out(job).model_dump(), status_code=200)
    return job_out(job)


@router.get("/{job_id}", response_model=AssessmentJobOut,
            responses={404: {"model": ErrorResponse}},
            summary="Progress, state and report of an assessment")
async def get_assessment(job_id: str, gw: Groundwire = Depends(get_app)) -> AssessmentJobOut:
    return job_out(await gw.assessment(job_id))


@router.get("/{job_id}/report.html", response_class=HTMLResponse,
            responses={404: {"model": ErrorResponse}},
            summary="The assessment as a self-contained HTML page (opens offline)")
async def get_report_html(job_id: str, gw: Groundwire = Depends(get_app)) -> HTMLResponse:
    from groundwire.assess.html_report import render_html

    job = await gw.assessment(job_id)
    if job.state != "succeeded" or not isinstance(job.result, dict):
        raise NotFound(f"assessment {job_id} is {job.state}: no report yet")
    html = await asyncio.to_thread(render_html, job.result)
    return HTMLResponse(html)
