"""Monitoring: feedback on answers, record export, monitors, alerts, content gaps and the
time series a dashboard draws (see docs/operations.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from groundwire.api.deps import get_app, require
from groundwire.api.schemas import ErrorResponse
from groundwire.app import Groundwire
from groundwire.errors import NotFound
from groundwire.security.principal import Principal

router = APIRouter(prefix="/v1", tags=["monitoring"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
    422: {"model": ErrorResponse}, 404: {"model": ErrorResponse},
    503: {"model": ErrorResponse},
}
# Records, monitors, alerts and gaps span every tenant: the installation's operator sees them.
OPERATOR = [Depends(require("operator"))]
MEDIA = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    record_id: str = Field(..., max_length=64, description="record_id of a search/ask response.")
    helpful: bool = Field(..., description="Thumbs up (true) or down (false).")
    comment: str | None = Field(None, max_length=4000, pattern=r"^[^\x00]*$",
                                 description="Free text (PII-redacted).")
    expected_passage: str | None = Field(
        None, max_length=2000, pattern=r"^[^\x00]*$",
        description="The passage that should have been cited: a chunk "
        "id or a document uri."
    )


class FeedbackOut(BaseModel):
    id: int
    record_id: str
    helpful: bool
    created_at: str


class AlertsOut(BaseModel):
    alerts: list[dict[str, Any]]


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@router.post("/feedback", status_code=201, response_model=FeedbackOut, responses=ERRORS,
             summary="Feedback on an answer or search (thumbs up/down, comment, expected "
             "passage)")
async def feedback(
    body: FeedbackBody, gw: Groundwire = Depends(get_app),
    principal: Principal = Depends(require(None)),
) -> FeedbackOut:
    monitor = gw.monitor()
    try:  # waits for a record still in this or another replica's writer queue
        record = await monitor.record(body.record_id, wait_for_peers=True)
    except NotFound:
        record = None
    if record is None or not record.principal.startswith(principal.tenant + "/"):
        raise NotFound(f"no record {body.record_id!r}")  # another tenant's id: absent
    entry = await monitor.feedback(
        body.record_id, helpful=body.helpful, comment=body.comment,
        expected_passage=body.expected_passage, principal=principal.name)
    return FeedbackOut(id=entry.id, record_id=entry.record_id, helpful=entry.helpful,
                       created_at=entry.created_at.isoformat())


@router.get("/records", responses={**ERRORS, 200: {"content": {
    "application/x-ndjson": {}, "text/csv": {}}, "description": "One record per line."}},
    summary="Export answer records as JSONL or CSV", response_class=StreamingResponse,
    dependencies=OPERATOR)
async def records(
    format: Literal["jsonl", "csv"] = Query("jsonl", description="jsonl or csv."),
    since: datetime | None = Query(None, description="Only records at or after (ISO 8601)."),
    until: datetime | None = Query(None, description="Only records before (ISO 8601)."),
    index: str | None = Query(None, description="Only this index."),
    kind: Literal["search", "ask"] | None = Query(None, description="search or ask."),
    embeddings: bool = Query(False, description="Include the query embeddings."),
    gw: Groundwire = Depends(get_app),
) -> StreamingResponse:
    chunks = await gw.monitor().export(format, since=_utc(since), until=_utc(until),
                                       index=index, kind=kind, embedding=embeddings)
    return StreamingResponse(chunks, media_type=MEDIA[format], headers={
        "Content-Disposition": f'attachment; filename="records.{format}"'})


@router.get("/alerts", response_model=AlertsOut, responses=ERRORS,
            summary="Alerts raised by the monitors, newest first", dependencies=OPERATOR)
async def alerts(
    state: Literal["open", "all"] = Query("all", description="open: only unresolved alerts."),
    limit: int = Query(100, ge=1, le=1000),
    gw: Groundwire = Depends(get_app),
) -> AlertsOut:
    found = await gw.monitor().alerts(open_only=state == "open", limit=limit)
    return AlertsOut(alerts=[a.as_json() for a in found])


@router.get("/monitor", responses=ERRORS,
            summary="Current state: every monitor per index, open alerts, record counters",
            dependencies=OPERATOR)
async def monitor(gw: Groundwire = Depends(get_app)) -> dict[str, Any]:
    return await gw.monitor().state()


@router.post("/monitor/evaluate", responses=ERRORS,
             summary="Evaluate the monitors now: open/resolve alerts and call the webhook",
             dependencies=OPERATOR)
async def evaluate(gw: Groundwire = Depends(get_app)) -> dict[str, Any]:
    return await gw.monitor().evaluate()


@router.get("/monitor/timeseries", responses=ERRORS,
            summary="Per-bucket values of one metric, computed from the answer records",
            dependencies=OPERATOR)
async def timeseries(
    metric: str = Query(..., description="requests, no_answer_rate, low_score_rate, top_score, "
                        "groundedness, latency_p50, latency_p95, cost_per_answer, "
                        "degraded_rate, feedback or negative_feedback_rate."),
    bucket: str = Query("1h", description="1m, 5m, 15m, 1h, 6h or 1d."),
    since: datetime | None = Query(None, description="Start (default: 24 hours ago)."),
    until: datetime | None = Query(None, description="End (default: now)."),
    index: str | None = Query(None),
    kind: Literal["search", "ask"] | None = Query(None),
    gw: Groundwire = Depends(get_app),
) -> dict[str, Any]:
    return await gw.monitor().timeseries(metric, bucket=bucket, since=_utc(since),
                                         until=_utc(until), index=index, kind=kind)


@router.get("/gaps", responses=ERRORS,
            summary="Content gaps: clusters of unanswered, low-score and down-voted questions",
            dependencies=OPERATOR)
async def gaps(
    index: str | None = Query(None),
    days: float | None = Query(None, gt=0, le=3650, description="Look-back (default "
                               "monitoring.gap_days)."),
    gw: Groundwire = Depends(get_app),
) -> dict[str, Any]:
    return {"clusters": await gw.content_gaps(index=index, days=days)}
