"""Data-readiness assessments as background jobs: start, follow, fetch the HTML report."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, JSONResponse

from groundwire.api.deps import get_app, require
from groundwire.api.schemas import AssessmentBody, AssessmentJobOut, ErrorResponse
from groundwire.app import AssessmentJob, Groundwire
from groundwire.errors import NotFound

# Assessments read server paths and whole indexes (every tenant): the operator's tool.
router = APIRouter(prefix="/v1/assessments", tags=["assessments"],
                   dependencies=[Depends(require("operator"))])


def job_out(job: AssessmentJob) -> AssessmentJobOut:
    return AssessmentJobOut(
        id=job.id, target=job.target, state=job.state,  # type: ignore[arg-type]
        stage=job.stage, done=job.done, total=job.total, report=job.report, error=job.error,
        html_url=f"/v1/assessments/{job.id}/report.html" if job.report else None,
    )


@router.post(
    "",
    status_code=202,
    response_model=AssessmentJobOut,
    responses={200: {"model": AssessmentJobOut, "description": "Finished (wait=true)."},
               422: {"model": ErrorResponse}, 404: {"model": ErrorResponse}},
    summary="Assess a server-side folder/records file or an index (background job)",
)
async def start_assessment(body: AssessmentBody, gw: Groundwire = Depends(get_app)) -> Any:
    if body.index is not None:
        await gw.store.generation(body.index)  # unknown index: 404 now, not a failed job
    job = gw.start_assessment(path=body.path, index=body.index, questions=body.questions)
    if body.wait and job.task is not None:
        await asyncio.shield(job.task)
        return JSONResponse(job_out(job).model_dump(), status_code=200)
    return job_out(job)


@router.get("/{job_id}", response_model=AssessmentJobOut,
            responses={404: {"model": ErrorResponse}},
            summary="Progress, state and report of an assessment")
async def get_assessment(job_id: str, gw: Groundwire = Depends(get_app)) -> AssessmentJobOut:
    return job_out(gw.assessment(job_id))


@router.get("/{job_id}/report.html", response_class=HTMLResponse,
            responses={404: {"model": ErrorResponse}},
            summary="The assessment as a self-contained HTML page (opens offline)")
async def get_report_html(job_id: str, gw: Groundwire = Depends(get_app)) -> HTMLResponse:
    from groundwire.assess.html_report import render_html

    job = gw.assessment(job_id)
    if job.report is None:
        raise NotFound(f"assessment {job_id} is {job.state}: no report yet")
    html = await asyncio.to_thread(render_html, job.report)
    return HTMLResponse(html)
