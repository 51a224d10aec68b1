"""The review queue of workflows: list, inspect, claim, edit, approve, reject.

Reviewers are admins of the workflow's tenant; events of other tenants are 404. A conflict
(claimed by someone else, already decided) is 422 ``review.conflict``. Approving queues the
signed callback delivery of the (edited) reply. See ``groundwire/workflows/review.py``.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from groundwire.api.deps import get_app, require
from groundwire.api.routes.workflows import _ERRORS, WorkflowEventOut, event_out, tenant_workflow
from groundwire.app import Groundwire
from groundwire.security.principal import Principal
from groundwire.workflows.review import MAX_REPLY_CHARS, ReviewQueue
from groundwire.workflows.service import WorkflowService

router = APIRouter(prefix="/v1/reviews", tags=["workflows"])
States = Literal["received", "review", "approved", "rejected", "delivering", "delivered",
                 "delivery_failed"]


class ReviewListOut(BaseModel):
    events: list[WorkflowEventOut]


class EditIn(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_REPLY_CHARS)


class ApproveIn(BaseModel):
    text: str | None = Field(None, min_length=1, max_length=MAX_REPLY_CHARS,
                             description="Final reply; default: the edited reply or draft.")


class RejectIn(BaseModel):
    reason: str = Field("", max_length=2000)


def _queue(gw: Groundwire) -> ReviewQueue:
    return ReviewQueue(WorkflowService(gw))


@router.get("", response_model=ReviewListOut, responses=_ERRORS,
            summary="Events of a workflow waiting for review (or in another state)")
async def list_reviews(
    workflow: str, state: States | None = "review",
    limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0),
    gw: Groundwire = Depends(get_app), principal: Principal = Depends(require("admin")),
) -> ReviewListOut:
    queue = _queue(gw)
    tenant_workflow(queue.service, workflow, principal)
    rows = await queue.queue(workflow, tenant=principal.tenant, state=state, limit=limit,
                             offset=offset)
    return ReviewListOut(events=[event_out(r) for r in rows])


@router.get("/{event_id}", response_model=WorkflowEventOut, responses=_ERRORS,
            summary="One event with its delivery attempts and decisions")
async def get_review(event_id: str, gw: Groundwire = Depends(get_app),
                     principal: Principal = Depends(require("admin"))) -> WorkflowEventOut:
    row = await WorkflowService(gw).event(event_id, tenant=principal.tenant)
    return event_out(row, deliveries=await gw.store.workflow_deliveries(event_id),
                     decisions=await gw.store.workflow_decisions(event_id))


@router.post("/{event_id}/claim", response_model=WorkflowEventOut, responses=_ERRORS,
             summary="Take an event for review")
async def claim(event_id: str, gw: Groundwire = Depends(get_app),
                principal: Principal = Depends(require("admin"))) -> WorkflowEventOut:
    return event_out(await _queue(gw).claim(event_id, actor=principal.name,
                                            tenant=principal.tenant))


@router.post("/{event_id}/edit", response_model=WorkflowEventOut, responses=_ERRORS,
             summary="Replace the reply text (the draft is kept)")
async def edit(event_id: str, body: EditIn, gw: Groundwire = Depends(get_app),
               principal: Principal = Depends(require("admin"))) -> WorkflowEventOut:
    return event_out(await _queue(gw).edit(event_id, body.text, actor=principal.name,
                                           tenant=principal.tenant))


@router.post("/{event_id}/approve", response_model=WorkflowEventOut, responses=_ERRORS,
             summary="Approve the (edited) reply and send it through the signed callback")
async def approve(event_id: str, body: ApproveIn | None = None,
                  gw: Groundwire = Depends(get_app),
                  principal: Principal = Depends(require("admin"))) -> WorkflowEventOut:
    text = body.text if body is not None else None
    return event_out(await _queue(gw).approve(event_id, text, actor=principal.name,
                                              tenant=principal.tenant))


@router.post("/{event_id}/reject", response_model=WorkflowEventOut, responses=_ERRORS,
             summary="Reject the draft: nothing is sent")
async def reject(event_id: str, body: RejectIn | None = None,
                 gw: Groundwire = Depends(get_app),
                 principal: Principal = Depends(require("admin"))) -> WorkflowEventOut:
    reason = body.reason if body is not None else ""
    return event_out(await _queue(gw).reject(event_id, reason, actor=principal.name,
                                             tenant=principal.tenant))
