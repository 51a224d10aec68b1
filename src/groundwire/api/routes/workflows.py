"""Workflows: inbound events (``POST /v1/workflows/{name}/events``), an event's progress,
and a workflow's review statistics. See ``groundwire/workflows/`` and docs/integrations.md.

Inbound events need an API key with the ``ask`` scope of the workflow's tenant (a Zendesk
webhook sends it as its bearer token); a workflow with a ``signing_secret`` also checks the
adapter's signature. Another tenant's workflow is 404. The event is answered 202 at once; a
background job drafts the reply. Reading events and stats needs an admin of the tenant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field

from groundwire.api.deps import get_app, require
from groundwire.api.schemas import ErrorResponse
from groundwire.app import Groundwire
from groundwire.errors import NotFound
from groundwire.security.principal import Principal
from groundwire.workflows.service import WorkflowService

router = APIRouter(prefix="/v1/workflows", tags=["workflows"])
_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
    404: {"model": ErrorResponse}, 413: {"model": ErrorResponse},
    422: {"model": ErrorResponse}, 429: {"model": ErrorResponse}}
_EVENT_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "description": "The event, in the workflow adapter's shape (generic: "
    "{id, subject, body}; zendesk: {id, ticket: {id, subject, description}}; email: "
    "{message_id, subject, text})."}}}}}


class EventAck(BaseModel):
    event_id: str
    state: str
    duplicate: bool = Field(description="True when this key was received before: nothing "
                            "new was queued.")


class WorkflowEventOut(BaseModel):
    id: str
    workflow: str
    state: str
    idempotency_key: str
    subject: str
    body: str
    sender: str | None
    reference: str | None
    question: str
    draft: str | None
    reply: str | None
    confidence: float | None
    scores: dict[str, Any] | None
    abstained: bool | None
    citations: list[dict[str, Any]]
    claimed_by: str | None
    decided_by: str | None
    edit_distance: float | None
    created_at: datetime
    drafted_at: datetime | None
    decided_at: datetime | None
    deliveries: list[dict[str, Any]] | None = None
    decisions: list[dict[str, Any]] | None = None


class WorkflowStatsOut(BaseModel):
    workflow: str
    events: dict[str, int]
    approved: int
    rejected: int
    auto_delivered: int
    approval_rate: float | None
    mean_edit_distance: float | None
    mean_decision_s: float | None
    deliveries: dict[str, int]


def event_out(row: dict[str, Any], *, deliveries: list[dict[str, Any]] | None = None,
              decisions: list[dict[str, Any]] | None = None) -> WorkflowEventOut:
    event, answer = row["event"], row["answer"] or {}
    return WorkflowEventOut(
        id=row["id"], workflow=row["workflow"], state=row["state"],
        idempotency_key=row["idempotency_key"], subject=event.get("subject", ""),
        body=event.get("body", ""), sender=event.get("sender"),
        reference=event.get("reference"), question=row["question"], draft=row["draft"],
        reply=row["reply"], confidence=row["confidence"], scores=answer.get("confidence"),
        abstained=answer.get("abstained"), citations=answer.get("citations", []),
        claimed_by=row["claimed_by"], decided_by=row["decided_by"],
        edit_distance=row["edit_distance"], created_at=row["created_at"],
        drafted_at=row["drafted_at"], decided_at=row["decided_at"],
        deliveries=deliveries, decisions=decisions)


def tenant_workflow(service: WorkflowService, name: str, principal: Principal) -> None:
    """404 for an unknown workflow and for another tenant's (no existence leak)."""
    if service.workflow(name).tenant != principal.tenant:
        raise NotFound(f"no workflow {name!r}", code="workflow.not_found")


@router.post("/{name}/events", status_code=202, response_model=EventAck, responses=_ERRORS,
             openapi_extra=_EVENT_BODY,
             summary="Receive an event: acknowledged at once, drafted by a background job")
async def post_event(
    name: str, request: Request,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
    gw: Groundwire = Depends(get_app), principal: Principal = Depends(require("ask")),
) -> EventAck:
    service = WorkflowService(gw)
    tenant_workflow(service, name, principal)
    row, created = await service.receive(name, await request.body(), request.headers,
                                         idempotency_key=idempotency_key)
    return EventAck(event_id=row["id"], state=row["state"], duplicate=not created)


@router.get("/{name}/events/{event_id}", response_model=WorkflowEventOut, responses=_ERRORS,
            summary="An event: draft, scores, state, delivery attempts and decisions")
async def get_event(name: str, event_id: str, gw: Groundwire = Depends(get_app),
                    principal: Principal = Depends(require("admin"))) -> WorkflowEventOut:
    service = WorkflowService(gw)
    tenant_workflow(service, name, principal)
    row = await service.event(event_id, workflow=name, tenant=principal.tenant)
    return event_out(row, deliveries=await gw.store.workflow_deliveries(event_id),
                     decisions=await gw.store.workflow_decisions(event_id))


@router.get("/{name}/stats", response_model=WorkflowStatsOut, responses=_ERRORS,
            summary="Review monitoring: approval rate, edit distance, time to decision")
async def workflow_stats(name: str, gw: Groundwire = Depends(get_app),
                         principal: Principal = Depends(require("admin"))) -> WorkflowStatsOut:
    service = WorkflowService(gw)
    tenant_workflow(service, name, principal)
    return WorkflowStatsOut(**await service.stats(name))
